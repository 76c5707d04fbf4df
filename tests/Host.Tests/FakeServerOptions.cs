namespace Host.Tests;

/// <summary>How the fake server answers: when the first chunk goes out, the gap between later chunks, how many
/// tokens each chunk carries, whether usage is reported, and which requests fail.</summary>
public sealed class FakeServerOptions
{
    public TimeSpan FirstTokenDelay { get; init; } = TimeSpan.FromMilliseconds(100);
    public TimeSpan TokenDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    /// <summary>Tokens per chunk (the sglang backend reports cumulative counts, so a chunk may carry several).</summary>
    public int TokensPerChunk { get; init; } = 1;
    /// <summary>Send usage / meta_info completion_tokens.</summary>
    public bool ReportUsage { get; init; } = true;
    /// <summary>Every Nth request (1-based arrival order) gets HTTP 500; 0: none.</summary>
    public int FailEvery { get; init; }
}
