using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Net;
using System.Net.Sockets;

namespace Host.Tests;

/// <summary>
/// The CLI (Host.dll, run as users run it) answers bad input, a port in use or a missing GPU with one "error:" line
/// and exit code 1, not an unhandled-exception stack trace; and its generate command prints what transformers
/// generates.
/// </summary>
public sealed class CliErrorTests
{
    private static readonly string Model = Path.Combine(RepoRoot.Path, "assets", "models", "melville-sotu-qwen3-6m");

    private static async Task<(int ExitCode, string Stderr)> RunAsync(params string[] args)
    {
        var (code, _, stderr) = await RunWithOutputAsync(args);
        return (code, stderr);
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunWithOutputAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Host.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var ct = TestContext.Current.CancellationToken;
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
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

    [Fact]
    public async Task A_config_or_tokenizer_this_build_cannot_run_is_named()
    {
        var dir = Directory.CreateTempSubdirectory("cli-errors-").FullName;
        try
        {
            var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(Model, "config.json"), TestContext.Current.CancellationToken))!.AsObject();
            config["architectures"] = new JsonArray("MambaForCausalLM");
            await File.WriteAllTextAsync(Path.Combine(dir, "config.json"), config.ToJsonString(), TestContext.Current.CancellationToken);
            var (code, stderr) = await RunAsync("generate", "--model-path", dir, "--device", "cpu", "--load-format", "dummy", "--input-ids", "[1]");
            AssertOneLineError(code, stderr, $"{Path.Combine(dir, "config.json")}: architecture 'MambaForCausalLM' has no model file");

            config["architectures"] = new JsonArray("Qwen3ForCausalLM");
            config.Remove("num_hidden_layers");
            await File.WriteAllTextAsync(Path.Combine(dir, "config.json"), config.ToJsonString(), TestContext.Current.CancellationToken);
            (code, stderr) = await RunAsync("generate", "--model-path", dir, "--device", "cpu", "--load-format", "dummy", "--input-ids", "[1]");
            AssertOneLineError(code, stderr, $"{Path.Combine(dir, "config.json")}: missing number 'num_hidden_layers'");

            File.Copy(Path.Combine(Model, "config.json"), Path.Combine(dir, "config.json"), overwrite: true);
            await File.WriteAllTextAsync(Path.Combine(dir, "tokenizer.json"), """{"model": {"type": "Unigram"}}""", TestContext.Current.CancellationToken);
            (code, stderr) = await RunAsync("generate", "--model-path", dir, "--device", "cpu", "--load-format", "dummy", "--prompt", "hi");
            AssertOneLineError(code, stderr, $"{Path.Combine(dir, "tokenizer.json")}: model.type is \"Unigram\"; only byte-level \"BPE\" models are supported");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task An_unknown_device_is_named()
    {
        var (code, stderr) = await RunAsync("generate", "--model-path", Model, "--device", "tpu", "--input-ids", "[1, 2]", "--max-new-tokens", "2");
        AssertOneLineError(code, stderr, "--device tpu: expected cuda, cpu or auto");
    }

    [Fact]
    public async Task Generate_prints_transformers_greedy_continuation_and_the_log_probabilities()
    {
        // The shipped model's first reference prompt: transformers' 32 greedy tokens (fp32) and their text.
        using var reference = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(Model, "reference", "reference_generation.json"), TestContext.Current.CancellationToken));
        var prompt = reference.RootElement.GetProperty("prompts")[0];
        var inputIds = Ints(prompt.GetProperty("input_ids"));
        var (code, stdout, stderr) = await RunWithOutputAsync("generate", "--model-path", Model, "--device", "cpu",
            "--input-ids", JsonSerializer.Serialize(inputIds), "--max-new-tokens", "32", "--return-logprob");
        Assert.True(code == 0, stderr);

        var output = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(inputIds, Ints(output.GetProperty("input_ids")));
        Assert.Equal(Ints(prompt.GetProperty("greedy")), Ints(output.GetProperty("output_ids")));
        Assert.Equal(prompt.GetProperty("greedy_text").GetString(), output.GetProperty("text").GetString());
        // Position i's log-probability of token i + 1, then one per generated token; greedy picks are each row's top 1.
        var promptLogprobs = output.GetProperty("input_token_logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var outputLogprobs = output.GetProperty("output_token_logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(inputIds.Length - 1, promptLogprobs.Length);
        Assert.Equal(inputIds.Length - 1, output.GetProperty("input_top1_ids").GetArrayLength());
        Assert.Equal(32, outputLogprobs.Length);
        Assert.All(promptLogprobs.Concat(outputLogprobs), lp => Assert.InRange(lp, -50, 0));
    }

    [Fact]
    public async Task Generate_runs_without_a_device_option()
    {
        // --device auto, the default: the GPU when there is a CUDA driver, else the CPU.
        var (code, stdout, stderr) = await RunWithOutputAsync("generate", "--model-path", Model, "--input-ids", "[43, 638, 383]", "--max-new-tokens", "4");
        Assert.True(code == 0, stderr);
        Assert.Equal(4, JsonDocument.Parse(stdout).RootElement.GetProperty("output_ids").GetArrayLength());
    }

    private static int[] Ints(JsonElement array) => array.EnumerateArray().Select(e => e.GetInt32()).ToArray();
}
