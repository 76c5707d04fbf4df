using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

public sealed class EngineStressTests
{
    /// <summary>
    /// Random arrivals and aborts on a small pool with chunking, mixing and retraction, integrity-checked after
    /// every step: completed requests match the reference, aborted ones produced a prefix of it, nothing leaks.
    /// </summary>
    [Theory]
    [InlineData(11, false, false)]
    [InlineData(18, true, false)]
    [InlineData(13, false, true)]
    [InlineData(14, true, true)]
    public void Random_arrivals_and_aborts_keep_everything_consistent(int seed, bool noRadix, bool mixed)
    {
        var rng = new Random(seed);
        var h = new EngineHarness(new SchedulerOptions
        {
            MaxTotalTokens = 130, MaxRunningRequests = 6, ContextLength = 256, ChunkedPrefillSize = 24, MaxPrefillTokens = 48,
            EnableMixedChunk = mixed, DisableRadixCache = noRadix, SchedulePolicy = (SchedulePolicyKind)(seed % 5),
            ForceRetractEvery = 37, // on top of the retractions memory pressure causes
        });
        var work = EngineHarness.Workload(seed, count: 60, maxPrompt: 60, maxNew: 80);
        int next = 0;
        var aborted = new HashSet<string>();
        for (int step = 0; step < 20_000 && (next < work.Count || h.Scheduler.HasWork); step++)
        {
            // Bursts of arrivals keep the pool under pressure, so retraction happens too.
            for (int k = rng.Next(2) == 0 ? rng.Next(1, 4) : 0; k > 0 && next < work.Count; k--)
            {
                var (rid, prompt, p) = work[next++];
                h.Submit(rid, prompt, p);
            }
            if (rng.Next(12) == 0)
            {
                var live = h.Reqs.Values.Where(r => !r.IsFinished).ToList();
                if (live.Count > 0)
                {
                    var victim = live[rng.Next(live.Count)];
                    h.Engine.Abort(victim.Rid);
                    aborted.Add(victim.Rid);
                }
            }
            h.Step();
        }
        Assert.Equal(work.Count, next);
        Assert.False(h.Scheduler.HasWork);
        Assert.NotEmpty(aborted);
        Assert.True(h.Scheduler.TotalRetracted > 0, "no retraction");
        Assert.Contains(h.Reqs.Values, r => r.ChunkCount > 0);

        foreach (var (rid, req) in h.Reqs)
        {
            Assert.True(req.IsFinished, $"{rid} never finished");
            var expected = h.Expected(req);
            if (req.FinishReason!.Kind == FinishKind.Abort)
            {
                Assert.Contains(rid, aborted);
                Assert.Equal(expected.Take(req.OutputLen), req.OutputIds.ToArray());
            }
            else Assert.Equal(expected, req.OutputIds.ToArray());
            Assert.Equal(req.OutputIds.ToArray(), h.Streamed[rid]);
        }
        h.AssertBaseline();
    }
}
