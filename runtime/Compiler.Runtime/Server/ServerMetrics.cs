using System.Diagnostics;
using System.Text;

namespace Compiler.Runtime.Server;

/// <summary>
/// The Prometheus metrics of /metrics under SGLang's names, label and buckets (TokenizerMetricsCollector and the
/// scheduler gauges), so SGLang's Grafana dashboards work unchanged. Written by the engine thread only.
/// </summary>
internal sealed class ServerMetrics
{
    private static readonly double[] TtftBuckets = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400];
    private static readonly double[] E2eBuckets = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400];
    private static readonly double[] ItlBuckets =
        [0.002, 0.004, 0.006, 0.008, 0.010, 0.015, 0.020, 0.025, 0.030, 0.035, 0.040, 0.060, 0.080, 0.100, 0.200, 0.400, 0.600, 0.800, 1.000, 2.000, 4.000, 6.000, 8.000];

    private readonly string _labels;
    private long _promptTokens, _generationTokens, _cachedTokens, _requests, _abortedRequests;
    private int _running, _queued;
    private double _tokenUsage, _cacheHitRate;

    public ServerMetrics(string modelName)
    {
        _labels = $"model_name=\"{modelName.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"";
    }

    public PrometheusHistogram TimeToFirstToken { get; } = new("sglang:time_to_first_token_seconds", "Histogram of time to first token in seconds.", TtftBuckets);
    public PrometheusHistogram InterTokenLatency { get; } = new("sglang:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", ItlBuckets);
    public PrometheusHistogram E2eRequestLatency { get; } = new("sglang:e2e_request_latency_seconds", "Histogram of End-to-end request latency in seconds", E2eBuckets);

    public long PromptTokens => Volatile.Read(ref _promptTokens);
    public long GenerationTokens => Volatile.Read(ref _generationTokens);
    public long Requests => Volatile.Read(ref _requests);
    public long AbortedRequests => Volatile.Read(ref _abortedRequests);

    public void ObserveFirstToken(long arrivalTimestamp, long now) => TimeToFirstToken.Observe(Seconds(arrivalTimestamp, now));

    public void ObserveNextToken(long previousTimestamp, long now) => InterTokenLatency.Observe(Seconds(previousTimestamp, now));

    /// <summary>SGLang's observe_one_finished_request (aborted requests count as requests and as aborted).</summary>
    public void ObserveFinished(int promptTokens, int generationTokens, int cachedTokens, double e2eSeconds, bool aborted)
    {
        Interlocked.Add(ref _promptTokens, promptTokens);
        Interlocked.Add(ref _generationTokens, generationTokens);
        Interlocked.Add(ref _cachedTokens, cachedTokens);
        Interlocked.Increment(ref _requests);
        if (aborted) Interlocked.Increment(ref _abortedRequests);
        E2eRequestLatency.Observe(e2eSeconds);
    }

    /// <summary>Scheduler gauges, published after every step.</summary>
    public void SetSchedulerGauges(int running, int queued, double tokenUsage, double cacheHitRate)
    {
        Volatile.Write(ref _running, running);
        Volatile.Write(ref _queued, queued);
        Volatile.Write(ref _tokenUsage, tokenUsage);
        Volatile.Write(ref _cacheHitRate, cacheHitRate);
    }

    public int NumRunningReqs => Volatile.Read(ref _running);
    public int NumQueueReqs => Volatile.Read(ref _queued);

    public static double Seconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalSeconds;

    /// <summary>The Prometheus text exposition (format 0.0.4).</summary>
    public string Render()
    {
        var sb = new StringBuilder(8192);
        Counter(sb, "sglang:prompt_tokens_total", "Number of prefill tokens processed.", PromptTokens);
        Counter(sb, "sglang:generation_tokens_total", "Number of generation tokens processed.", GenerationTokens);
        Counter(sb, "sglang:cached_tokens_total", "Number of cached prompt tokens.", Volatile.Read(ref _cachedTokens));
        Counter(sb, "sglang:num_requests_total", "Number of requests processed.", Requests);
        Counter(sb, "sglang:num_aborted_requests_total", "Number of requests aborted.", AbortedRequests);
        Gauge(sb, "sglang:num_running_reqs", "The number of running requests.", NumRunningReqs);
        Gauge(sb, "sglang:num_queue_reqs", "The number of requests in the waiting queue.", NumQueueReqs);
        Gauge(sb, "sglang:token_usage", "The token usage.", Volatile.Read(ref _tokenUsage));
        Gauge(sb, "sglang:cache_hit_rate", "The prefix cache hit rate.", Volatile.Read(ref _cacheHitRate));
        TimeToFirstToken.Render(sb, _labels);
        InterTokenLatency.Render(sb, _labels);
        E2eRequestLatency.Render(sb, _labels);
        return sb.ToString();
    }

    private void Counter(StringBuilder sb, string name, string help, double value) => Sample(sb, name, help, "counter", value);

    private void Gauge(StringBuilder sb, string name, string help, double value) => Sample(sb, name, help, "gauge", value);

    private void Sample(StringBuilder sb, string name, string help, string type, double value)
    {
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n');
        sb.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        sb.Append(name).Append('{').Append(_labels).Append("} ").Append(PrometheusHistogram.Format(value)).Append('\n');
    }
}
