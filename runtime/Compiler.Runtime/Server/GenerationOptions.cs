using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Server;

/// <summary>What one API call asks for beyond the prompt: sampling (n included) and how the output is returned.</summary>
internal sealed record GenerationOptions
{
    public required SamplingParams Sampling { get; init; }
    /// <summary>max_tokens as the client gave it (null: as many as the context leaves).</summary>
    public int? RequestedMaxTokens { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public bool SkipSpecialTokens { get; init; } = true;
    /// <summary>Keep a matched stop token's text in the output (SGLang's no_stop_trim).</summary>
    public bool NoStopTrim { get; init; }
    public bool Echo { get; init; }
}
