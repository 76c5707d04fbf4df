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
    [InlineData(12, true, false)]
    [InlineData(13, false, true)]
    [InlineData(14, true, true)]
    public void Random_arrivals_and_aborts_keep_everything_consistent(int seed, bool noRadix, bool mixed)
    {
        var rng = new Random(seed);
        var h = new EngineHarness(new SchedulerOptions
        {
            MaxTotalTokens = 180, MaxRunningRequests = 6, ContextLength = 256, ChunkedPrefillSize = 24, MaxPrefillTokens = 48,
            EnableMixedChunk = mixed, DisableRadixCache = noRadix, SchedulePolicy = (SchedulePolicyKind)(seed % 5),
        });
        var work = EngineHarness.Workload(seed, count: 60, maxPrompt: 70, maxNew: 50);
        int next = 0;
        var aborted = new HashSet<string>();
        for (int step = 0; step < 20_000 && (next < work.Count || h.Scheduler.HasWork); step++)
        {
            if (next < work.Count && rng.Next(3) == 0)
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
