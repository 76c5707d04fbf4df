using System.Collections.Concurrent;
using Compiler.Models;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Scheduling;
using Compiler.Runtime.Server;

namespace Server.Tests;

/// <summary>
/// The real server (Kestrel on 127.0.0.1, a free port) over the CPU runner and the tiny-chat checkpoint, in process.
/// <see cref="AssertBaselineAsync"/> checks that nothing leaked: no request left, every KV slot free or evictable,
/// nothing locked, and the scheduler's own integrity check.
/// </summary>
internal sealed class TestServer : IAsyncDisposable
{
    public const string ModelName = "tiny-chat";

    private readonly Checkpoint _checkpoint;
    private readonly CpuModelRunner _runner;

    private TestServer(Checkpoint checkpoint, CpuModelRunner runner, ServingStack stack, ConcurrentQueue<string> log)
    {
        Log = log;
        _checkpoint = checkpoint;
        _runner = runner;
        Stack = stack;
        Http = new HttpClient { BaseAddress = stack.Server.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static string ModelDir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "tiny-chat");

    public static SchedulerOptions Scheduler => new()
    {
        MaxTotalTokens = 2048, MaxRunningRequests = 8, ContextLength = 256, MaxPrefillTokens = 256, ChunkedPrefillSize = 64,
    };

    public ServingStack Stack { get; }
    public EngineHost Host => Stack.Host;
    public HttpClient Http { get; }
    public Uri BaseAddress => Stack.Server.BaseAddress;
    /// <summary>Everything the engine host and server logged.</summary>
    public ConcurrentQueue<string> Log { get; }

    /// <param name="wrap">Wraps the runner (fault injection).</param>
    /// <param name="modelDir">Another model directory (e.g. one without a tokenizer).</param>
    /// <param name="scheduler">Other scheduler options (default <see cref="Scheduler"/>).</param>
    public static async Task<TestServer> StartAsync(string? apiKey = null, Func<IModelRunner, IModelRunner>? wrap = null, string? modelDir = null,
        SchedulerOptions? scheduler = null)
    {
        string dir = modelDir ?? ModelDir;
        var config = HfConfig.Load(dir);
        var checkpoint = Checkpoint.Open(dir);
        var options = scheduler ?? Scheduler;
        var runner = new CpuModelRunner(ModelCatalog.All[config.Architectures[0]], config, checkpoint, options.MaxTotalTokens, options.MaxBatchTokens, threads: 1);
        var log = new ConcurrentQueue<string>();
        var stack = ServingStack.Create(wrap?.Invoke(runner) ?? runner, dir, options,
            new ServerOptions { Port = 0, ServedModelName = ModelName, ApiKey = apiKey }, log.Enqueue);
        await stack.Server.StartAsync();
        return new TestServer(checkpoint, runner, stack, log);
    }

    /// <summary>Waits (up to 10 s: aborts and stop-string finishes land at the next step) until the pools are back to baseline.</summary>
    public async Task AssertBaselineAsync()
    {
        EngineSnapshot s = default;
        for (int i = 0; i < 400; i++)
        {
            s = await Host.SnapshotAsync();
            if (s.IsBaseline) break;
            await Task.Delay(25);
        }
        Assert.True(s.IsBaseline, $"KV pool / queues not back to baseline: {s}");
        Assert.Equal(s.KvCapacity, s.KvAvailable + s.Evictable);
        Assert.Equal(0, s.Protected);
        await Host.InvokeAsync(e => { e.Scheduler.CheckIntegrity(); return true; });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Stack.DisposeAsync();
        _runner.Dispose();
        _checkpoint.Dispose();
    }
}
