using System.Text.Json;
using Compiler.Runtime.Server.Protocol;
using Compiler.Runtime.Text;
using Compiler.Runtime.Text.Templates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Compiler.Runtime.Server;

/// <summary>
/// The OpenAI-compatible HTTP server (Kestrel, minimal routing): /v1/completions, /v1/chat/completions,
/// /v1/models, SGLang's native /generate, /health, /health_generate, /metrics and /flush_cache. Handlers parse and
/// validate on the request thread, hand requests to the <see cref="EngineHost"/> and stream its outputs back.
/// </summary>
internal sealed class OpenAIServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    public OpenAIServer(EngineHost host, Tokenizer? tokenizer, ChatTemplate? chatTemplate, ServerOptions options, Action<string>? log = null)
    {
        Host = host;
        Tokenizer = tokenizer;
        ChatTemplate = chatTemplate;
        Options = options;
        Log = log ?? (_ => { });
        Created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{FormatHost(options.Host)}:{options.Port}");
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        _app = builder.Build();
        _app.Use(Authenticate);
        _app.MapGet("/health", HealthAsync);
        _app.MapGet("/health_generate", ctx => Guard(ctx, AdminEndpoints.HealthGenerateAsync));
        _app.MapGet("/v1/models", ctx => Guard(ctx, AdminEndpoints.ModelsAsync));
        _app.MapGet("/metrics", ctx => Guard(ctx, AdminEndpoints.MetricsAsync));
        _app.MapPost("/flush_cache", ctx => Guard(ctx, AdminEndpoints.FlushCacheAsync));
        _app.MapGet("/flush_cache", ctx => Guard(ctx, AdminEndpoints.FlushCacheAsync));
        _app.MapPost("/v1/completions", ctx => Guard(ctx, CompletionsEndpoint.HandleAsync));
        _app.MapPost("/v1/chat/completions", ctx => Guard(ctx, ChatCompletionsEndpoint.HandleAsync));
        _app.MapPost("/generate", ctx => Guard(ctx, GenerateEndpoint.HandleAsync));
        _app.MapFallback(ctx => WriteErrorAsync(ctx, new ApiException(404, $"No route for {ctx.Request.Method} {ctx.Request.Path}.")));
    }

    public EngineHost Host { get; }
    public Tokenizer? Tokenizer { get; }
    public ChatTemplate? ChatTemplate { get; }
    public ServerOptions Options { get; }
    public Action<string> Log { get; }
    /// <summary>When the server started (unix seconds): the model card's "created". Responses carry their own time.</summary>
    public long Created { get; }

    /// <summary>The address Kestrel listens on (the real port when Options.Port was 0); valid after StartAsync.</summary>
    public Uri BaseAddress
    {
        get
        {
            var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
            string first = addresses?.FirstOrDefault() ?? throw new InvalidOperationException("The server is not listening yet; call StartAsync first.");
            return new Uri(first.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        }
    }

    /// <summary>The host's lifetime: its console lifetime calls StopApplication on SIGINT / SIGTERM.</summary>
    public IHostApplicationLifetime Lifetime => _app.Lifetime;

    public Task StartAsync(CancellationToken ct = default) => _app.StartAsync(ct);

    public Task StopAsync(CancellationToken ct = default) => _app.StopAsync(ct);

    /// <summary>After <see cref="StartAsync"/>: serves until <paramref name="ct"/> is cancelled or the host is asked to
    /// stop, then stops Kestrel. The host's console lifetime takes SIGINT / SIGTERM for itself (and only stops the host),
    /// so Ctrl+C and `kill` arrive as the latter.</summary>
    public async Task WaitForStopAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, Lifetime.ApplicationStopping);
        try { await Task.Delay(Timeout.Infinite, stop.Token); }
        catch (OperationCanceledException) { }
        await _app.StopAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();

    internal string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    private Task HealthAsync(HttpContext ctx)
    {
        // SGLang answers 503 while the engine cannot serve.
        if (Host.FatalError is { } fatal) return WriteErrorAsync(ctx, new ApiException(503, fatal));
        ctx.Response.StatusCode = 200;
        return Task.CompletedTask;
    }

    private async Task Authenticate(HttpContext ctx, RequestDelegate next)
    {
        if (Options.ApiKey is { } key && ctx.Request.Path != "/health")
        {
            string? header = ctx.Request.Headers.Authorization;
            if (header == null || !header.StartsWith("Bearer ", StringComparison.Ordinal) || !FixedTimeEquals(header[7..].Trim(), key))
            {
                await WriteErrorAsync(ctx, new ApiException(401,
                    header == null ? "Missing API key: send 'Authorization: Bearer YOUR_KEY' (the server was started with --api-key)."
                        : "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key"));
                return;
            }
        }
        await next(ctx);
    }

    private static bool FixedTimeEquals(string a, string b) =>
        System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(a), System.Text.Encoding.UTF8.GetBytes(b));

    /// <summary>Every handler runs here: a refused request gets its error, a bug a 500; the server keeps serving.</summary>
    private async Task Guard(HttpContext ctx, Func<OpenAIServer, HttpContext, Task> handler)
    {
        try
        {
            await handler(this, ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; its engine requests were aborted by the handler's finally.
        }
        catch (ApiException e)
        {
            if (e.Status >= 500) Log($"{ctx.Request.Method} {ctx.Request.Path}: {e.Status} {e.Message}");
            await WriteErrorAsync(ctx, e);
        }
        catch (Exception e)
        {
            Log($"{ctx.Request.Method} {ctx.Request.Path} failed: {e}");
            await WriteErrorAsync(ctx, new ApiException(500, $"Internal server error: {e.GetType().Name}: {e.Message}"));
        }
    }

    internal static async Task WriteErrorAsync(HttpContext ctx, ApiException e)
    {
        var body = new ErrorResponse(new ErrorDetail(e.Message, e.Type, e.Param, e.Code));
        if (ctx.Response.HasStarted)
        {
            // Mid-stream: the status is already sent, so the error goes out as an SSE event (as SGLang does).
            await SseWriter.WriteAsync(ctx.Response, JsonSerializer.SerializeToUtf8Bytes(body, ServerJsonContext.Relaxed.ErrorResponse), CancellationToken.None);
            await SseWriter.WriteDoneAsync(ctx.Response, CancellationToken.None);
            return;
        }
        ctx.Response.StatusCode = e.Status;
        ctx.Response.ContentType = "application/json";
        await ctx.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(body, ServerJsonContext.Relaxed.ErrorResponse));
    }

    /// <summary>Parses the body as a JSON object (400 for anything else).</summary>
    internal static async Task<JsonDocument> ReadJsonAsync(HttpContext ctx)
    {
        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(ctx.Request.Body, default, ctx.RequestAborted);
        }
        catch (JsonException e)
        {
            throw ApiException.BadRequest($"The request body is not valid JSON: {e.Message}");
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            string got = JsonFields.Describe(doc.RootElement);
            doc.Dispose();
            throw ApiException.BadRequest($"The request body must be a JSON object, got {got}.");
        }
        return doc;
    }

    /// <summary>"model" may be omitted; if given it must be the served model name.</summary>
    internal void CheckModel(JsonElement root)
    {
        string? model = JsonFields.String(root, "model");
        if (model != null && model != Options.ServedModelName)
            throw new ApiException(404, $"The model `{model}` does not exist. This server serves `{Options.ServedModelName}`.", "model",
                type: "invalid_request_error", code: "model_not_found");
    }

    internal Tokenizer RequireTokenizer(string what) => Tokenizer ?? throw ApiException.BadRequest(
        $"{what} needs the model's tokenizer, but {Options.TokenizerMissingReason ?? "none was loaded"}. Send token ids (\"input_ids\" to /generate) instead, or serve a model directory with tokenizer.json.");

    private static string FormatHost(string host) => host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
