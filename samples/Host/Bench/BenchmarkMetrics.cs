namespace Compiler.Host.Bench;

/// <summary>SGLang's BenchmarkMetrics: totals, throughputs, and latency summaries in milliseconds.</summary>
internal sealed class BenchmarkMetrics
{
    public int Completed { get; init; }
    public int Failed { get; init; }
    public long TotalInput { get; init; }
    public long TotalOutput { get; init; }
    /// <summary>Null without a tokenizer.</summary>
    public long? TotalOutputRetokenized { get; init; }
    public double RequestThroughput { get; init; }
    public double InputThroughput { get; init; }
    public double OutputThroughput { get; init; }
    public double TotalThroughput { get; init; }
    /// <summary>Most output tokens (chunks) received in any one-second bucket from the first send.</summary>
    public double MaxOutputTokensPerS { get; init; }
    /// <summary>Most requests in flight during any one-second bucket.</summary>
    public int MaxConcurrentRequests { get; init; }
    /// <summary>Sum of E2E latencies over the duration: the mean number of requests in flight.</summary>
    public double Concurrency { get; init; }
    public required LatencySummary E2e { get; init; }
    public required LatencySummary Ttft { get; init; }
    public required LatencySummary Tpot { get; init; }
    public required LatencySummary Itl { get; init; }
}
