using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Host.Tests;

/// <summary>
/// The CLI (Host.dll, run as users run it) answers bad input, a port in use or a missing GPU with one "error:" line
/// and exit code 1, not an unhandled-exception stack trace.
/// </summary>
public sealed class CliErrorTests
{
    private static readonly string Model = Path.Combine(RepoRoot.Path, "assets", "models", "melville-sotu-qwen3-6m");

    private static async Task<(int ExitCode, string Stderr)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Host.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var ct = TestContext.Current.CancellationToken;
        var stderr = process.StandardError.ReadToEndAsync(ct);
        _ = process.StandardOutput.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stderr);
    }

    private static void AssertOneLineError(int exitCode, string stderr, string expected)
    {
        Assert.Equal(1, exitCode);
        Assert.Contains($"error: {expected}", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public async Task A_missing_model_directory_is_named()
    {
        var (code, stderr) = await RunAsync("serve", "--model-path", "/nonexistent/model", "--device", "cpu");
        AssertOneLineError(code, stderr, "/nonexistent/model: no such file");
    }

    [Fact]
    public async Task A_port_in_use_is_named()
    {
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        int port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var (code, stderr) = await RunAsync("serve", "--model-path", Model, "--device", "cpu", "--port", port.ToString());
        AssertOneLineError(code, stderr, $"Failed to bind to address http://127.0.0.1:{port}");
    }

    [Fact]
    public async Task Malformed_input_ids_are_named()
    {
        var (code, stderr) = await RunAsync("generate", "--model-path", Model, "--device", "cpu", "--input-ids", "[1, 2", "--max-new-tokens", "2");
        AssertOneLineError(code, stderr, "--input-ids: expected a JSON array of token ids");
        (code, stderr) = await RunAsync("generate", "--model-path", Model, "--device", "cpu", "--input-ids", "[1, 999999]", "--max-new-tokens", "2");
        AssertOneLineError(code, stderr, "--input-ids: token id 999999 is outside the model's vocabulary (0..4095)");
    }

    [Fact]
    public async Task A_bad_sampling_value_is_named()
    {
        var (code, stderr) = await RunAsync("generate", "--model-path", Model, "--device", "cpu", "--prompt", "x", "--max-new-tokens", "2", "--temperature", "-1");
        AssertOneLineError(code, stderr, "temperature must be a finite number >= 0, got -1");
    }
}
