using System.Text;
using System.Text.Json;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Compiler.Runtime.Server;

/// <summary>/v1/models, /metrics, /flush_cache and /health_generate.</summary>
internal static class AdminEndpoints
{
    public static async Task ModelsAsync(OpenAIServer server, HttpContext ctx)
    {
        string name = server.Options.ServedModelName;
        var list = new ModelList("list", [new ModelCard(name, "model", server.Created, "compiler", name, server.Host.ContextLength)]);
        ctx.Response.ContentType = "application/json";
        await ctx.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(list, ServerJsonContext.Relaxed.ModelList), ctx.RequestAborted);
    }

    public static async Task MetricsAsync(OpenAIServer server, HttpContext ctx)
    {
        ctx.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
        await ctx.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(server.Host.Metrics.Render()), ctx.RequestAborted);
    }

    /// <summary>As SGLang: flushes only when no request is in flight (200), otherwise 400 and nothing changes.</summary>
    public static async Task FlushCacheAsync(OpenAIServer server, HttpContext ctx)
    {
        bool flushed = await server.Host.FlushCacheAsync();
        if (!flushed)
            throw ApiException.BadRequest("Cache not flushed: requests are still running or waiting. Retry when the server is idle.");
        server.Log("Cache flushed successfully!");
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        await ctx.Response.Body.WriteAsync("Cache flushed.\nPlease check backend logs for more details. (When there are running or waiting requests, the operation will not be performed.)\n"u8.ToArray(), ctx.RequestAborted);
    }

    /// <summary>Runs a one-token generation through the engine (SGLang's health check); 503 if it fails or takes over 20 s.</summary>
    public static async Task HealthGenerateAsync(OpenAIServer server, HttpContext ctx)
    {
        if (server.Host.FatalError is { } fatal) throw new ApiException(503, fatal);
        var options = new GenerationOptions { Sampling = new SamplingParams { MaxNewTokens = 1, Temperature = 0, IgnoreEos = true } };
        var decoders = ChoiceRunner.Submit(server, server.NewId("HEALTH_CHECK"), [0], options);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            await ChoiceRunner.RunAsync(decoders, null, timeout.Token);
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            throw new ApiException(503, "Health check failed: a one-token generation did not finish within 20 s.");
        }
        catch (ApiException e)
        {
            throw new ApiException(503, $"Health check failed: {e.Message}");
        }
        if (decoders[0].OutputIds.Count != 1)
            throw new ApiException(503, $"Health check failed: expected one generated token, got {decoders[0].OutputIds.Count} (finish: {decoders[0].Finish}).");
        ctx.Response.StatusCode = 200;
    }
}
