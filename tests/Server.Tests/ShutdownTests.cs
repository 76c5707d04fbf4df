using Compiler.Models;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Server;

namespace Server.Tests;

public sealed class ShutdownTests
{
    /// <summary>`kill PID`, `docker stop` and systemd send SIGTERM, which the web host's console lifetime takes for
    /// itself: it only asks the host to stop. Serving must end on that request, not run on until SIGKILL.</summary>
    [Fact]
    public async Task Serving_ends_when_the_host_is_asked_to_stop_as_on_SIGTERM()
    {
        var config = HfConfig.Load(TestServer.ModelDir);
        using var checkpoint = Checkpoint.Open(TestServer.ModelDir);
        var options = TestServer.Scheduler;
        using var runner = new CpuModelRunner(ModelCatalog.All[config.Architectures[0]], config, checkpoint, options.MaxTotalTokens, options.MaxBatchTokens, threads: 1);
        await using var stack = ServingStack.Create(runner, TestServer.ModelDir, options, new ServerOptions { Port = 0, ServedModelName = TestServer.ModelName });

        var ct = TestContext.Current.CancellationToken;
        await stack.Server.StartAsync(ct); // as serve does: bound and listening when it returns
        var run = stack.Server.WaitForStopAsync(ct);
        using var http = new HttpClient();
        Assert.True((await http.GetAsync(new Uri(stack.Server.BaseAddress, "/health"), ct)).IsSuccessStatusCode);
        Assert.False(run.IsCompleted, "the server stopped on its own");

        stack.Server.Lifetime.StopApplication(); // what the console lifetime does on SIGTERM / SIGINT
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10), ct)));
        await run;
    }
}
