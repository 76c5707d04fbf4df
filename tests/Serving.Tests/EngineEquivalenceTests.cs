using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>
/// Whatever the schedule (policy, cache on/off, chunking, mixing, pool size), every request's output must equal the
/// one-at-a-time reference, since the fake model reads its whole history back through the KV slots it was given.
/// </summary>
public sealed class EngineEquivalenceTests
{
    public static TheoryData<string, string, bool, int, bool, int> Configs => new()
    {
        { "fcfs radix", "Fcfs", false, 8192, false, 4096 },
        { "lpm radix", "Lpm", false, 8192, false, 4096 },
        { "dfs-weight radix", "DfsWeight", false, 8192, false, 4096 },
        { "lof radix", "Lof", false, 8192, false, 4096 },
        { "random radix", "Random", false, 8192, false, 4096 },
        { "lpm no-radix", "Lpm", true, 8192, false, 4096 },
        { "chunked 16", "Lpm", false, 16, false, 4096 },
        { "chunked 16 no-radix", "Fcfs", true, 16, false, 4096 },
        { "chunked 40 mixed", "Fcfs", false, 40, true, 4096 },
        { "mixed no chunking", "Lpm", false, -1, true, 4096 },
        { "small pool evicts", "Lpm", false, 8192, false, 300 },
        { "tiny pool retracts", "Fcfs", false, 8192, false, 120 },
        { "tiny pool retracts no-radix", "Fcfs", true, 24, false, 150 },
        { "tiny pool chunked mixed", "DfsWeight", false, 32, true, 130 },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Outputs_equal_the_unbatched_reference(string name, string policy, bool noRadix, int chunk, bool mixed, int pool)
    {
        _ = name;
        var h = new EngineHarness(new SchedulerOptions
        {
            SchedulePolicy = Enum.Parse<SchedulePolicyKind>(policy), DisableRadixCache = noRadix, ChunkedPrefillSize = chunk, EnableMixedChunk = mixed,
            MaxTotalTokens = pool, MaxRunningRequests = 12, ContextLength = 256, MaxPrefillTokens = 96, DecodeLogInterval = 5,
            // Tiny pools also admit aggressively (low --schedule-conservativeness) so decode really runs dry.
            ScheduleConservativeness = name.StartsWith("tiny") ? 0.1 : 1.0,
        });
        // Tiny pools get long outputs so that decode, not admission, runs out of KV.
        int maxNew = name.StartsWith("tiny") ? 64 : 24;
        foreach (var (rid, prompt, p) in EngineHarness.Workload(seed: pool + chunk, count: 40, maxNew: maxNew))
            h.Submit(rid, prompt, p);
        // A second wave arrives mid-run, so prefills interleave with decodes.
        for (int i = 0; i < 15; i++) h.Step();
        foreach (var (rid, prompt, p) in EngineHarness.Workload(seed: 99, count: 20, maxNew: maxNew))
            h.Submit("late-" + rid, prompt, p);
        h.RunToCompletion();

        // The configuration really exercised what it is named after.
        if (name.Contains("retracts")) Assert.True(h.Scheduler.TotalRetracted > 0, "expected retraction");
        if (chunk is > 0 and < 64) Assert.Contains(h.Reqs.Values, r => r.ChunkCount > 0);
        if (mixed) Assert.Contains(h.Model.Batches, b => b.Mode == Engine.ForwardMode.Mixed);
        if (!noRadix) Assert.True(h.Scheduler.Cache.HitStats.HitTokens > 0, "expected prefix cache hits");
        if (!noRadix && pool <= 300) Assert.True(((Cache.RadixCache)h.Scheduler.Cache).EvictedTokens > 0, "expected eviction");
        Assert.Contains(h.Log, l => l.StartsWith("Prefill batch. #new-seq: "));
        Assert.Contains(h.Log, l => l.StartsWith("Decode batch. #running-req: ") && l.Contains("gen throughput (token/s): "));

        foreach (var (rid, req) in h.Reqs)
        {
            Assert.True(req.IsFinished, $"{rid} did not finish");
            Assert.Equal(h.Expected(req), req.OutputIds.ToArray());
            Assert.Equal(req.OutputIds.ToArray(), h.Streamed[rid]);
        }
        h.AssertBaseline();
    }

    private static int h0MaxNew(string rid) => 20 + int.Parse(rid[1..]) * 37 % 60;

    [Fact]
    public void Retraction_under_a_tiny_pool_gives_the_outputs_of_a_big_pool()
    {
        Dictionary<string, int[]> Run(int pool, out long retracted)
        {
            // Low conservativeness: admission trusts the (small) new-token ratio and overcommits the pool.
            var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = pool, MaxRunningRequests = 16, ContextLength = 512, ChunkedPrefillSize = -1, ScheduleConservativeness = 0.1 });
            var rng = new Random(5);
            for (int i = 0; i < 16; i++)
            {
                int[] prompt = Enumerable.Range(0, rng.Next(10, 30)).Select(_ => rng.Next(1, 50)).ToArray();
                // Long outputs with ignore_eos: admission underestimates them (new_token_ratio) and decode runs dry.
                // Staggered lengths: requests finish at different times, so admission happens while others run
                // and (with the new-token ratio discount) overcommits the pool.
                int maxNew = 20 + i * 37 % 60;
                var p = i % 2 == 0
                    ? new Sampling.SamplingParams { Temperature = 0, MaxNewTokens = maxNew, IgnoreEos = true }
                    : new Sampling.SamplingParams { Temperature = 1, TopK = 10, Seed = (ulong)i, PresencePenalty = 0.5f, MaxNewTokens = maxNew, IgnoreEos = true };
                h.Submit($"r{i}", prompt, p);
            }
            h.RunToCompletion();
            h.AssertBaseline();
            retracted = h.Scheduler.TotalRetracted;
            if (retracted > 0) Assert.Contains(h.Log, l => l.StartsWith("Decode out of memory happened. #retracted_reqs:"));
            return h.Reqs.ToDictionary(kv => kv.Key, kv => kv.Value.OutputIds.ToArray());
        }

        var big = Run(8192, out long bigRetracted);
        var tiny = Run(200, out long tinyRetracted);
        Assert.Equal(0, bigRetracted);
        Assert.True(tinyRetracted > 0, "the tiny pool was expected to force retraction");
        foreach (var (rid, output) in big)
        {
            Assert.Equal(h0MaxNew(rid), output.Length);
            Assert.Equal(output, tiny[rid]);
        }
    }
}
