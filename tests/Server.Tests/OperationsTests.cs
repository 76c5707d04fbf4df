using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Server.Tests;

public sealed class OperationsTests(ServerFixture fixture) : ServerTestBase(fixture)
{
    private async Task<Dictionary<string, double>> MetricsAsync()
    {
        using var response = await Server.Http.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync(Ct);
        var values = new Dictionary<string, double>();
        foreach (Match m in Regex.Matches(text, @"^(sglang:[a-z0-9_]+)\{(?:le=""([^""]+)"",)?model_name=""tiny-chat""\} (\S+)$", RegexOptions.Multiline))
            values[m.Groups[1].Value + (m.Groups[2].Success ? $"[{m.Groups[2].Value}]" : "")] = double.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        return values;
    }

    [Fact]
    public async Task Metrics_use_SGLang_names_and_buckets_and_counters_move()
    {
        var before = await MetricsAsync();
        foreach (string name in new[] { "sglang:prompt_tokens_total", "sglang:generation_tokens_total", "sglang:token_usage", "sglang:cache_hit_rate",
                     "sglang:num_running_reqs", "sglang:num_queue_reqs", "sglang:time_to_first_token_seconds_count",
                     "sglang:inter_token_latency_seconds_count", "sglang:e2e_request_latency_seconds_count",
                     "sglang:time_to_first_token_seconds_bucket[0.1]", "sglang:e2e_request_latency_seconds_bucket[2400.0]",
                     "sglang:inter_token_latency_seconds_bucket[0.002]", "sglang:time_to_first_token_seconds_bucket[+Inf]" })
            Assert.True(before.ContainsKey(name), $"/metrics lacks {name}");

        var body = await GreedyCompletionAsync("Metrics please", 5);
        int prompt = body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        // The counters move before the response; the scheduler's gauges at the end of the step that finished the
        // request, which may come after it: so the gauges are read once they have settled (or after 5 s, and fail).
        var after = await MetricsAsync();
        for (var waited = 0; waited < 5000 && (after["sglang:num_running_reqs"] != 0 || after["sglang:token_usage"] != 0); waited += 20)
        {
            await Task.Delay(20, Ct);
            after = await MetricsAsync();
        }
        Assert.Equal(before["sglang:prompt_tokens_total"] + prompt, after["sglang:prompt_tokens_total"]);
        Assert.Equal(before["sglang:generation_tokens_total"] + 5, after["sglang:generation_tokens_total"]);
        Assert.Equal(before["sglang:time_to_first_token_seconds_count"] + 1, after["sglang:time_to_first_token_seconds_count"]);
        Assert.Equal(before["sglang:inter_token_latency_seconds_count"] + 4, after["sglang:inter_token_latency_seconds_count"]);
        Assert.Equal(before["sglang:e2e_request_latency_seconds_count"] + 1, after["sglang:e2e_request_latency_seconds_count"]);
        Assert.Equal(0, after["sglang:num_running_reqs"]);
        Assert.Equal(0, after["sglang:token_usage"]);
    }

    [Fact]
    public async Task Flush_cache_empties_the_radix_cache_when_idle()
    {
        await GreedyCompletionAsync("Fill the cache with this prompt", 4);
        var s = await Server.Host.SnapshotAsync();
        Assert.True(s.Evictable > 0, "the finished request left nothing in the radix cache");
        using var response = await Server.Http.PostAsync("/flush_cache", null, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        s = await Server.Host.SnapshotAsync();
        Assert.Equal(0, s.Evictable);
        Assert.Equal(s.KvCapacity, s.KvAvailable);
        // Nothing is cached any more: the same prompt is computed from scratch.
        var again = await GreedyCompletionAsync("Fill the cache with this prompt", 4);
        Assert.Equal(0, again.GetProperty("usage").GetProperty("prompt_tokens_details").GetProperty("cached_tokens").GetInt32());
    }

    [Fact]
    public async Task Health_health_generate_and_models()
    {
        Assert.Equal(HttpStatusCode.OK, (await Server.Http.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Server.Http.GetAsync("/health_generate", Ct)).StatusCode);
        using var models = JsonDocument.Parse(await Server.Http.GetStringAsync("/v1/models", Ct));
        var card = models.RootElement.GetProperty("data")[0];
        Assert.Equal("tiny-chat", card.GetProperty("id").GetString());
        Assert.Equal("model", card.GetProperty("object").GetString());
        Assert.Equal(256, card.GetProperty("max_model_len").GetInt32());
    }

    [Fact]
    public async Task Native_generate_streams_cumulative_results_with_logprobs()
    {
        var events = Sse.Json(await PostSseAsync("/generate",
            """{"text":"The river","sampling_params":{"max_new_tokens":6,"temperature":0,"ignore_eos":true},"stream":true,"return_logprob":true,"top_logprobs_num":2}"""));
        var last = events[^1];
        Assert.Equal(6, last.GetProperty("output_ids").GetArrayLength());
        var meta = last.GetProperty("meta_info");
        Assert.Equal("length", meta.GetProperty("finish_reason").GetProperty("type").GetString());
        var lps = meta.GetProperty("output_token_logprobs").EnumerateArray().ToArray();
        Assert.Equal(6, lps.Length);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(last.GetProperty("output_ids")[i].GetInt32(), lps[i][1].GetInt32());
            Assert.Equal(2, meta.GetProperty("output_top_logprobs")[i].GetArrayLength());
        }
        // Cumulative: every event's text is a prefix of the final text.
        string final = last.GetProperty("text").GetString()!;
        Assert.All(events, e => Assert.StartsWith(e.GetProperty("text").GetString()!, final));
    }

    [Fact]
    public async Task Native_generate_takes_a_batch_of_prompts_plain_and_streamed()
    {
        const string sampling = "\"sampling_params\":{\"max_new_tokens\":5,\"temperature\":0,\"ignore_eos\":true}";
        var alone = new List<int[]>();
        foreach (var text in new[] { "The river", "A small dog" })
        {
            var (_, one) = await PostAsync("/generate", $$"""{"text":{{JsonSerializer.Serialize(text)}},{{sampling}}}""");
            alone.Add(one.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray());
        }

        var (status, batch) = await PostAsync("/generate", $$"""{"text":["The river","A small dog"],{{sampling}}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.Array, batch.ValueKind);
        Assert.Equal(alone, batch.EnumerateArray().Select(r => r.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()));

        // Streamed, each event carries its result's index in the list.
        var events = Sse.Json(await PostSseAsync("/generate", $$"""{"text":["The river","A small dog"],{{sampling}},"stream":true}"""));
        var last = new JsonElement[2];
        foreach (var e in events) last[e.GetProperty("index").GetInt32()] = e;
        Assert.Equal(alone, last.Select(r => r.GetProperty("output_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray()));
    }
}
