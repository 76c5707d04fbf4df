using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>
/// Prompt (input) log-probabilities, as SGLang's input_token_logprobs: exact against the fake model whatever the
/// schedule -- prefix cache hits capped at logprob_start_len, chunked prefill, a bounded logits-row budget, mixed
/// batches, retraction and re-admission -- while the generated tokens stay those of the unbatched reference.
/// </summary>
public sealed class InputLogprobsTests
{
    public static TheoryData<string, bool, int, bool, int, int> Configs => new()
    {
        { "radix", false, 8192, false, 0, 4096 },
        { "no-radix", true, 8192, false, 0, 4096 },
        { "chunked 16", false, 16, false, 0, 4096 },
        { "chunked 40 mixed", false, 40, true, 0, 4096 },
        { "row budget 12", false, 8192, false, 12, 4096 },
        { "row budget 12 chunked 16 mixed", false, 32, true, 12, 4096 },
        { "row budget 12 no chunking", false, -1, false, 12, 4096 },
        { "tiny pool retracts", false, 8192, false, 0, 160 },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void Prompt_logprobs_equal_the_reference_under_every_schedule(string name, bool noRadix, int chunk, bool mixed, int maxRows, int pool)
    {
        var h = new EngineHarness(new SchedulerOptions
        {
            DisableRadixCache = noRadix, ChunkedPrefillSize = chunk, EnableMixedChunk = mixed, MaxLogitsRows = maxRows,
            MaxTotalTokens = pool, MaxRunningRequests = 12, ContextLength = 256, MaxPrefillTokens = 96,
            ScheduleConservativeness = name.StartsWith("tiny") ? 0.1 : 1.0,
        });
        var rng = new Random(name.Length * 31 + chunk);
        int maxNew = name.StartsWith("tiny") ? 64 : 16;
        var workload = EngineHarness.Workload(seed: pool + chunk + maxRows, count: 40, maxNew: maxNew);
        foreach (var (rid, prompt, p) in workload)
        {
            // Most score part of the prompt (0, a random start, or SGLang's default -1); some score only (max 0).
            int start = rng.Next(4) switch { 0 => -1, 1 => 0, _ => rng.Next(prompt.Length) };
            var lp = p with { Logprobs = true, LogprobStartLen = start, TopLogprobs = rng.Next(4), MaxNewTokens = rng.Next(5) == 0 ? 0 : p.MaxNewTokens };
            h.Submit(rid, prompt, lp);
            if (rng.Next(3) == 0) h.Step(); // arrivals interleave with prefills and decodes
        }
        h.RunToCompletion();

        if (name.Contains("retracts")) Assert.True(h.Scheduler.TotalRetracted > 0, "expected retraction");
        if (chunk is > 0 and < 64 || maxRows > 0) Assert.Contains(h.Reqs.Values, r => r.ChunkCount > 0);
        if (mixed) Assert.Contains(h.Model.Batches, b => b.Mode == ForwardMode.Mixed);
        if (maxRows > 0) Assert.All(h.Model.Batches, b => Assert.InRange(b.NumLogitsRows, 0, maxRows));
        // Scoring rows really ran: some batch has more rows than requests.
        Assert.Contains(h.Model.Batches, b => b.NumLogitsRows > b.BatchSize);

        foreach (var (rid, req) in h.Reqs)
        {
            Assert.True(req.IsFinished, $"{rid} did not finish");
            InputLogprobsReference.AssertEqual(h.Model, req);
            if (req.MaxNewTokens == 0)
            {
                Assert.Equal(0, req.OutputLen);
                Assert.Equal(FinishKind.Length, req.FinishReason!.Kind);
            }
            else Assert.Equal(h.Expected(req), req.OutputIds.ToArray());
            Assert.Equal(req.OutputIds.ToArray(), h.Streamed[rid]);
            Assert.Equal(req.OutputLen, req.OutputLogprobs!.Count);
        }
        h.AssertBaseline();
    }

    [Fact]
    public void A_cached_prefix_is_matched_only_up_to_logprob_start_len()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256 });
        int[] prompt = Enumerable.Range(1, 20).ToArray();
        h.Submit("warm", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 2 });
        h.RunToCompletion();

        h.Submit("from5", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 2, Logprobs = true, LogprobStartLen = 5, TopLogprobs = 3 });
        h.RunToCompletion();
        // The row of position 5 scores token 6; positions 5.. are recomputed though the tree holds all 20.
        Assert.Equal(5, h.Reqs["from5"].CachedTokens);
        var prefill = h.Model.Batches[^2];
        Assert.Equal([5], prefill.PrefixLens);
        Assert.Equal([15], prefill.ExtendLens);
        Assert.Equal(15, prefill.NumLogitsRows); // positions 5..18 score, position 19 samples
        InputLogprobsReference.AssertEqual(h.Model, h.Reqs["from5"]);
        Assert.Equal(15, h.Reqs["from5"].InputLogprobs!.Count);

        // Default (-1): only the last prompt token, so the whole cached prefix is used and no extra rows run.
        h.Submit("default", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 2, Logprobs = true });
        h.RunToCompletion();
        Assert.Equal(19, h.Reqs["default"].CachedTokens);
        var lp = h.Reqs["default"].InputLogprobs!;
        Assert.Equal((19, 1), (lp.StartLen, lp.Count));
        Assert.Null(lp.Logprob(0));

        // Whole prompt: nothing can come from the cache.
        h.Submit("from0", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 2, Logprobs = true, LogprobStartLen = 0 });
        h.RunToCompletion();
        Assert.Equal(0, h.Reqs["from0"].CachedTokens);
        InputLogprobsReference.AssertEqual(h.Model, h.Reqs["from0"]);
        foreach (var r in h.Reqs.Values) Assert.Equal(h.Expected(r), r.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void Chunked_prefill_contributes_the_scoring_rows_of_each_chunk()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256, ChunkedPrefillSize = 8 });
        int[] prompt = Enumerable.Range(3, 30).ToArray();
        h.Submit("c", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 3, Logprobs = true, LogprobStartLen = 2, TopLogprobs = 2 });
        h.RunToCompletion();

        var req = h.Reqs["c"];
        Assert.Equal(3, req.ChunkCount);
        // Chunks [0,8) [8,16) [16,24) [24,30): rows for positions 2..28, plus the sampling row of position 29.
        Assert.Equal([6, 8, 8, 6], h.Model.Batches.Take(4).Select(b => b.NumLogitsRows));
        InputLogprobsReference.AssertEqual(h.Model, req);
        Assert.Equal(h.Expected(req), req.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void A_bounded_logits_buffer_cuts_the_prompt_into_row_sized_chunks()
    {
        // Chunking off: only the row budget (4, e.g. a CUDA runner's logits buffer) cuts the prompt.
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 1024, ContextLength = 256, ChunkedPrefillSize = -1, MaxRunningRequests = 4, MaxLogitsRows = 4 });
        int[] prompt = Enumerable.Range(1, 18).ToArray();
        h.Submit("scored", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 4, Logprobs = true, LogprobStartLen = 0, TopLogprobs = 1 });
        h.Submit("plain", [7, 8, 9], new SamplingParams { Temperature = 0, MaxNewTokens = 4 });
        h.RunToCompletion();

        Assert.All(h.Model.Batches, b => Assert.InRange(b.NumLogitsRows, 1, 4));
        // 17 scored positions + 1 sampling row, 4 rows a step: 5 extends of "scored".
        Assert.Equal(4, h.Reqs["scored"].ChunkCount);
        InputLogprobsReference.AssertEqual(h.Model, h.Reqs["scored"]);
        foreach (var r in h.Reqs.Values) Assert.Equal(h.Expected(r), r.OutputIds.ToArray());
        h.AssertBaseline();
    }

    [Fact]
    public void Retracted_requests_are_not_scored_twice()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 2048, ContextLength = 256, ForceRetractEvery = 3 });
        var rng = new Random(3);
        for (int i = 0; i < 6; i++)
        {
            int[] prompt = Enumerable.Range(0, 10 + i).Select(_ => rng.Next(1, 50)).ToArray();
            h.Submit($"r{i}", prompt, new SamplingParams { Temperature = 0, IgnoreEos = true, MaxNewTokens = 20, Logprobs = true, LogprobStartLen = i, TopLogprobs = 2 });
        }
        h.RunToCompletion();

        Assert.Contains(h.Reqs.Values, r => r.RetractCount > 0);
        foreach (var r in h.Reqs.Values)
        {
            // A second scoring pass would have thrown (rows must arrive once, in order); values are the first pass's.
            InputLogprobsReference.AssertEqual(h.Model, r);
            Assert.Equal(h.Expected(r), r.OutputIds.ToArray());
        }
        // Re-admitted requests reuse their whole cached prefix: no prefill of theirs is capped at logprob_start_len.
        Assert.Contains(h.Model.Batches, b => b.Mode == ForwardMode.Extend && b.PrefixLens.Any(p => p > 15));
        h.AssertBaseline();
    }

    [Fact]
    public void Max_new_tokens_zero_scores_the_prompt_and_generates_nothing()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 512, ContextLength = 128 });
        int[] prompt = [4, 8, 15, 16, 23, 42];
        h.Submit("score", prompt, new SamplingParams { MaxNewTokens = 0, Logprobs = true, LogprobStartLen = 0, TopLogprobs = 5 });
        h.Submit("plain", prompt, new SamplingParams { MaxNewTokens = 0 });
        h.RunToCompletion();

        foreach (string rid in new[] { "score", "plain" })
        {
            Assert.Equal(0, h.Reqs[rid].OutputLen);
            Assert.Empty(h.Streamed[rid]);
            Assert.Equal(FinishKind.Length, h.Finished[rid].Kind);
        }
        InputLogprobsReference.AssertEqual(h.Model, h.Reqs["score"]);
        Assert.All(h.Model.Batches, b => Assert.Equal(5, b.NumLogitsRows)); // 5 scoring rows, no sampling row
        // The prompt was cached as a finished request's: a later request reuses all but its last token.
        h.Submit("again", prompt, new SamplingParams { Temperature = 0, MaxNewTokens = 1 });
        h.RunToCompletion();
        Assert.Equal(5, h.Reqs["again"].CachedTokens);
        h.AssertBaseline();
    }

    [Fact]
    public void Logprob_start_len_must_lie_inside_the_prompt()
    {
        var h = new EngineHarness(new SchedulerOptions { MaxTotalTokens = 512, ContextLength = 128 });
        var e = Assert.Throws<ArgumentException>(() => h.Submit("x", [1, 2, 3], new SamplingParams { Logprobs = true, LogprobStartLen = 3 }));
        Assert.Contains("logprob_start_len (3)", e.Message);
        Assert.Throws<ArgumentException>(() => new SamplingParams { LogprobStartLen = -2 }.Validate());
        // Without logprobs the start is irrelevant and nothing is scored.
        h.Submit("y", [1, 2, 3], new SamplingParams { LogprobStartLen = 3, MaxNewTokens = 1 });
        h.RunToCompletion();
        Assert.Null(h.Reqs["y"].InputLogprobs);
        h.AssertBaseline();
    }
}
