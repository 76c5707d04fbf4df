using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// One streamed event of a request: a generated token (TokenId >= 0) and/or its finish. Passed by value to the
/// request's callback so streaming allocates nothing.
/// </summary>
internal readonly record struct ReqOutput(Req Req, int TokenId, float Logprob, FinishReason? Finish)
{
    public bool HasToken => TokenId >= 0;
}
