using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

public sealed class SchedulerBehaviourTests
{
    private static int[] Prompt(int len, int seed = 1)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, len).Select(_ => rng.Next(1, 50)).ToArray();
    }

    private static readonly SamplingParams Greedy = new() { Temperature = 0, MaxNewTokens = 8, IgnoreEos = true };

    [Fact]
    public void Chunked_prefill_splits_the_prompt_and_only_the_last_chunk_samples()
    {
        var h = new EngineHarness(new SchedulerOptions { ChunkedPrefillSize = 32, MaxTotalTokens = 1024, ContextLength = 512 });
        var req = h.Submit("long", Prompt(100), Greedy)[0];
        h.RunToCompletion();

        var prefills = h.Model.Batches.Where(b => b.Mode == ForwardMode.Extend).ToList();
        Assert.Equal([32, 32, 32, 4], prefills.Select(b => b.ExtendLens[0]));
        Assert.Equal([0, 32, 64, 96], prefills.Select(b => b.PrefixLens[0]));
        Assert.Equal([0, 0, 0, 1], prefills.Select(b => b.NumLogitsRows));
        Assert.Equal(3, req.ChunkCount);
        Assert.Equal(h.Expected(req), req.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void Chunk_budget_is_shared_by_the_batch_and_a_chunked_request_continues_first()
    {
        var h = new EngineHarness(new SchedulerOptions { ChunkedPrefillSize = 32, MaxTotalTokens = 1024, ContextLength = 512 });
        h.Submit("a", Prompt(20, 1), Greedy);
        h.Submit("b", Prompt(30, 2), Greedy); // 12 fit after a's 20; the remaining 18 go next batch
        h.Submit("c", Prompt(10, 3), Greedy);
        h.Step();
        var first = h.Model.Batches[0];
        Assert.Equal([20, 12], first.ExtendLens);
        Assert.Equal(1, first.NumLogitsRows); // b is chunked: no logits yet
        Assert.Equal("b", h.Scheduler.ChunkedReq?.Rid);
        h.Step();
        var second = h.Model.Batches[1];
        Assert.Equal(ForwardMode.Extend, second.Mode);
        Assert.Equal([18, 10], second.ExtendLens);   // b first, then c
        Assert.Equal([12, 0], second.PrefixLens);
        h.RunToCompletion();
        foreach (var r in h.Reqs.Values) Assert.Equal(h.Expected(r), r.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void Mixed_chunk_runs_decode_rows_inside_the_prefill_batch()
    {
        var h = new EngineHarness(new SchedulerOptions { ChunkedPrefillSize = 64, EnableMixedChunk = true, MaxRunningRequests = 8, MaxTotalTokens = 1024, ContextLength = 512 });
        var a = h.Submit("a", Prompt(10, 1), Greedy with { MaxNewTokens = 30 })[0];
        h.Step(); // prefill a
        h.Step(); // decode a
        var b = h.Submit("b", Prompt(150, 2), Greedy)[0];
        h.Step();
        var mixed = h.Model.Batches[^1];
        Assert.Equal(ForwardMode.Mixed, mixed.Mode);
        Assert.Equal(1, mixed.NumExtendReqs);
        Assert.Equal(63, mixed.ExtendLens[0]); // chunk 64 minus one decode token
        Assert.Equal(1, mixed.ExtendLens[1]);
        Assert.Equal(1, mixed.NumLogitsRows);  // only a samples: b is mid-prompt
        int aTokensBefore = a.OutputLen;
        h.Step();
        Assert.Equal(aTokensBefore + 1, a.OutputLen); // a kept decoding during b's prefill
        h.RunToCompletion();
        Assert.Equal(h.Expected(a), a.OutputIds.ToArray());
        Assert.Equal(h.Expected(b), b.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void Shared_prefix_is_computed_once_and_counted_as_cached()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 512 });
        int[] system = Prompt(64, 9);
        var a = h.Submit("a", [.. system, 1, 2, 3], Greedy)[0];
        h.RunToCompletion();
        var b = h.Submit("b", [.. system, 4, 5], Greedy)[0];
        h.Step();
        Assert.Equal(2, h.Model.Batches[^1].NumTokens); // only the two new tokens were computed
        Assert.Equal(64, b.CachedTokens);
        Assert.Contains(h.Log, l => l.StartsWith("Prefill batch. #new-seq: 1, #new-token: 2, #cached-token: 64, token usage: "));
        Assert.Equal(64.0 / (67 + 66), h.Scheduler.Cache.HitStats.HitRate, 6);
        h.RunToCompletion();
        Assert.Equal(h.Expected(b), b.OutputIds.ToArray());
        Assert.Equal(h.Expected(a), a.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void No_radix_cache_shares_nothing()
    {
        var h = new EngineHarness(new SchedulerOptions { DisableRadixCache = true, MaxTotalTokens = 1024, ContextLength = 512 });
        int[] system = Prompt(64, 9);
        h.Submit("a", [.. system, 1], Greedy);
        h.RunToCompletion();
        Assert.Equal(h.Scheduler.Allocator.Size, h.Scheduler.Allocator.AvailableSize); // freed, not cached
        var b = h.Submit("b", [.. system, 2], Greedy)[0];
        h.Step();
        Assert.Equal(65, h.Model.Batches[^1].NumTokens);
        Assert.Equal(0, b.CachedTokens);
        h.RunToCompletion();
        h.AssertBaseline();
    }

    [Fact]
    public void Abort_of_running_waiting_and_chunked_requests_frees_their_slots()
    {
        var h = new EngineHarness(new SchedulerOptions { ChunkedPrefillSize = 16, MaxRunningRequests = 2, MaxTotalTokens = 512, ContextLength = 256 });
        var run = h.Submit("run", Prompt(10, 1), Greedy with { MaxNewTokens = 100 })[0];
        h.Step();
        h.Step();
        var chunked = h.Submit("chunked", Prompt(60, 2), Greedy)[0];
        var waiting = h.Submit("waiting", Prompt(5, 3), Greedy)[0];
        h.Step();
        Assert.Equal(chunked, h.Scheduler.ChunkedReq);
        Assert.Equal(ReqStatus.Waiting, waiting.Status); // max-running-requests = 2
        Assert.True(h.Scheduler.Allocator.AvailableSize < 512 - 10);

        h.Engine.Abort("run");
        h.Engine.Abort("chunked");
        h.Engine.Abort("waiting");
        h.Engine.Abort("unknown-id"); // ignored
        h.Step();
        foreach (var r in new[] { run, chunked, waiting })
        {
            Assert.Equal(FinishKind.Abort, r.FinishReason?.Kind);
            Assert.Equal(FinishKind.Abort, h.Finished[r.Rid].Kind);
            Assert.Equal(-1, r.ReqPoolIdx);
        }
        Assert.False(h.Scheduler.HasWork);
        h.AssertBaseline();
    }

    [Fact]
    public void N_completions_use_consecutive_seeds_and_share_the_prompt()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256 });
        var reqs = h.Submit("multi", Prompt(30), new SamplingParams { Temperature = 1, N = 3, Seed = 77, MaxNewTokens = 12, IgnoreEos = true });
        Assert.Equal(["multi-0", "multi-1", "multi-2"], reqs.Select(r => r.Rid));
        Assert.Equal([77UL, 78UL, 79UL], reqs.Select(r => r.Seed));
        h.RunToCompletion();
        foreach (var r in reqs) Assert.Equal(h.Expected(r), r.OutputIds.ToArray());
        Assert.True(reqs.Select(r => string.Join(",", r.OutputIds.ToArray())).Distinct().Count() > 1, "different seeds should give different samples");
        h.AssertBaseline();
    }

    [Fact]
    public void Stop_tokens_eos_ignore_eos_and_min_new_tokens()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 2048, ContextLength = 512 });
        int[] prompt = Prompt(12, 4);
        // Greedy output without stops, to pick a stop token that really occurs.
        var free = h.Submit("free", prompt, Greedy with { MaxNewTokens = 40 })[0];
        h.RunToCompletion();
        int stopTok = free.OutputIds[5];
        int firstAt = free.OutputIds.ToArray().ToList().IndexOf(stopTok);

        var stopped = h.Submit("stopped", prompt, Greedy with { MaxNewTokens = 40, StopTokenIds = [stopTok] })[0];
        var minNew = h.Submit("min", prompt, Greedy with { MaxNewTokens = 40, StopTokenIds = [stopTok], MinNewTokens = firstAt + 1 })[0];
        var eos = h.Submit("eos", prompt, new SamplingParams { Temperature = 1, Seed = 3, MaxNewTokens = 400 })[0];
        h.RunToCompletion();

        Assert.Equal(FinishKind.Length, free.FinishReason!.Kind);
        Assert.True(free.ArrivalTimestamp > 0 && free.ArrivalTimestamp <= free.FirstTokenTimestamp && free.FirstTokenTimestamp <= free.FinishTimestamp);
        Assert.Equal(firstAt + 1, stopped.OutputLen);
        Assert.Equal(new FinishReason(FinishKind.Stop, MatchedTokenId: stopTok), stopped.FinishReason);
        Assert.True(minNew.OutputLen > firstAt + 1);
        Assert.Equal(h.Expected(minNew), minNew.OutputIds.ToArray());
        // The fake model's eos is token 0; sampling at T=1 over 50 tokens hits it well within 400 tokens.
        Assert.Equal(0, eos.OutputIds[^1]);
        Assert.Equal(FinishKind.Stop, eos.FinishReason!.Kind);
        h.AssertBaseline();
    }

    [Fact]
    public void Prompts_that_cannot_fit_are_rejected_and_max_new_tokens_is_clipped()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 100, ContextLength = 4096 });
        var ex = Assert.Throws<ArgumentException>(() => h.Submit("big", Prompt(120), Greedy));
        Assert.Contains("max-total-tokens", ex.Message);
        var r = h.Submit("ok", Prompt(60), Greedy with { MaxNewTokens = 1000 })[0];
        Assert.Equal(99 - 60, r.MaxNewTokens);
        h.RunToCompletion();
        Assert.Equal(39, r.OutputLen);
        h.AssertBaseline();
    }

    [Fact]
    public void Decode_log_line_every_interval_with_sglang_fields()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256, DecodeLogInterval = 4 });
        h.Submit("a", Prompt(8, 1), Greedy with { MaxNewTokens = 17 });
        h.Submit("b", Prompt(8, 2), Greedy with { MaxNewTokens = 17 });
        h.RunToCompletion();
        var decodes = h.Log.Where(l => l.StartsWith("Decode batch.")).ToList();
        Assert.Equal(4, decodes.Count); // 16 decode steps / 4
        Assert.Matches(@"^Decode batch\. #running-req: 2, #token: \d+, token usage: \d\.\d\d, cache hit rate: \d+\.\d%, gen throughput \(token/s\): \d+\.\d\d, #queue-req: 0$", decodes[0]);
        Assert.Matches(@"^Prefill batch\. #new-seq: 2, #new-token: 16, #cached-token: 0, token usage: 0\.00, #running-req: 0, #queue-req: 0", h.Log[0]);
    }

    [Fact]
    public void Max_running_requests_caps_the_batch()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxRunningRequests = 3, MaxTotalTokens = 2048, ContextLength = 256 });
        for (int i = 0; i < 7; i++) h.Submit($"r{i}", Prompt(5, i), Greedy with { MaxNewTokens = 20 });
        while (h.Step()) Assert.True(h.Scheduler.Running.Count + (h.Scheduler.ChunkedReq != null ? 1 : 0) <= 3);
        Assert.All(h.Model.Batches, b => Assert.True(b.BatchSize <= 3));
        h.AssertBaseline();
    }

    [Fact]
    public void Engine_submission_names_and_seeds_n_choices_as_the_server_does()
    {
        // The server submits one stream per choice through ParallelSampling; the engine's own n expansion must agree,
        // so the same seed gives the same n outputs either way.
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 512 });
        var reqs = h.Submit("r", Prompt(6), Greedy with { N = 3, Seed = 11 });
        Assert.Equal(3, reqs.Count);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(ParallelSampling.ChoiceRid("r", 3, i), reqs[i].Rid);
            Assert.Equal(ParallelSampling.ChoiceSeed(11, i), reqs[i].Seed);
        }
        var single = Assert.Single(h.Submit("s", Prompt(6), Greedy with { Seed = 4 }));
        Assert.Equal((ParallelSampling.ChoiceRid("s", 1, 0), ParallelSampling.ChoiceSeed(4, 0)), (single.Rid, single.Seed));
        while (h.Step()) { }
        h.AssertBaseline();
    }
}
