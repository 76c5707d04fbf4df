using System.Net;
using System.Text;
using System.Text.Json;

namespace Server.Tests;

/// <summary>Servers started for one scenario each: API key, client disconnects, engine failure, no tokenizer.</summary>
public sealed class SpecialServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Api_key_guards_every_endpoint_but_health()
    {
        await using var server = await TestServer.StartAsync(apiKey: "sk-test");
        const string body = """{"prompt":"hi","max_tokens":2}""";
        using (var none = await server.Http.PostAsync("/v1/completions", Json(body), Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
            using var doc = JsonDocument.Parse(await none.Content.ReadAsStringAsync(Ct));
            Assert.Equal("invalid_api_key", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
        var (wrong, _) = await ServerTestBase.PostAsync(server, "/v1/completions", body, apiKey: "sk-wrong");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong);
        var (right, _) = await ServerTestBase.PostAsync(server, "/v1/completions", body, apiKey: "sk-test");
        Assert.Equal(HttpStatusCode.OK, right);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("/metrics", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("/v1/models", Ct)).StatusCode);
        await server.AssertBaselineAsync();
    }

    [Fact]
    public async Task Client_disconnect_mid_stream_aborts_the_request_and_frees_its_KV()
    {
        HookedRunner? hooked = null;
        await using var server = await TestServer.StartAsync(wrap: r => hooked = new HookedRunner(r) { DelayMs = 5 });
        // MaxResponseDrainSize 0: disposing the response closes the connection instead of reading the rest of it.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress };
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
               { Content = Json("""{"prompt":"Keep talking","max_tokens":200,"temperature":0,"ignore_eos":true,"stream":true}""") })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Ct));
            int chunks = 0;
            while (chunks < 3 && await reader.ReadLineAsync(Ct) is { } line)
                if (line.StartsWith("data: ", StringComparison.Ordinal)) chunks++;
            Assert.Equal(3, chunks);
            // While it runs, /flush_cache refuses (SGLang: only when idle).
            using var flush = await server.Http.PostAsync("/flush_cache", null, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, flush.StatusCode);
        } // disposing the response closes the connection mid-stream
        await server.AssertBaselineAsync();
        Assert.Contains(server.Log, l => l.Contains("finish_reason=abort", StringComparison.Ordinal));
        Assert.True(hooked!.Forwards < 150, $"the request ran {hooked.Forwards} steps: it was not aborted");
        string metrics = await server.Http.GetStringAsync("/metrics", Ct);
        Assert.Contains("sglang:num_aborted_requests_total{model_name=\"tiny-chat\"} 1.0", metrics);
    }

    [Fact]
    public async Task Engine_failure_fails_the_requests_in_flight_with_500_and_the_server_recovers()
    {
        HookedRunner? hooked = null;
        await using var server = await TestServer.StartAsync(wrap: r => hooked = new HookedRunner(r));
        hooked!.FailNextForward();
        var (status, body) = await ServerTestBase.PostAsync(server, "/v1/completions", """{"prompt":"boom","max_tokens":4}""");
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("injected device failure", body.GetProperty("error").GetProperty("message").GetString());
        Assert.Contains(server.Log, l => l.Contains("Engine step failed", StringComparison.Ordinal));
        await server.AssertBaselineAsync();

        var (ok, after) = await ServerTestBase.PostAsync(server, "/v1/completions", """{"prompt":"boom","max_tokens":4,"ignore_eos":true}""");
        Assert.Equal(HttpStatusCode.OK, ok);
        Assert.Equal(4, after.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health", Ct)).StatusCode);
        await server.AssertBaselineAsync();
    }

    [Fact]
    public async Task Without_a_tokenizer_token_ids_work_and_text_endpoints_say_what_is_missing()
    {
        string dir = Directory.CreateTempSubdirectory("server-no-tokenizer-").FullName;
        try
        {
            foreach (string f in new[] { "config.json", "model.safetensors" })
                File.Copy(Path.Combine(TestServer.ModelDir, f), Path.Combine(dir, f));
            await using var server = await TestServer.StartAsync(modelDir: dir);
            var (status, body) = await ServerTestBase.PostAsync(server, "/generate", """{"input_ids":[1,2,3],"sampling_params":{"max_new_tokens":3,"temperature":0}}""");
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(3, body.GetProperty("output_ids").GetArrayLength());
            Assert.Equal(JsonValueKind.Null, body.GetProperty("text").ValueKind);

            var (chatStatus, chat) = await ServerTestBase.PostAsync(server, "/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}]}""");
            Assert.Equal(HttpStatusCode.BadRequest, chatStatus);
            Assert.Contains("tokenizer.json", chat.GetProperty("error").GetProperty("message").GetString());
            var (textStatus, _) = await ServerTestBase.PostAsync(server, "/generate", """{"text":"hi"}""");
            Assert.Equal(HttpStatusCode.BadRequest, textStatus);
            await server.AssertBaselineAsync();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
