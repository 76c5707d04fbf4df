using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>Runs bench-serving against a fake server with test-sized defaults: random-ids, no pause after warm-up,
/// the JSON line written into a temporary directory.</summary>
internal static class TestBench
{
    public static BenchOptions Options(FakeLlmServer server, string backend = "sglang", int prompts = 4) => new()
    {
        Backend = backend,
        BaseUrl = server.BaseUrl,
        DatasetName = "random-ids",
        NumPrompts = prompts,
        RandomInputLen = 16,
        RandomOutputLen = 10,
        RandomRangeRatio = 1.0,
        WarmupRequests = 0,
        WarmupPause = TimeSpan.Zero,
        OutputFile = Path.Combine(Directory.CreateTempSubdirectory("bench-serving-").FullName, "result.jsonl"),
    };

    public static async Task<(BenchResult Result, string Log)> RunAsync(BenchOptions options, IBenchTokenizer? tokenizer = null)
    {
        var log = new StringWriter();
        var result = await BenchServing.RunAsync(options, log, tokenizer, cancel: TestContext.Current.CancellationToken);
        return (result, log.ToString());
    }
}
