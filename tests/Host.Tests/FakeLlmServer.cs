using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Host.Tests;

/// <summary>An in-process OpenAI / SGLang compatible server on 127.0.0.1 (a free port) that streams "tok{i} " chunks
/// with known delays, and records each request's body, arrival time and the number of requests in flight.</summary>
public sealed class FakeLlmServer : IAsyncDisposable
{
    public const string ModelName = "fake-model";

    private readonly WebApplication _app;
    private readonly FakeServerOptions _options;
    private int _inFlight, _maxInFlight, _count;

    private FakeLlmServer(WebApplication app, FakeServerOptions options)
    {
        _app = app;
        _options = options;
    }

    public string BaseUrl { get; private set; } = "";

    /// <summary>Stopwatch timestamps of generation requests as they arrived (warm-up included).</summary>
    public ConcurrentQueue<long> Arrivals { get; } = new();

    /// <summary>Generation request bodies, in arrival order.</summary>
    public ConcurrentQueue<JsonObject> Bodies { get; } = new();

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public int Requests => Volatile.Read(ref _count);

    public static async Task<FakeLlmServer> StartAsync(FakeServerOptions? options = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new FakeLlmServer(app, options ?? new FakeServerOptions());
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = new[] { new { id = ModelName, @object = "model" } } }));
        app.MapPost("/generate", ctx => server.HandleAsync(ctx, Api.Sglang));
        app.MapPost("/v1/completions", ctx => server.HandleAsync(ctx, Api.Completions));
        app.MapPost("/v1/chat/completions", ctx => server.HandleAsync(ctx, Api.Chat));
        await app.StartAsync();
        server.BaseUrl = app.Urls.First().TrimEnd('/');
        return server;
    }

    /// <summary>Forgets the warm-up: clears recorded arrivals, bodies and the in-flight peak.</summary>
    public void Reset()
    {
        Arrivals.Clear();
        Bodies.Clear();
        Volatile.Write(ref _maxInFlight, 0);
    }

    private enum Api { Sglang, Completions, Chat }

    private async Task HandleAsync(HttpContext ctx, Api api)
    {
        Arrivals.Enqueue(Stopwatch.GetTimestamp());
        int number = Interlocked.Increment(ref _count);
        int inFlight = Interlocked.Increment(ref _inFlight);
        for (int seen = Volatile.Read(ref _maxInFlight); inFlight > seen; seen = Volatile.Read(ref _maxInFlight))
            if (Interlocked.CompareExchange(ref _maxInFlight, inFlight, seen) == seen) break;
        try
        {
            var body = (await JsonNode.ParseAsync(ctx.Request.Body))!.AsObject();
            Bodies.Enqueue(body);
            if (_options.FailEvery > 0 && number % _options.FailEvery == 0)
            {
                ctx.Response.StatusCode = 500;
                await ctx.Response.WriteAsync("injected failure");
                return;
            }
            int maxTokens = api == Api.Sglang
                ? (int)body["sampling_params"]!["max_new_tokens"]!
                : (int)body["max_tokens"]!;
            bool stream = (bool?)body["stream"] ?? false;
            if (stream) await StreamAsync(ctx, api, maxTokens, (bool?)body["stream_options"]?["include_usage"] ?? false);
            else await WholeAsync(ctx, api, maxTokens);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task StreamAsync(HttpContext ctx, Api api, int maxTokens, bool includeUsage)
    {
        ctx.Response.ContentType = "text/event-stream";
        await ctx.Response.StartAsync();
        var text = new StringBuilder();
        int sent = 0;
        await Task.Delay(_options.FirstTokenDelay);
        while (sent < maxTokens)
        {
            if (sent > 0) await Task.Delay(_options.TokenDelay);
            var piece = new StringBuilder();
            for (int k = 0; k < _options.TokensPerChunk && sent < maxTokens; k++, sent++) piece.Append($"tok{sent} ");
            text.Append(piece);
            object chunk = api switch
            {
                Api.Sglang => _options.ReportUsage
                    ? new { text = text.ToString(), meta_info = new { completion_tokens = sent } }
                    : new { text = text.ToString() },
                Api.Completions => new { choices = new[] { new { index = 0, text = piece.ToString() } } },
                _ => (object)new { choices = new[] { new { index = 0, delta = new { content = piece.ToString() } } } },
            };
            await WriteEventAsync(ctx, JsonSerializer.Serialize(chunk));
        }
        if (api != Api.Sglang && includeUsage && _options.ReportUsage)
            await WriteEventAsync(ctx, JsonSerializer.Serialize(new { choices = Array.Empty<object>(), usage = new { completion_tokens = sent } }));
        await WriteEventAsync(ctx, "[DONE]");
    }

    private static async Task WriteEventAsync(HttpContext ctx, string data)
    {
        await ctx.Response.WriteAsync($"data: {data}\n\n");
        await ctx.Response.Body.FlushAsync();
    }

    private async Task WholeAsync(HttpContext ctx, Api api, int maxTokens)
    {
        await Task.Delay(_options.FirstTokenDelay + _options.TokenDelay * Math.Max(0, maxTokens - 1));
        string text = string.Concat(Enumerable.Range(0, maxTokens).Select(i => $"tok{i} "));
        object answer = api switch
        {
            Api.Sglang => new { text, meta_info = new { completion_tokens = maxTokens } },
            Api.Completions => new { choices = new[] { new { index = 0, text } }, usage = new { completion_tokens = maxTokens } },
            _ => (object)new { choices = new[] { new { index = 0, message = new { role = "assistant", content = text } } }, usage = new { completion_tokens = maxTokens } },
        };
        await ctx.Response.WriteAsJsonAsync(answer);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
