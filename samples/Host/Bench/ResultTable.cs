using System.Globalization;

namespace Compiler.Host.Bench;

/// <summary>Prints SGLang's "Serving Benchmark Result" table, line for line ("{:&lt;40} {:&lt;10}" rows, centred
/// section rules 50 wide).</summary>
internal static class ResultTable
{
    public static void Write(TextWriter w, BenchmarkMetrics m, BenchOptions options, double duration)
    {
        w.WriteLine();
        w.WriteLine(Rule(" Serving Benchmark Result ", '='));
        Row(w, "Backend:", options.Backend);
        Row(w, "Traffic request rate:", PythonFloat(options.RequestRate));
        Row(w, "Max request concurrency:", options.MaxConcurrency is { } c and > 0 ? c.ToString(CultureInfo.InvariantCulture) : "not set");
        Row(w, "Successful requests:", m.Completed);
        Row(w, "Benchmark duration (s):", F2(duration));
        Row(w, "Total input tokens:", m.TotalInput);
        Row(w, "Total input text tokens:", m.TotalInput);
        Row(w, "Total generated tokens:", m.TotalOutput);
        Row(w, "Total generated tokens (retokenized):", m.TotalOutputRetokenized?.ToString(CultureInfo.InvariantCulture) ?? "n/a");
        Row(w, "Request throughput (req/s):", F2(m.RequestThroughput));
        Row(w, "Input token throughput (tok/s):", F2(m.InputThroughput));
        Row(w, "Output token throughput (tok/s):", F2(m.OutputThroughput));
        Row(w, "Peak output token throughput (tok/s):", F2(m.MaxOutputTokensPerS));
        Row(w, "Peak concurrent requests:", m.MaxConcurrentRequests);
        Row(w, "Total token throughput (tok/s):", F2(m.TotalThroughput));
        Row(w, "Concurrency:", F2(m.Concurrency));
        Section(w, "End-to-End Latency", "E2E Latency", m.E2e, withMax: false);
        Section(w, "Time to First Token", "TTFT", m.Ttft, withMax: false);
        Section(w, "Time per Output Token (excl. 1st token)", "TPOT", m.Tpot, withMax: false);
        Section(w, "Inter-Token Latency", "ITL", m.Itl, withMax: true);
        w.WriteLine(new string('=', 50));
    }

    private static void Section(TextWriter w, string title, string name, LatencySummary s, bool withMax)
    {
        w.WriteLine(Rule(title, '-'));
        Row(w, $"Mean {name} (ms):", F2(s.Mean));
        Row(w, $"Median {name} (ms):", F2(s.Median));
        Row(w, $"P90 {name} (ms):", F2(s.P90));
        Row(w, $"P95 {name} (ms):", F2(s.P95));
        Row(w, $"P99 {name} (ms):", F2(s.P99));
        if (withMax) Row(w, $"Max {name} (ms):", F2(s.Max));
    }

    private static void Row(TextWriter w, string label, object value) =>
        w.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0,-40} {1,-10}", label, value));

    /// <summary>Python's "{s:{c}^50}": the extra fill character of an odd split goes right.</summary>
    public static string Rule(string title, char fill)
    {
        int pad = Math.Max(0, 50 - title.Length), left = pad / 2;
        return new string(fill, left) + title + new string(fill, pad - left);
    }

    private static string F2(double v) => v.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Python's str(float): "inf", "16.0", "0.5".</summary>
    public static string PythonFloat(double v)
    {
        if (double.IsPositiveInfinity(v)) return "inf";
        if (double.IsNaN(v)) return "nan";
        string r = v.ToString("R", CultureInfo.InvariantCulture);
        return r.Contains('.') || r.Contains('E') ? r : r + ".0";
    }
}
