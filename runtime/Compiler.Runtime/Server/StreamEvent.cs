using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Server;

/// <summary>
/// One event of a request as the HTTP side sees it: a generated token (TokenId &gt;= 0) with its log-probability and
/// top alternatives, and/or the finish; or, with <see cref="Error"/>, the request failed (HTTP status
/// <see cref="ErrorStatus"/>). Built on the engine thread from data the HTTP side may read (never the engine's Req):
/// <see cref="InputLogprobs"/> is set once the prompt's log-probabilities are complete, after which the engine never
/// writes them again.
/// </summary>
internal readonly record struct StreamEvent(
    int TokenId, float Logprob, TokenLogprob[]? TopLogprobs, FinishReason? Finish, int CachedTokens, string? Error = null, int ErrorStatus = 0,
    InputLogprobs? InputLogprobs = null)
{
    public bool HasToken => TokenId >= 0;

    public static StreamEvent Failed(string error, int status) => new(-1, 0, null, FinishReason.Aborted(error), 0, error, status);
}
