using System.Net;
using System.Net.Sockets;
using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>Failed requests are counted, with their error, and the run goes on.</summary>
public sealed class ErrorTests
{
    [Fact]
    public async Task Server_errors_are_counted_and_the_rest_measured()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FailEvery = 3, FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1),
        });
        var options = TestBench.Options(server, "sglang-oai", prompts: 9) with { MaxConcurrency = 1 };
        var (result, log) = await TestBench.RunAsync(options);

        var failed = result.Run.Outputs.Where(o => !o.Success).ToArray();
        Assert.Equal(3, failed.Length);
        Assert.All(failed, o => Assert.Contains("HTTP 500", o.Error));
        Assert.All(failed, o => Assert.Contains("injected failure", o.Error));
        Assert.Equal(6, result.Metrics.Completed);
        Assert.Equal(3, result.Metrics.Failed);
        Assert.Equal(60, result.Metrics.TotalOutput);
        Assert.Contains("3 of 9 requests failed", log);
    }

    [Fact]
    public async Task Connection_refused_fails_requests_without_crashing_the_run()
    {
        int port = FreePort();
        var options = new BenchOptions
        {
            Backend = "sglang", BaseUrl = $"http://127.0.0.1:{port}", DatasetName = "random-ids", NumPrompts = 5,
            RandomInputLen = 8, RandomOutputLen = 4, WarmupRequests = 0, WarmupPause = TimeSpan.Zero,
            OutputFile = Path.Combine(Directory.CreateTempSubdirectory("bench-serving-").FullName, "r.jsonl"),
        };
        var (result, _) = await TestBench.RunAsync(options);

        Assert.Equal(0, result.Metrics.Completed);
        Assert.Equal(5, result.Metrics.Failed);
        Assert.All(result.Run.Outputs, o => Assert.Contains("refused", o.Error, StringComparison.OrdinalIgnoreCase));
        Assert.True(File.Exists(options.OutputFile));
    }

    [Fact]
    public async Task A_warmup_that_fails_stops_the_benchmark_with_the_error()
    {
        var options = new BenchOptions
        {
            Backend = "sglang", BaseUrl = $"http://127.0.0.1:{FreePort()}", DatasetName = "random-ids", NumPrompts = 2,
            RandomInputLen = 8, RandomOutputLen = 4, WarmupPause = TimeSpan.Zero,
            OutputFile = Path.Combine(Directory.CreateTempSubdirectory("bench-serving-").FullName, "r.jsonl"),
        };
        var e = await Assert.ThrowsAsync<BenchmarkException>(() => TestBench.RunAsync(options));
        Assert.Contains("Warmup failed", e.Message);
        Assert.Contains("refused", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_unreachable_server_without_model_is_reported_for_OpenAI_backends()
    {
        var options = new BenchOptions
        {
            Backend = "openai", BaseUrl = $"http://127.0.0.1:{FreePort()}", DatasetName = "random-ids", NumPrompts = 2,
            WarmupPause = TimeSpan.Zero,
        };
        var e = await Assert.ThrowsAsync<BenchmarkException>(() => TestBench.RunAsync(options));
        Assert.Contains("/v1/models", e.Message);
        Assert.Contains("--model", e.Message);
    }

    /// <summary>A port nothing listens on: bound, read and released.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
