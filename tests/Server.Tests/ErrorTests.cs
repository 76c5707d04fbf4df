using System.Net;
using System.Text;

namespace Server.Tests;

/// <summary>Refused requests get OpenAI's error body with the right status and param, and the server keeps serving.</summary>
public sealed class ErrorTests(ServerFixture fixture) : ServerTestBase(fixture)
{
    private static readonly string LongPrompt = string.Join(' ', Enumerable.Repeat("zq", 400));

    public static TheoryData<string, string, int, string?> Cases => new()
    {
        { "/v1/completions", """{"prompt": "hi", "max_tokens": 4""", 400, null },
        { "/v1/completions", """[1, 2, 3]""", 400, null },
        { "/v1/completions", """{"max_tokens": 4}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": ""}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": []}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": 42}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": [1, 99999]}""", 400, "prompt" },
        { "/v1/completions", $$"""{"prompt": "{{LongPrompt}}"}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": "hi", "max_tokens": 1000}""", 400, "max_tokens" },
        { "/v1/completions", """{"prompt": "hi", "max_tokens": -3}""", 400, "max_tokens" },
        { "/v1/completions", """{"prompt": "hi", "max_tokens": "five"}""", 400, "max_tokens" },
        { "/v1/completions", """{"prompt": "hi", "temperature": -0.5}""", 400, "temperature" },
        { "/v1/completions", """{"prompt": "hi", "temperature": "hot"}""", 400, "temperature" },
        { "/v1/completions", """{"prompt": "hi", "top_p": 0}""", 400, "top_p" },
        { "/v1/completions", """{"prompt": "hi", "top_p": 1.5}""", 400, "top_p" },
        { "/v1/completions", """{"prompt": "hi", "n": 0}""", 400, "n" },
        { "/v1/completions", """{"prompt": "hi", "stop": 5}""", 400, "stop" },
        { "/v1/completions", """{"prompt": "hi", "stream": "yes"}""", 400, "stream" },
        { "/v1/completions", """{"prompt": "hi", "model": "gpt-4"}""", 404, "model" },
        { "/v1/chat/completions", """{"messages": []}""", 400, "messages" },
        { "/v1/chat/completions", """{"model": "tiny-chat"}""", 400, "messages" },
        { "/v1/chat/completions", """{"messages": [{"content": "hi"}]}""", 400, "messages[0].role" },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": 3}]}""", 400, "messages[0].content" },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "top_logprobs": 2}""", 400, "top_logprobs" },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "model": "nope"}""", 404, "model" },
        { "/v1/completions", """{"prompt": ["hi", [1, 2]]}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": ["hi", ""]}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": [[1, 2], [3, "x"]]}""", 400, "prompt" },
        { "/v1/completions", """{"prompt": []}""", 400, "prompt" },
        { "/generate", """{"text": ["hi", 3]}""", 400, "text" },
        { "/generate", """{"input_ids": [[1, 2], []]}""", 400, "input_ids" },
        { "/generate", """{"input_ids": [[1, 2], 3]}""", 400, "input_ids" },
        { "/generate", """{"sampling_params": {"max_new_tokens": 2}}""", 400, "text" },
        { "/generate", """{"input_ids": [], "sampling_params": {}}""", 400, "input_ids" },
        { "/generate", """{"input_ids": [1, "a"]}""", 400, "input_ids" },
        { "/generate", """{"text": "hi", "sampling_params": {"temperature": -1}}""", 400, "temperature" },
        { "/v1/chat/completions", """{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}""", 400, "max_tokens" },
        { "/generate", """{"input_ids": [5, 6, 7], "return_logprob": true, "logprob_start_len": 3}""", 400, "logprob_start_len" },
        { "/generate", """{"input_ids": [5, 6, 7], "return_logprob": true, "logprob_start_len": -2}""", 400, "logprob_start_len" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Bad_requests_get_OpenAI_errors(string path, string json, int status, string? param)
    {
        using var response = await Server.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(status, (int)response.StatusCode);
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var error = doc.RootElement.GetProperty("error");
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.Equal(status == 404 ? "invalid_request_error" : "invalid_request_error", error.GetProperty("type").GetString());
        if (param != null) Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.True(error.TryGetProperty("code", out _));

        // Everyone else is still served.
        var ok = await GreedyCompletionAsync("still alive", 2);
        Assert.Equal(2, ok.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Fact]
    public async Task Unknown_route_is_a_json_404()
    {
        using var response = await Server.Http.GetAsync("/v1/nothing", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("\"error\"", await response.Content.ReadAsStringAsync(Ct));
    }
}
