using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>Percentiles, TPOT, throughputs and the per-second peaks, against values worked out by hand (numpy's
/// results for the same inputs).</summary>
public sealed class MetricsTests
{
    [Fact]
    public void Percentiles_interpolate_linearly_as_numpy()
    {
        var s = new Stats([4, 1, 3, 2]);
        Assert.Equal(2.5, s.Median, 12);
        Assert.Equal(3.7, s.Percentile(90), 12);   // np.percentile([1,2,3,4], 90)
        Assert.Equal(3.97, s.Percentile(99), 12);
        Assert.Equal(1.0, s.Percentile(0), 12);
        Assert.Equal(4.0, s.Percentile(100), 12);
        Assert.Equal(2.5, s.Mean, 12);
        Assert.Equal(Math.Sqrt(1.25), s.Std, 12);  // population std, np.std's default
        Assert.Equal(4.0, s.Max);

        var odd = new Stats([10, 0, 5, 20, 15]);
        Assert.Equal(10, odd.Median, 12);
        Assert.Equal(19.6, odd.Percentile(98), 12);

        // SGLang summarizes an empty sample (np.mean(xs or 0)) as zeros.
        var empty = new Stats([]);
        Assert.Equal((0.0, 0.0, 0.0, 0.0), (empty.Mean, empty.Median, empty.Percentile(99), empty.Std));
    }

    [Fact]
    public void Metrics_follow_SGLangs_definitions()
    {
        var outputs = new[]
        {
            Output(start: 0.0, ttft: 0.1, itls: [0.02, 0.02, 0.02], outputLen: 4, promptLen: 10),
            Output(start: 0.5, ttft: 0.3, itls: [0.05], outputLen: 2, promptLen: 20),
            Output(start: 1.2, ttft: 0.2, itls: [], outputLen: 1, promptLen: 30),
            new RequestOutput { Success = false, PromptLen = 40, OutputLen = 99, Error = "HTTP 500" },
        };
        var m = MetricsCalculator.Compute(outputs, durationSeconds: 2.0, tokenizer: null);

        Assert.Equal(3, m.Completed);
        Assert.Equal(1, m.Failed);
        Assert.Equal(60, m.TotalInput);           // failed requests count no input
        Assert.Equal(7, m.TotalOutput);
        Assert.Null(m.TotalOutputRetokenized);
        Assert.Equal(1.5, m.RequestThroughput, 12);
        Assert.Equal(30, m.InputThroughput, 12);
        Assert.Equal(3.5, m.OutputThroughput, 12);
        Assert.Equal(33.5, m.TotalThroughput, 12);
        // E2E = TTFT + sum(ITL): 0.16, 0.35, 0.2.  TPOT only where more than one token: (0.16-0.1)/3, (0.35-0.3)/1.
        Assert.Equal((0.16 + 0.35 + 0.2) / 3 * 1000, m.E2e.Mean, 9);
        Assert.Equal(200, m.E2e.Median, 9);
        Assert.Equal((0.02 + 0.05) / 2 * 1000, m.Tpot.Mean, 9);
        Assert.Equal(200, m.Ttft.Median, 9);
        Assert.Equal((0.02 * 3 + 0.05) / 4 * 1000, m.Itl.Mean, 9);
        Assert.Equal(50, m.Itl.Max, 9);
        Assert.Equal((0.16 + 0.35 + 0.2) / 2.0, m.Concurrency, 12);
    }

    [Fact]
    public void Peaks_count_tokens_and_requests_per_second_bucket()
    {
        var outputs = new[]
        {
            // Tokens at 0.1, 0.2, 0.3 and 1.4 s; in flight over [0, 1.4].
            Output(start: 0.0, ttft: 0.1, itls: [0.1, 0.1, 1.1], outputLen: 4, promptLen: 1),
            // Tokens at 0.9 and 0.95 s; in flight over [0.5, 0.95].
            Output(start: 0.5, ttft: 0.4, itls: [0.05], outputLen: 2, promptLen: 1),
            // Token at 2.5 s; in flight over [2.2, 2.5].
            Output(start: 2.2, ttft: 0.3, itls: [], outputLen: 1, promptLen: 1),
        };
        var (tokens, concurrent) = MetricsCalculator.Peaks(outputs);
        Assert.Equal(5, tokens);       // second 0 holds 0.1, 0.2, 0.3, 0.9, 0.95
        Assert.Equal(2, concurrent);   // second 0 overlaps the first two requests
        Assert.Equal((0.0, 0), MetricsCalculator.Peaks([new RequestOutput { Success = false }]));
    }

    private static RequestOutput Output(double start, double ttft, double[] itls, int outputLen, int promptLen)
    {
        var o = new RequestOutput
        {
            Success = true, StartTime = start, Ttft = ttft, Latency = ttft + itls.Sum(), OutputLen = outputLen,
            PromptLen = promptLen, OutputLenReported = true,
        };
        o.Itl.AddRange(itls);
        return o;
    }
}
