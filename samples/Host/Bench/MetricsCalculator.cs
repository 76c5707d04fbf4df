namespace Compiler.Host.Bench;

/// <summary>SGLang's calculate_metrics over successful requests: TPOT = (E2E - TTFT) / (output tokens - 1) for
/// outputs over one token; ITLs pooled over all requests; peak output throughput and peak concurrency from
/// one-second buckets counted from the earliest send.</summary>
internal static class MetricsCalculator
{
    /// <summary>Fills in the output length of requests whose server reported none: the tokenizer's count of the
    /// generated text when there is a tokenizer, else the requested length (SGLang's fallback; exact under
    /// ignore_eos).</summary>
    public static void ResolveOutputLens(IEnumerable<RequestOutput> outputs, IBenchTokenizer? tokenizer)
    {
        if (tokenizer is null) return;
        foreach (var o in outputs)
            if (o.Success && !o.OutputLenReported)
                o.OutputLen = tokenizer.Encode(o.GeneratedText, addSpecialTokens: false).Length;
    }

    public static BenchmarkMetrics Compute(IReadOnlyList<RequestOutput> outputs, double durationSeconds, IBenchTokenizer? tokenizer)
    {
        long totalInput = 0, totalOutput = 0, retokenized = 0;
        int completed = 0;
        var ttfts = new List<double>();
        var tpots = new List<double>();
        var itls = new List<double>();
        var e2es = new List<double>();
        foreach (var o in outputs)
        {
            if (!o.Success) continue;
            completed++;
            totalInput += o.PromptLen;
            totalOutput += o.OutputLen;
            if (tokenizer is not null) retokenized += tokenizer.Encode(o.GeneratedText, addSpecialTokens: false).Length;
            if (o.OutputLen > 1) tpots.Add((o.Latency - o.Ttft) / (o.OutputLen - 1));
            itls.AddRange(o.Itl);
            ttfts.Add(o.Ttft);
            e2es.Add(o.Latency);
        }
        var (peakTokens, peakConcurrency) = Peaks(outputs);
        double d = durationSeconds;
        return new BenchmarkMetrics
        {
            Completed = completed,
            Failed = outputs.Count - completed,
            TotalInput = totalInput,
            TotalOutput = totalOutput,
            TotalOutputRetokenized = tokenizer is null ? null : retokenized,
            RequestThroughput = completed / d,
            InputThroughput = totalInput / d,
            OutputThroughput = totalOutput / d,
            TotalThroughput = (totalInput + totalOutput) / d,
            MaxOutputTokensPerS = peakTokens,
            MaxConcurrentRequests = peakConcurrency,
            Concurrency = e2es.Sum() / d,
            E2e = LatencySummary.FromSeconds(e2es),
            Ttft = LatencySummary.FromSeconds(ttfts),
            Tpot = LatencySummary.FromSeconds(tpots),
            Itl = LatencySummary.FromSeconds(itls),
        };
    }

    /// <summary>Per-second buckets from the earliest successful send: output chunks received in each (first chunk
    /// at start + TTFT, each later one an ITL on), and requests in flight at any time within each.</summary>
    public static (double PeakTokensPerSecond, int PeakConcurrent) Peaks(IReadOnlyList<RequestOutput> outputs)
    {
        double min = double.MaxValue, max = double.MinValue;
        foreach (var o in outputs)
        {
            if (!o.Success) continue;
            min = Math.Min(min, o.StartTime);
            max = Math.Max(max, o.StartTime + o.Latency);
        }
        if (min == double.MaxValue) return (0, 0);
        int buckets = (int)Math.Ceiling(max - min) + 1;
        var tokens = new int[buckets];
        var concurrent = new int[buckets];
        foreach (var o in outputs)
        {
            if (!o.Success) continue;
            double t = o.StartTime + o.Ttft;
            Count(tokens, t - min);
            foreach (double gap in o.Itl)
            {
                t += gap;
                Count(tokens, t - min);
            }
            int first = (int)(o.StartTime - min), last = (int)(o.StartTime + o.Latency - min);
            for (int s = first; s <= last && s < buckets; s++) concurrent[s]++;
        }
        return (tokens.Max(), concurrent.Max());
    }

    private static void Count(int[] buckets, double offset)
    {
        int bucket = (int)offset;
        if (bucket >= 0 && bucket < buckets.Length) buckets[bucket]++;
    }
}
