using System.Net;

namespace Compiler.Host.Bench;

/// <summary>The HTTP client of a run: one connection per in-flight request (no per-server cap), no proxy (a local
/// server must not go through one from the environment, as aiohttp's default), no decompression, and SGLang's
/// six-hour request timeout so long generations are never cut.</summary>
internal static class BenchHttp
{
    public static HttpClient Create() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        MaxConnectionsPerServer = int.MaxValue,
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        // A burst of thousands of connects can sit in a busy server's accept queue for a while.
        ConnectTimeout = TimeSpan.FromMinutes(5),
    })
    {
        Timeout = TimeSpan.FromHours(6),
    };
}
