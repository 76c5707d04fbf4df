using System.Net;
using System.Text;
using System.Text.Json;

namespace Server.Tests;

/// <summary>Shared server per class; after every test the engine's pools must be back to baseline.</summary>
public abstract class ServerTestBase(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    internal TestServer Server => fixture.Server;

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync() => await Server.AssertBaselineAsync();

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(TestServer server, string path, string json, string? apiKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (apiKey != null) request.Headers.Authorization = new("Bearer", apiKey);
        using var response = await server.Http.SendAsync(request, Ct);
        string text = await response.Content.ReadAsStringAsync(Ct);
        JsonElement body = text.TrimStart().StartsWith('{') || text.TrimStart().StartsWith('[')
            ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return (response.StatusCode, body);
    }

    protected Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string json) => PostAsync(Server, path, json);

    protected async Task<List<string>> PostSseAsync(string path, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        using var response = await Server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await Sse.ReadAllAsync(response);
    }

    /// <summary>Greedy text of a completion (ignore_eos, so it always has max_tokens tokens).</summary>
    protected async Task<JsonElement> GreedyCompletionAsync(string prompt, int maxTokens, string extra = "")
    {
        var (status, body) = await PostAsync("/v1/completions",
            $$"""{"model":"tiny-chat","prompt":{{JsonSerializer.Serialize(prompt)}},"max_tokens":{{maxTokens}},"temperature":0,"ignore_eos":true{{extra}}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        return body;
    }
}
