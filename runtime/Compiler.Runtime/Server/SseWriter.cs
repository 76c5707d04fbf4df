using Microsoft.AspNetCore.Http;

namespace Compiler.Runtime.Server;

/// <summary>Server-sent events as OpenAI streams them: <c>data: {json}\n\n</c> ... <c>data: [DONE]\n\n</c>, flushed per event.</summary>
internal static class SseWriter
{
    public static void Start(HttpResponse response)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx and friends: do not buffer the stream
    }

    private static readonly byte[] DataPrefix = "data: "u8.ToArray(), EventEnd = "\n\n"u8.ToArray(), Done = "data: [DONE]\n\n"u8.ToArray();

    public static async Task WriteAsync(HttpResponse response, byte[] json, CancellationToken ct)
    {
        await response.Body.WriteAsync(DataPrefix, ct);
        await response.Body.WriteAsync(json, ct);
        await response.Body.WriteAsync(EventEnd, ct);
        await response.Body.FlushAsync(ct);
    }

    public static async Task WriteDoneAsync(HttpResponse response, CancellationToken ct)
    {
        await response.Body.WriteAsync(Done, ct);
        await response.Body.FlushAsync(ct);
    }
}
