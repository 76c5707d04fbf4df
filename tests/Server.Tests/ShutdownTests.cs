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
        var run = stack.Server.RunAsync(ct);
        using var http = new HttpClient();
        for (int i = 0; i < 200 && !run.IsCompleted; i++)
        {
            try
            {
                if ((await http.GetAsync(new Uri(stack.Server.BaseAddress, "/health"), ct)).IsSuccessStatusCode) break;
            }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException) { } // not listening yet
            await Task.Delay(25, ct);
        }
        Assert.False(run.IsCompleted, "the server stopped on its own");

        stack.Server.Lifetime.StopApplication(); // what the console lifetime does on SIGTERM / SIGINT
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(10), ct)));
        await run;
    }
}
