using System.Net;
using System.Text.Json;
using Compiler.Runtime.Scheduling;
using Compiler.Runtime.Text;

namespace Server.Tests;

/// <summary>
/// Prompt log-probabilities through the server on the tiny CPU model: /generate's input_token_logprobs /
/// input_top_logprobs and /v1/completions' echo + logprobs equal what a separate CPU runner gives for one full
/// forward of the same tokens -- with the prompt chunked (longer than --chunked-prefill-size 64), with a cached
/// prefix (matched only up to logprob_start_len), and on a server with small chunks and a bounded logits buffer.
/// </summary>
public sealed class PromptLogprobsTests(ServerFixture fixture) : ServerTestBase(fixture)
{
    // Chunked vs whole-prompt forwards sum attention in another order: fp32 rounding, nothing more.
    private const float Tolerance = 2e-4f;
    private static readonly Tokenizer Tokenizer = Tokenizer.FromDirectory(TestServer.ModelDir);

    private static int[] RandomIds(int seed, int count)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => rng.Next(10, 500)).ToArray();
    }

    private static string GenerateJson(int[] ids, int maxNew, bool returnLogprob, int? start = null, int top = 0)
    {
        string startField = start is { } s ? $",\"logprob_start_len\":{s}" : "";
        return $"{{\"input_ids\":{JsonSerializer.Serialize(ids)},\"sampling_params\":{{\"max_new_tokens\":{maxNew},\"temperature\":0,\"ignore_eos\":true}}," +
            $"\"return_logprob\":{(returnLogprob ? "true" : "false")}{startField},\"top_logprobs_num\":{top}}}";
    }

    /// <summary>meta_info's input lists against the reference: entries for positions start.., the first one null.</summary>
    private static void AssertInputLogprobs(JsonElement meta, int[] ids, int start, RunnerPromptLogprobs reference, int topK)
    {
        var entries = meta.GetProperty("input_token_logprobs").EnumerateArray().ToArray();
        Assert.Equal(ids.Length - start, entries.Length);
        for (int i = 0; i < entries.Length; i++)
        {
            int p = start + i;
            Assert.Equal(3, entries[i].GetArrayLength());
            Assert.Equal(ids[p], entries[i][1].GetInt32());
            Assert.Equal(TokenText(ids[p]), entries[i][2].GetString());
            if (i == 0) Assert.Equal(JsonValueKind.Null, entries[i][0].ValueKind);
            else Assert.Equal(reference.Logprobs[p], entries[i][0].GetSingle(), Tolerance);
        }
        if (topK == 0)
        {
            Assert.False(meta.TryGetProperty("input_top_logprobs", out _));
            return;
        }
        var tops = meta.GetProperty("input_top_logprobs").EnumerateArray().ToArray();
        Assert.Equal(entries.Length, tops.Length);
        Assert.Equal(JsonValueKind.Null, tops[0].ValueKind);
        for (int i = 1; i < tops.Length; i++)
        {
            int p = start + i;
            var top = tops[i].EnumerateArray().ToArray();
            Assert.Equal(reference.TopIds[p], top.Select(t => t[1].GetInt32()));
            for (int k = 0; k < topK; k++) Assert.Equal(reference.TopLogprobs[p][k], top[k][0].GetSingle(), Tolerance);
        }
    }

    /// <summary>A token's text as OpenAI's "tokens" show it (the raw bytes of the token, U+FFFD for partial characters).</summary>
    private static string TokenText(int id) => Compiler.Runtime.Server.TokenTexts.Text(Tokenizer, id);

    [Fact]
    public async Task Generate_scores_a_chunked_prompt_as_a_full_forward_of_the_CPU_runner()
    {
        int[] ids = RandomIds(1, 150); // chunked: --chunked-prefill-size is 64
        var reference = RunnerPromptLogprobs.Compute(ids, topK: 3);

        var (status, body) = await PostAsync("/generate", GenerateJson(ids, 2, returnLogprob: true, start: 0, top: 3));
        Assert.Equal(HttpStatusCode.OK, status);
        var meta = body.GetProperty("meta_info");
        AssertInputLogprobs(meta, ids, 0, reference, 3);
        Assert.Equal(0, meta.GetProperty("cached_tokens").GetInt32());
        Assert.Equal(2, meta.GetProperty("output_token_logprobs").GetArrayLength());
        Assert.Equal(2, meta.GetProperty("output_top_logprobs").GetArrayLength());
    }

    [Fact]
    public async Task A_cached_prefix_is_reused_only_up_to_logprob_start_len()
    {
        int[] ids = RandomIds(2, 100);
        var reference = RunnerPromptLogprobs.Compute(ids, topK: 2);
        var (status, _) = await PostAsync("/generate", GenerateJson(ids, 1, returnLogprob: false));
        Assert.Equal(HttpStatusCode.OK, status);

        // The tree holds all 100 tokens, but positions 40.. need logits rows: they are computed again.
        var (_, body) = await PostAsync("/generate", GenerateJson(ids, 1, returnLogprob: true, start: 40, top: 2));
        var meta = body.GetProperty("meta_info");
        Assert.Equal(40, meta.GetProperty("cached_tokens").GetInt32());
        AssertInputLogprobs(meta, ids, 40, reference, 2);

        // SGLang's default: the last prompt token only, [null, id, text]; the whole prefix comes from the cache.
        (_, body) = await PostAsync("/generate", GenerateJson(ids, 1, returnLogprob: true));
        meta = body.GetProperty("meta_info");
        Assert.Equal(99, meta.GetProperty("cached_tokens").GetInt32());
        AssertInputLogprobs(meta, ids, 99, reference, 0);

        // Without return_logprob the start is ignored.
        (_, body) = await PostAsync("/generate", GenerateJson(ids, 1, returnLogprob: false, start: 0));
        Assert.Equal(99, body.GetProperty("meta_info").GetProperty("cached_tokens").GetInt32());
        Assert.False(body.GetProperty("meta_info").TryGetProperty("input_token_logprobs", out _));
    }

    [Fact]
    public async Task Echo_with_logprobs_and_max_tokens_0_scores_the_prompt_like_lm_eval_harness()
    {
        const string prompt = "The whale rose from the deep and the sailors cried out";
        int[] ids = Tokenizer.Encode(prompt);
        var reference = RunnerPromptLogprobs.Compute(ids, topK: 2);

        var body = await GreedyCompletionAsync(prompt, 0, ""","echo":true,"logprobs":2""");
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(Tokenizer.Decode(ids, skipSpecialTokens: true), choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(0, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var lp = choice.GetProperty("logprobs");
        var tokens = lp.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var values = lp.GetProperty("token_logprobs").EnumerateArray().ToArray();
        var tops = lp.GetProperty("top_logprobs").EnumerateArray().ToArray();
        var offsets = lp.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToArray();
        Assert.Equal(ids.Select(TokenText), tokens);
        Assert.Equal(JsonValueKind.Null, values[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, tops[0].ValueKind);
        Assert.Equal(0, offsets[0]);
        for (int p = 1; p < ids.Length; p++)
        {
            Assert.Equal(reference.Logprobs[p], values[p].GetSingle(), Tolerance);
            var top = tops[p].EnumerateObject().ToDictionary(e => e.Name, e => e.Value.GetSingle());
            Assert.Equal(reference.TopIds[p].Select(TokenText).Distinct().Order(), top.Keys.Order());
            Assert.Equal(reference.TopLogprobs[p][0], top.Values.Max(), Tolerance);
            Assert.Equal(offsets[p - 1] + tokens[p - 1].Length, offsets[p]);
        }
        // The loglikelihood lm-eval sums: the prompt's log-probability as one forward gives it.
        double total = values.Skip(1).Sum(v => v.GetDouble());
        Assert.Equal(reference.Logprobs.Skip(1).Sum(v => (double)v), total, 1e-3);
    }

    [Fact]
    public async Task Echo_with_logprobs_puts_the_prompt_first_then_the_completion_streamed_or_not()
    {
        const string prompt = "Call me Ishmael. Some years ago";
        int[] ids = Tokenizer.Encode(prompt);
        var reference = RunnerPromptLogprobs.Compute(ids, topK: 1);
        const string extra = ""","echo":true,"logprobs":1""";

        var body = await GreedyCompletionAsync(prompt, 5, extra);
        var choice = body.GetProperty("choices")[0];
        string echo = Tokenizer.Decode(ids, skipSpecialTokens: true);
        string text = choice.GetProperty("text").GetString()!;
        Assert.StartsWith(echo, text);
        var lp = choice.GetProperty("logprobs");
        var values = lp.GetProperty("token_logprobs").EnumerateArray().ToArray();
        var offsets = lp.GetProperty("text_offset").EnumerateArray().Select(o => o.GetInt32()).ToArray();
        Assert.Equal(ids.Length + 5, values.Length);
        Assert.Equal(JsonValueKind.Null, values[0].ValueKind);
        for (int p = 1; p < ids.Length; p++) Assert.Equal(reference.Logprobs[p], values[p].GetSingle(), Tolerance);
        // Output tokens: offsets continue after the echoed prompt; greedy, so each is its row's best.
        Assert.Equal(echo.Length, offsets[ids.Length]);
        Assert.All(values.Skip(ids.Length), v => Assert.True(v.GetSingle() <= 0));

        // Streamed: the first chunk carries the echo and the prompt's logprobs, then the completion follows.
        var chunks = Sse.Json(await PostSseAsync("/v1/completions",
            $$"""{"model":"tiny-chat","prompt":{{JsonSerializer.Serialize(prompt)}},"max_tokens":5,"temperature":0,"ignore_eos":true,"stream":true{{extra}}}"""));
        var first = chunks[0].GetProperty("choices")[0];
        Assert.Equal(echo, first.GetProperty("text").GetString());
        Assert.Equal(ids.Length, first.GetProperty("logprobs").GetProperty("tokens").GetArrayLength());
        var streamedText = string.Concat(chunks.Select(c => c.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(text, streamedText);
        var streamedValues = chunks
            .Select(c => c.GetProperty("choices")[0].GetProperty("logprobs"))
            .Where(l => l.ValueKind == JsonValueKind.Object)
            .SelectMany(l => l.GetProperty("token_logprobs").EnumerateArray())
            .Select(v => v.ValueKind == JsonValueKind.Null ? (float?)null : v.GetSingle()).ToArray();
        Assert.Equal(values.Select(v => v.ValueKind == JsonValueKind.Null ? (float?)null : v.GetSingle()), streamedValues);
    }

    [Fact]
    public async Task Small_chunks_and_a_bounded_logits_buffer_give_the_same_prompt_logprobs()
    {
        int[] ids = RandomIds(3, 120);
        var reference = RunnerPromptLogprobs.Compute(ids, topK: 2);
        // Chunks of 16 tokens and at most 8 logits rows a step (a CUDA runner's fixed logits buffer).
        await using var server = await TestServer.StartAsync(scheduler: TestServer.Scheduler with { ChunkedPrefillSize = 16, MaxLogitsRows = 8 });

        // Three at once with different starts, so scoring rows of several requests share steps.
        int[] starts = [0, 37, 118];
        var posts = starts.Select(s => PostAsync(server, "/generate", GenerateJson(ids, 3, returnLogprob: true, start: s, top: 2))).ToArray();
        var results = await Task.WhenAll(posts);
        for (int i = 0; i < starts.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, results[i].Status);
            AssertInputLogprobs(results[i].Body.GetProperty("meta_info"), ids, starts[i], reference, 2);
        }
        // The same greedy output whatever the schedule.
        var outputs = results.Select(r => string.Join(',', r.Body.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()))).Distinct();
        Assert.Single(outputs);
        Assert.Contains(server.Log, l => l.StartsWith("Prefill batch."));
        await server.AssertBaselineAsync();
    }
}
