using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

public sealed class SchedulerBudgetTests
{
    private static int[] Prompt(int len, int seed) { var r = new Random(seed); return Enumerable.Range(0, len).Select(_ => r.Next(1, 50)).ToArray(); }
    private static readonly SamplingParams Greedy = new() { Temperature = 0, MaxNewTokens = 4, IgnoreEos = true };

    [Fact]
    public void Max_prefill_tokens_limits_a_batch_but_a_single_long_prompt_still_runs_alone()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxPrefillTokens = 32, ChunkedPrefillSize = -1, MaxTotalTokens = 1024, ContextLength = 256 });
        h.Submit("a", Prompt(20, 1), Greedy);
        h.Submit("b", Prompt(20, 2), Greedy); // 20 >= 12 left: waits for the next batch
        h.Submit("c", Prompt(50, 3), Greedy);
        h.Step();
        Assert.Equal([20], h.Model.Batches[0].ExtendLens);
        h.Step();
        Assert.Equal([20], h.Model.Batches[1].ExtendLens);
        h.Step();
        Assert.Equal([50], h.Model.Batches[2].ExtendLens); // longer than max-prefill-tokens, alone in its batch
        h.RunToCompletion();
        h.AssertBaseline();
    }

    [Fact]
    public void New_token_ratio_decays_per_decode_step_and_resets_when_idle()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256 });
        h.Submit("a", Prompt(10, 1), Greedy with { MaxNewTokens = 11 });
        h.Step(); // prefill
        double start = h.Scheduler.NewTokenRatio;
        Assert.Equal(0.7, start, 9);
        for (int i = 0; i < 10; i++) h.Step();
        double decay = (0.7 - 0.7 * 0.14) / 600;
        Assert.Equal(0.7 - 10 * decay, h.Scheduler.NewTokenRatio, 9);
        h.Step(); // idle
        Assert.Equal(0.7, h.Scheduler.NewTokenRatio, 9);
    }

    [Theory]
    [InlineData(3)] // staggered arrivals: output lengths differ when memory runs out
    [InlineData(0)] // one burst: equal output lengths, so the prompt-length tie-break decides
    public void Retraction_picks_the_fewest_outputs_then_longest_prompt_and_raises_the_ratio(int arrivalEvery)
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 200, MaxRunningRequests = 16, ContextLength = 256, ChunkedPrefillSize = -1, ScheduleConservativeness = 0.1 });
        var rng = new Random(5);
        double lowest = double.MaxValue;
        var before = new List<(Req R, int Out, int In)>();
        if (arrivalEvery == 0)
            for (int i = 0; i < 16; i++) h.Submit($"r{i}", Prompt(rng.Next(10, 30), i), Greedy with { MaxNewTokens = 20 + i * 37 % 60 });
        for (int step = 0; h.Scheduler.TotalRetracted == 0; step++)
        {
            if (arrivalEvery > 0 && step % arrivalEvery == 0 && step < 16 * arrivalEvery)
                h.Submit($"r{step}", Prompt(rng.Next(10, 30), step), Greedy with { MaxNewTokens = 60 });
            before = h.Scheduler.Running.Select(r => (r, r.OutputLen, r.InputLen)).ToList();
            lowest = Math.Min(lowest, h.Scheduler.NewTokenRatio);
            Assert.True(h.Step(), "finished without retracting");
        }
        var retracted = before.Where(x => x.R.RetractCount > 0).ToList();
        var survivors = before.Where(x => x.R.RetractCount == 0).ToList();
        Assert.NotEmpty(retracted);
        Assert.NotEmpty(survivors);
        foreach (var r in retracted)
            foreach (var s in survivors)
                Assert.True(r.Out < s.Out || (r.Out == s.Out && r.In >= s.In), $"retracted {r.R.Rid} (out {r.Out}, in {r.In}) before {s.R.Rid} (out {s.Out}, in {s.In})");
        Assert.True(h.Scheduler.NewTokenRatio > lowest, "retraction should make admission more conservative");
        Assert.Contains(h.Log, l => l.StartsWith("Decode out of memory happened. #retracted_reqs: "));
        h.RunToCompletion();
        foreach (var r in h.Reqs.Values) Assert.Equal(h.Expected(r), r.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void Forced_retraction_with_equal_outputs_takes_the_longest_prompt()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256, ForceRetractEvery = 3 });
        h.Submit("p5", Prompt(5, 1), Greedy with { MaxNewTokens = 20 });
        h.Submit("p9", Prompt(9, 2), Greedy with { MaxNewTokens = 20 });
        h.Submit("p7", Prompt(7, 3), Greedy with { MaxNewTokens = 20 });
        h.Step(); // one prefill batch: equal output lengths from here on
        while (h.Scheduler.TotalRetracted == 0) Assert.True(h.Step());
        Assert.Equal(1, h.Scheduler.TotalRetracted);
        Assert.Equal(["p9"], h.Scheduler.Waiting.Select(r => r.Rid));
        Assert.Equal(0, h.Scheduler.Waiting[0].KvLen);
        h.RunToCompletion();
        foreach (var r in h.Reqs.Values) Assert.Equal(h.Expected(r), r.OutputIds.ToArray());
        // The retracted request's KV stayed in the radix tree: its re-prefill hit the cache.
        Assert.Contains(h.Model.Batches, b => b.Mode == ForwardMode.Extend && b.PrefixLens.Length == 1 && b.PrefixLens[0] > 9);
        h.AssertBaseline();
    }

    [Fact]
    public void Logprobs_follow_each_generated_token()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256 });
        var req = h.Submit("a", Prompt(10, 1), new SamplingParams { Temperature = 0, MaxNewTokens = 6, IgnoreEos = true, Logprobs = true, TopLogprobs = 2 })[0];
        h.RunToCompletion();
        Assert.Equal(6, req.OutputLogprobs!.Count);
        Assert.Equal(6, req.OutputTopLogprobs!.Count);
        var tokens = req.InputIds.ToArray().ToList();
        var logits = new float[h.Model.VocabSize];
        for (int i = 0; i < 6; i++)
        {
            h.Model.LogitsFor(tokens, logits);
            double lse = Math.Log(logits.Sum(x => Math.Exp(x)));
            int tok = req.OutputIds[i];
            Assert.Equal(logits[tok] - lse, req.OutputLogprobs[i], 4);
            Assert.Equal(tok, req.OutputTopLogprobs[i][0].TokenId); // greedy: the chosen token is the most likely
            tokens.Add(tok);
        }
    }

    [Fact]
    public void Stop_string_from_the_detokenizer_finishes_as_stop_and_frees()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256 });
        var req = h.Submit("a", Prompt(10, 1), Greedy with { MaxNewTokens = 50 })[0];
        for (int i = 0; i < 5; i++) h.Step();
        h.Engine.FinishWithStopString("a", "\n\n");
        h.Step();
        Assert.Equal(new FinishReason(FinishKind.Stop, MatchedStop: "\n\n"), req.FinishReason);
        Assert.Equal(FinishKind.Stop, h.Finished["a"].Kind);
        Assert.Equal(5, req.OutputLen); // 1 from prefill + 4 decodes before the stop took effect
        h.AssertBaseline();
    }

    [Fact]
    public void Duplicate_request_id_is_rejected_without_touching_the_live_one()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256 });
        var first = h.Submit("same", Prompt(10, 1), Greedy)[0];
        h.Step();
        var second = new Req("same", Prompt(5, 2), Greedy, 1);
        ReqOutput? got = null;
        second.OnOutput = o => got = o;
        h.Scheduler.AddRequest(second);
        h.Step();
        Assert.Equal(FinishKind.Abort, got?.Finish?.Kind);
        Assert.Contains("duplicate", got!.Value.Finish!.Message);
        h.RunToCompletion();
        Assert.Equal(FinishKind.Length, first.FinishReason!.Kind);
        h.AssertBaseline();
    }
}
