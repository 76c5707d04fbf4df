namespace Compiler.Runtime.Scheduling;

internal enum FinishKind
{
    /// <summary>max_new_tokens reached (OpenAI "length").</summary>
    Length,
    /// <summary>A stop token / eos was generated, or a stop string matched (OpenAI "stop").</summary>
    Stop,
    /// <summary>Cancelled by the client or the server.</summary>
    Abort,
}

/// <summary>Why a request finished; MatchedTokenId / MatchedStop say which stop condition fired.</summary>
internal sealed record FinishReason(FinishKind Kind, int? MatchedTokenId = null, string? MatchedStop = null, string? Message = null)
{
    public static FinishReason Length { get; } = new(FinishKind.Length);
    public static FinishReason Aborted(string message) => new(FinishKind.Abort, Message: message);
}
