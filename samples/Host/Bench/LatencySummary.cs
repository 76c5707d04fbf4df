namespace Compiler.Host.Bench;

/// <summary>One latency's summary, in milliseconds.</summary>
internal sealed record LatencySummary(double Mean, double Median, double Std, double P90, double P95, double P99, double Max)
{
    public static LatencySummary FromSeconds(IEnumerable<double> seconds)
    {
        var s = new Stats(seconds);
        return new(s.Mean * 1000, s.Median * 1000, s.Std * 1000, s.Percentile(90) * 1000, s.Percentile(95) * 1000,
            s.Percentile(99) * 1000, s.Max * 1000);
    }
}
