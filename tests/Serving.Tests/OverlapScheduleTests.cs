using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;
using static Compiler.Runtime.Serving.Tests.EngineHarness;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>
/// The overlapped loop (a decode step built and launched before the previous one's results are processed) must be
/// indistinguishable from the sequential one: the same event stream, in the same order, the same scheduling decisions
/// (retractions, cache hits, step count), the KV pool back to baseline, integrity after every step.
/// </summary>
public sealed class OverlapScheduleTests
{
    public static TheoryData<string, bool, int, bool, int, bool> Configs => new()
    {
        // name, noRadix, chunk, mixed, pool, sampled (some requests sample on the host: those steps drain)
        { "radix greedy", false, 8192, false, 4096, false },
        { "no-radix greedy", true, 8192, false, 4096, false },
        { "radix with host sampling", false, 8192, false, 4096, true },
        { "chunked 16", false, 16, false, 4096, false },
        { "chunked 40 mixed", false, 40, true, 4096, false },
        { "mixed no chunking sampled", false, -1, true, 4096, true },
        { "small pool evicts", false, 8192, false, 300, false },
        { "tiny pool retracts", false, 8192, false, 120, false },
        { "tiny pool retracts no-radix", true, 24, false, 150, false },
        { "tiny pool chunked mixed", false, 32, true, 130, true },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Overlapped_engine_streams_exactly_what_the_sequential_one_does(string name, bool noRadix, int chunk, bool mixed, int pool, bool sampled)
    {
        var options = new SchedulerOptions
        {
            DisableRadixCache = noRadix, ChunkedPrefillSize = chunk, EnableMixedChunk = mixed, MaxTotalTokens = pool,
            MaxRunningRequests = 12, ContextLength = 256, MaxPrefillTokens = 96, DecodeLogInterval = 5,
            ScheduleConservativeness = name.StartsWith("tiny") ? 0.1 : 1.0,
        };
        int maxNew = name.StartsWith("tiny") ? 64 : 40;
        var off = Run(options, OverlapMode.Off, sampled, maxNew, out _);
        var inline = Run(options, OverlapMode.Inline, sampled, maxNew, out var inlineCalls);
        var worker = Run(options, OverlapMode.Worker, sampled, maxNew, out _);

        Assert.Equal(off.Events, inline.Events);
        Assert.Equal(off.Events, worker.Events);
        foreach (var h in new[] { inline, worker })
        {
            // The same decisions, not just the same tokens.
            Assert.Equal(off.Engine.Steps, h.Engine.Steps);
            Assert.Equal(off.Scheduler.TotalRetracted, h.Scheduler.TotalRetracted);
            Assert.Equal(off.Scheduler.Cache.HitStats.HitTokens, h.Scheduler.Cache.HitStats.HitTokens);
            Assert.Equal(off.Reqs.Values.Select(r => r.CachedTokens), h.Reqs.Values.Select(r => r.CachedTokens));
            Assert.Equal(0, h.Overlap!.InFlight);
        }
        foreach (var (rid, req) in off.Reqs)
        {
            Assert.True(req.IsFinished, $"{rid} did not finish");
            if (req.FinishReason!.Kind != FinishKind.Abort && req.FinishReason.MatchedStop == null)
                Assert.Equal(off.Expected(req), req.OutputIds.ToArray());
        }
        // The workload exercised what it is meant to: overlap happened, finishes of every kind, retraction where named.
        int minOverlapped = name.StartsWith("tiny") ? 1 : 10;
        Assert.True(inlineCalls.OverlappedLaunches >= minOverlapped, $"only {inlineCalls.OverlappedLaunches} launches overlapped");
        Assert.True(inlineCalls.Placeholders >= minOverlapped);
        var kinds = off.Finished.Values.Select(f => (f.Kind, f.MatchedTokenId != null, f.MatchedStop != null)).ToHashSet();
        Assert.Contains((FinishKind.Length, false, false), kinds);
        Assert.Contains((FinishKind.Stop, true, false), kinds);
        Assert.Contains((FinishKind.Stop, false, true), kinds);
        Assert.Contains(off.Finished.Values, f => f.Kind == FinishKind.Abort);
        if (name.Contains("retracts")) Assert.True(off.Scheduler.TotalRetracted > 0, "expected retraction");
        if (mixed) Assert.Contains(off.Model.Batches, b => b.Mode == ForwardMode.Mixed);
        if (chunk is > 0 and < 64) Assert.Contains(off.Reqs.Values, r => r.ChunkCount > 0);
    }

    /// <summary>
    /// Two waves of requests (greedy with EOS, stop token ids, n = 2; some sampled), aborts and a stop-string finish
    /// issued between steps, including for requests whose next step is already launched.
    /// </summary>
    private static EngineHarness Run(SchedulerOptions options, OverlapMode mode, bool sampled, int maxNew, out RecordingOverlapRunner calls)
    {
        RecordingOverlapRunner? recorder = null;
        var h = new EngineHarness(options, overlap: mode, wrap: a => recorder = new RecordingOverlapRunner(a));
        calls = recorder!;
        var rng = new Random(7);
        void Wave(string prefix, int count)
        {
            for (int i = 0; i < count; i++)
            {
                int[] prompt = [.. Enumerable.Range(0, rng.Next(2, 40)).Select(_ => rng.Next(1, 50))];
                if (i % 3 == 0) prompt = [3, 1, 4, 1, 5, 9, 2, 6, .. prompt]; // shared stem: prefix hits
                // Host-sampled requests are short: while one runs, every step drains.
                var p = sampled && i % 6 == 1
                    ? new SamplingParams { Temperature = 0.8f, TopK = 10, MaxNewTokens = rng.Next(1, 8), Seed = (ulong)i }
                    : new SamplingParams
                    {
                        Temperature = 0, MaxNewTokens = rng.Next(1, maxNew), IgnoreEos = i % 5 == 0,
                        StopTokenIds = i % 2 == 0 ? [rng.Next(1, 50), rng.Next(1, 50)] : [],
                        N = i % 7 == 3 ? 2 : 1,
                    };
                h.Submit($"{prefix}{i}", prompt, p);
            }
        }
        Wave("r", 30);
        for (int step = 0; step < 100_000; step++)
        {
            if (step == 9) Wave("late-r", 15);
            // Fixed rids (the state at a step boundary differs: the overlapped loop is one step behind in processing).
            foreach (string rid in step switch
            {
                4 => ["r10", "r11"],
                11 => ["r12", "r13", "late-r0"],
                18 => ["late-r3"],
                25 => ["r14", "late-r5"],
                _ => Array.Empty<string>(),
            })
                h.Engine.Abort(rid);
            if (step == 7)
                for (int i = 1; i <= 6; i++) h.Engine.FinishWithStopString($"r{i}", "</s>");
            bool ran = h.Step();
            if (!ran && !h.Engine.HasWork) break;
        }
        Assert.False(h.Engine.HasWork);
        h.AssertBaseline();
        return h;
    }

    [Fact]
    public void Decode_steps_are_launched_before_the_previous_one_is_waited_for()
    {
        RecordingOverlapRunner? rec = null;
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 2048, MaxRunningRequests = 8, ContextLength = 256 },
            overlap: OverlapMode.Inline, wrap: a => rec = new RecordingOverlapRunner(a));
        for (int i = 0; i < 4; i++) h.Submit($"r{i}", [1 + i, 2, 3], new SamplingParams { Temperature = 0, MaxNewTokens = 10, IgnoreEos = true });
        h.RunToCompletion();

        // Prefill launched and drained (its requests join the decode batch only once processed), then every decode
        // step k + 1 is launched before step k is waited for: L0 W0 L1 L2 W1 L3 W2 ... until the last ones.
        Assert.Equal(["L0", "W0", "L1", "L2", "W1", "L3", "W2", "L4", "W3"], rec!.Calls.Take(9));
        Assert.DoesNotContain("F", rec.Calls);
        // Decode steps 2..9 each carried 4 placeholders; the last token of each request was known not to need a step.
        Assert.Equal(8 * 4, rec.Placeholders);
        Assert.All(h.Reqs.Values, r => Assert.Equal(10, r.OutputLen));
        Assert.Equal(10, h.Engine.Steps);
        h.AssertBaseline();
    }

    [Fact]
    public void A_full_batch_of_requests_that_cannot_stop_early_overlaps_while_prompts_wait()
    {
        // More requests than --max-running-requests, each running to its max_new_tokens (ignore_eos, no stop ids: what
        // SGLang's bench sends). The queue waits most of the run, yet decode steps overlap wherever the batch stays
        // full, with the sequential loop's decisions; a step after which a request ends by length drains (a prompt is
        // admitted there).
        var options = new SchedulerOptions { MaxTotalTokens = 2048, MaxRunningRequests = 4, ContextLength = 256 };
        var rng = new Random(11);
        var work = Enumerable.Range(0, 12).Select(i => ($"r{i}", Enumerable.Range(0, rng.Next(2, 30)).Select(_ => rng.Next(1, 50)).ToArray(),
            new SamplingParams { Temperature = 0, MaxNewTokens = i == 1 ? 200 : rng.Next(8, 40), IgnoreEos = true })).ToList();
        EngineHarness Run(OverlapMode mode)
        {
            RecordingOverlapRunner? rec = null;
            var h = new EngineHarness(options, overlap: mode, wrap: a => rec = new RecordingOverlapRunner(a));
            foreach (var (rid, prompt, p) in work) h.Submit(rid, prompt, p);
            if (rec != null) rec.Condition = () => h.Scheduler.Waiting.Count > 0;
            for (int step = 0; step < 10_000 && (h.Step() || h.Engine.HasWork); step++)
                if (step == 20)
                {
                    // r1 (200 tokens) runs; its abort frees a place, so the next step is built after the results.
                    Assert.Contains(h.Reqs["r1"], h.Scheduler.Running);
                    h.Engine.Abort("r1");
                }
            h.AssertBaseline();
            if (rec != null)
            {
                Assert.True(rec.OverlappedLaunchesWhen >= 20, $"only {rec.OverlappedLaunchesWhen} steps overlapped while prompts waited");
                Assert.Equal(0, h.Overlap!.InFlight);
            }
            return h;
        }
        var off = Run(OverlapMode.Off);
        foreach (var h in new[] { Run(OverlapMode.Inline), Run(OverlapMode.Worker) })
        {
            Assert.Equal(off.Events, h.Events);
            Assert.Equal(off.Engine.Steps, h.Engine.Steps);
            Assert.Equal(off.Model.Batches.Select(b => (b.Mode, b.BatchSize)), h.Model.Batches.Select(b => (b.Mode, b.BatchSize)));
        }
        Assert.Equal(FinishKind.Abort, off.Finished["r1"].Kind);
        Assert.All(off.Reqs.Values.Where(r => r.Rid != "r1"), r => Assert.Equal(r.MaxNewTokens, r.OutputLen));
    }

    [Fact]
    public void A_request_finishing_by_eos_gives_back_the_slot_of_the_step_launched_after_it()
    {
        // Find a prompt whose greedy continuation hits EOS (token 0) early, then run it with a long-running neighbour.
        var probe = new FakeModelRunner(64);
        int[] prompt = Enumerable.Range(1, 2000).Select(s => new[] { s % 49 + 1, s / 49 % 49 + 1 })
            .First(p => Reference.Generate(probe, p, new SamplingParams { Temperature = 0, MaxNewTokens = 6 }, 0, 6) is var o && o.Count is > 1 and < 6 && o[^1] == 0);
        var off = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 512, ContextLength = 128 });
        var on = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 512, ContextLength = 128 }, overlap: OverlapMode.Worker);
        foreach (var h in new[] { off, on })
        {
            h.Submit("eos", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 6 });
            h.Submit("long", [7, 7, 7], new SamplingParams { Temperature = 0, MaxNewTokens = 30, IgnoreEos = true });
            h.RunToCompletion();
            h.AssertBaseline();
        }
        Assert.Equal(FinishKind.Stop, on.Finished["eos"].Kind);
        Assert.Equal(0, on.Finished["eos"].MatchedTokenId);
        Assert.Equal(off.Events, on.Events);
    }

    [Fact]
    public void Flush_cache_drains_the_launched_step()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 256, ContextLength = 64 }, overlap: OverlapMode.Worker);
        h.Submit("a", [1, 2, 3, 4], new SamplingParams { Temperature = 0, MaxNewTokens = 1 });
        Assert.True(h.Step()); // prefill launched, not processed
        Assert.False(h.Scheduler.HasWork);
        Assert.True(h.Engine.HasWork);
        Assert.True(h.Engine.FlushCache());
        Assert.True(h.Finished.ContainsKey("a"));
        Assert.Equal(h.Scheduler.Allocator.Size, h.Scheduler.Allocator.AvailableSize);
        Assert.False(h.Engine.HasWork);
    }

    [Fact]
    public void Disable_overlap_schedule_runs_sequentially()
    {
        RecordingOverlapRunner? rec = null;
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 256, ContextLength = 64, DisableOverlapSchedule = true },
            overlap: OverlapMode.Inline, wrap: a => rec = new RecordingOverlapRunner(a));
        h.Submit("a", [1, 2, 3], new SamplingParams { Temperature = 0, MaxNewTokens = 5, IgnoreEos = true });
        h.RunToCompletion();
        Assert.False(h.Engine.OverlapEnabled);
        Assert.Equal(["F", "F", "F", "F", "F"], rec!.Calls);
    }
}
