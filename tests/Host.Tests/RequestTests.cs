using System.Text;
using System.Text.Json.Nodes;
using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>Request bodies as SGLang builds them, the model taken from /v1/models, and the SSE line reader.</summary>
public sealed class RequestTests
{
    [Fact]
    public void Bodies_default_to_greedy_ignore_eos_streaming_and_take_the_extra_body_last()
    {
        var row = DatasetRow.FromText("hello", 2, 8);
        var extra = RequestBody.ParseExtra("""{"temperature": 0.7, "top_p": 0.9}""");

        var completions = Parse(RequestBody.Build(ApiKind.Completions, row, 8, "m", new BenchOptions(), extra));
        Assert.Equal("m", (string)completions["model"]!);
        Assert.Equal("hello", (string)completions["prompt"]!);
        Assert.Equal(8, (int)completions["max_tokens"]!);
        Assert.True((bool)completions["ignore_eos"]!);
        Assert.True((bool)completions["stream"]!);
        Assert.True((bool)completions["stream_options"]!["include_usage"]!);
        Assert.Equal(0.7, (double)completions["temperature"]!);
        Assert.Equal(0.9, (double)completions["top_p"]!);

        var chat = Parse(RequestBody.Build(ApiKind.ChatCompletions, row, 8, "m", new BenchOptions { DisableIgnoreEos = true, DisableStream = true }, null));
        Assert.Equal("hello", (string)chat["messages"]![0]!["content"]!);
        Assert.Equal("user", (string)chat["messages"]![0]!["role"]!);
        Assert.False((bool)chat["ignore_eos"]!);
        Assert.False((bool)chat["stream"]!);
        Assert.Null(chat["stream_options"]);
        Assert.Equal(0.0, (double)chat["temperature"]!);

        var native = Parse(RequestBody.Build(ApiKind.SglangGenerate, DatasetRow.FromIds([5, 6, 7], 4), 4, "m", new BenchOptions(), null));
        Assert.Equal([5, 6, 7], native["input_ids"]!.AsArray().Select(n => (int)n!));
        Assert.Null(native["text"]);
        Assert.Equal(4, (int)native["sampling_params"]!["max_new_tokens"]!);
        Assert.True((bool)native["sampling_params"]!["ignore_eos"]!);
        Assert.Equal("hello", (string)Parse(RequestBody.Build(ApiKind.SglangGenerate, row, 8, "m", new BenchOptions(), null))["text"]!);

        Assert.Throws<ArgumentException>(() => RequestBody.ParseExtra("[1, 2]"));
        Assert.Throws<ArgumentException>(() => RequestBody.ParseExtra("{not json"));
        Assert.Throws<ArgumentException>(() => RequestBody.Build(ApiKind.ChatCompletions, DatasetRow.FromIds([1], 1), 1, "m", new BenchOptions(), null));
    }

    [Fact]
    public async Task The_model_comes_from_v1_models_and_ids_reach_the_native_API()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(2), TokenDelay = TimeSpan.FromMilliseconds(1),
        });
        await TestBench.RunAsync(TestBench.Options(server, "openai", prompts: 2));
        Assert.All(server.Bodies, b => Assert.Equal(FakeLlmServer.ModelName, (string)b["model"]!));
        Assert.All(server.Bodies, b => Assert.Equal(16, b["prompt"]!.AsArray().Count));

        server.Reset();
        await TestBench.RunAsync(TestBench.Options(server, "sglang", prompts: 3));
        Assert.Equal(3, server.Bodies.Count);
        Assert.All(server.Bodies, b => Assert.Equal(16, b["input_ids"]!.AsArray().Count));
    }

    [Fact]
    public async Task Lines_split_across_reads_come_out_whole()
    {
        var text = "data: {\"a\":1}\r\n\r\ndata: " + new string('x', 40_000) + "\n: comment\nlast-without-newline";
        var reader = new SseLineReader(new TrickleStream(Encoding.UTF8.GetBytes(text), 7));
        var lines = new List<string>();
        while (await reader.ReadLineAsync(TestContext.Current.CancellationToken)) lines.Add(Encoding.UTF8.GetString(reader.Line.Span));
        Assert.Equal(["data: {\"a\":1}", "", "data: " + new string('x', 40_000), ": comment", "last-without-newline"], lines);
    }

    private static JsonObject Parse(byte[] body) => JsonNode.Parse(body)!.AsObject();

    /// <summary>A stream that hands out at most a few bytes per read, as a slow network would.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
