using System.Net;
using System.Text.Json;
using Compiler.Models;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Text;

namespace Server.Tests;

public sealed class CompletionsTests(ServerFixture fixture) : ServerTestBase(fixture)
{
    private static readonly Tokenizer Tokenizer = Tokenizer.FromDirectory(TestServer.ModelDir);

    /// <summary>The CPU runner's own greedy continuation, without scheduler or server.</summary>
    private static int[] RunnerGreedy(int[] prompt, int count)
    {
        string dir = TestServer.ModelDir;
        var config = HfConfig.Load(dir);
        using var checkpoint = Checkpoint.Open(dir);
        using var runner = new CpuModelRunner(ModelCatalog.All[config.Architectures[0]], config, checkpoint, 512, 64, threads: 1);
        return new GreedyGenerator(runner).Generate(prompt, count, stopAtEos: false);
    }

    [Fact]
    public async Task Greedy_generate_equals_the_CPU_runner_greedy_and_completions_text_is_its_decode()
    {
        int[] prompt = Tokenizer.Encode("Once upon a time there was a little");
        int[] expected = RunnerGreedy(prompt, 20);

        var (status, body) = await PostAsync("/generate",
            $$"""{"input_ids":{{JsonSerializer.Serialize(prompt)}},"sampling_params":{"max_new_tokens":20,"temperature":0,"ignore_eos":true} }""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(expected, body.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        var meta = body.GetProperty("meta_info");
        Assert.Equal(prompt.Length, meta.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(20, meta.GetProperty("completion_tokens").GetInt32());
        Assert.Equal("length", meta.GetProperty("finish_reason").GetProperty("type").GetString());
        Assert.Equal(20, meta.GetProperty("finish_reason").GetProperty("length").GetInt32());
        Assert.True(meta.GetProperty("e2e_latency").GetDouble() > 0);
        Assert.Equal(Tokenizer.Decode(expected, skipSpecialTokens: true), body.GetProperty("text").GetString());

        var completion = await GreedyCompletionAsync("Once upon a time there was a little", 20);
        var choice = completion.GetProperty("choices")[0];
        Assert.Equal(Tokenizer.Decode(expected, skipSpecialTokens: true), choice.GetProperty("text").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.Equal("text_completion", completion.GetProperty("object").GetString());
        Assert.StartsWith("cmpl-", completion.GetProperty("id").GetString());
        var usage = completion.GetProperty("usage");
        Assert.Equal(prompt.Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(20, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(prompt.Length + 20, usage.GetProperty("total_tokens").GetInt32());
        // The same prompt again: its prefix comes from the radix cache.
        Assert.True(usage.GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32() > 0);
    }

    [Fact]
    public async Task Token_id_prompt_gives_the_same_completion_as_the_text_prompt()
    {
        int[] ids = Tokenizer.Encode("The children are playing");
        var byText = await GreedyCompletionAsync("The children are playing", 8);
        var (status, byIds) = await PostAsync("/v1/completions",
            $$"""{"prompt":{{JsonSerializer.Serialize(ids)}},"max_tokens":8,"temperature":0,"ignore_eos":true}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(byText.GetProperty("choices")[0].GetProperty("text").GetString(), byIds.GetProperty("choices")[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task Stop_string_ends_the_text_before_it_in_plain_and_streamed_responses()
    {
        string full = (await GreedyCompletionAsync("Hello, how are you", 32)).GetProperty("choices")[0].GetProperty("text").GetString()!;
        Assert.True(full.Length >= 12, $"greedy text too short to cut: '{full}'");
        string stop = full.Substring(full.Length / 2, 3);
        string expected = full[..full.IndexOf(stop, StringComparison.Ordinal)];

        var body = await GreedyCompletionAsync("Hello, how are you", 32, $$""","stop":["\u0001never",{{JsonSerializer.Serialize(stop)}}]""");
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(expected, choice.GetProperty("text").GetString());
        Assert.Equal("stop", choice.GetProperty("finish_reason").GetString());
        Assert.Equal(stop, choice.GetProperty("matched_stop").GetString());

        var events = Sse.Json(await PostSseAsync("/v1/completions",
            $$"""{"prompt":"Hello, how are you","max_tokens":32,"temperature":0,"ignore_eos":true,"stream":true,"stop":{{JsonSerializer.Serialize(stop)}}}"""));
        string streamed = string.Concat(events.Select(e => e.GetProperty("choices")[0].GetProperty("text").GetString()));
        Assert.Equal(expected, streamed);
        Assert.Equal("stop", events[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task Streaming_deltas_concatenate_to_the_plain_text_and_end_with_usage_and_DONE()
    {
        string full = (await GreedyCompletionAsync("A serving engine", 16)).GetProperty("choices")[0].GetProperty("text").GetString()!;
        var raw = await PostSseAsync("/v1/completions",
            """{"prompt":"A serving engine","max_tokens":16,"temperature":0,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}""");
        var events = Sse.Json(raw);
        var usageChunk = events[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(16, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        var chunks = events[..^1];
        Assert.Equal(full, string.Concat(chunks.Select(e => e.GetProperty("choices")[0].GetProperty("text").GetString())));
        Assert.All(chunks[..^1], c => Assert.Equal(JsonValueKind.Null, c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
    }

    [Fact]
    public async Task N_choices_are_indexed_seeded_and_counted()
    {
        const string json = """{"prompt":"The weather","max_tokens":12,"temperature":1.0,"ignore_eos":true,"n":3,"seed":11}""";
        var (status, a) = await PostAsync("/v1/completions", json);
        Assert.Equal(HttpStatusCode.OK, status);
        var choices = a.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.Equal(36, a.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        // Seeds seed, seed+1, seed+2: the same request reproduces every choice, and choices differ from each other.
        var (_, b) = await PostAsync("/v1/completions", json);
        var texts = choices.Select(c => c.GetProperty("text").GetString()).ToArray();
        Assert.Equal(texts, b.GetProperty("choices").EnumerateArray().Select(c => c.GetProperty("text").GetString()));
        Assert.True(texts.Distinct().Count() > 1, "three sampled choices at temperature 1 were identical");
    }

    [Fact]
    public async Task A_batch_of_prompts_gets_each_prompts_own_completions_in_prompt_major_order()
    {
        string[] texts = ["Once upon a time there was a little", "The children are playing"];
        var alone = new List<string>();
        foreach (var t in texts) alone.Add((await GreedyCompletionAsync(t, 8)).GetProperty("choices")[0].GetProperty("text").GetString()!);
        int promptTokens = texts.Sum(t => Tokenizer.Encode(t).Length);

        // Strings, then the same prompts as token-id lists, two choices each (greedy: the same text twice), with echo.
        foreach (var prompt in new[] { JsonSerializer.Serialize(texts), JsonSerializer.Serialize(texts.Select(t => Tokenizer.Encode(t))) })
        {
            var (status, body) = await PostAsync("/v1/completions",
                $$"""{"prompt":{{prompt}},"max_tokens":8,"temperature":0,"ignore_eos":true,"n":2,"echo":true}""");
            Assert.Equal(HttpStatusCode.OK, status);
            var choices = body.GetProperty("choices").EnumerateArray().ToArray();
            Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
            // Choice j of prompt i at i * n + j, its prompt echoed in front.
            for (int i = 0; i < 4; i++) Assert.Equal(texts[i / 2] + alone[i / 2], choices[i].GetProperty("text").GetString());
            var usage = body.GetProperty("usage");
            Assert.Equal(promptTokens, usage.GetProperty("prompt_tokens").GetInt32());
            Assert.Equal(32, usage.GetProperty("completion_tokens").GetInt32());
        }

        // Streamed: every chunk names its choice; each choice's deltas make its text.
        var chunks = Sse.Json(await PostSseAsync("/v1/completions",
            $$"""{"prompt":{{JsonSerializer.Serialize(texts)}},"max_tokens":8,"temperature":0,"ignore_eos":true,"stream":true}"""));
        var streamed = new string[2];
        foreach (var c in chunks)
        {
            var choice = c.GetProperty("choices")[0];
            streamed[choice.GetProperty("index").GetInt32()] += choice.GetProperty("text").GetString();
        }
        Assert.Equal(alone, streamed);
    }

    [Fact]
    public async Task Seed_makes_sampling_deterministic()
    {
        async Task<string> Sample(int seed)
        {
            var (status, body) = await PostAsync("/v1/completions",
                $$"""{"prompt":"Every morning she walked","max_tokens":16,"temperature":1.0,"top_p":0.95,"ignore_eos":true,"seed":{{seed}}}""");
            Assert.Equal(HttpStatusCode.OK, status);
            return body.GetProperty("choices")[0].GetProperty("text").GetString()!;
        }
        string first = await Sample(7);
        Assert.Equal(first, await Sample(7));
        Assert.NotEqual(first, await Sample(8));
    }

    [Fact]
    public async Task Logprobs_report_each_token_with_its_top_alternatives()
    {
        var body = await GreedyCompletionAsync("The model reads the prompt", 6, ""","logprobs":3""");
        var lp = body.GetProperty("choices")[0].GetProperty("logprobs");
        var tokens = lp.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        var values = lp.GetProperty("token_logprobs").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        var tops = lp.GetProperty("top_logprobs").EnumerateArray().ToArray();
        var offsets = lp.GetProperty("text_offset").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal(6, tokens.Length);
        Assert.Equal(6, values.Length);
        Assert.Equal(6, tops.Length);
        Assert.Equal(0, offsets[0]);
        for (int i = 0; i < 6; i++)
        {
            Assert.True(values[i] <= 0);
            var top = tops[i].EnumerateObject().ToArray();
            Assert.InRange(top.Length, 1, 3);
            // Greedy: the chosen token is the most likely one, so its logprob is the best of the top list.
            Assert.Equal(top.Max(p => p.Value.GetSingle()), values[i], 4);
            if (i > 0) Assert.Equal(offsets[i - 1] + tokens[i - 1].Length, offsets[i]);
        }
    }
}
