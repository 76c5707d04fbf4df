using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>TTFT, ITL, E2E and token counts measured against a server whose delays are known: 100 ms to the first
/// chunk, then 20 ms between chunks, 10 tokens. Requests run one at a time so nothing but the network stack and
/// timer slack sits between the injected and the measured times.</summary>
public sealed class TimingTests
{
    private const double FirstMs = 100, GapMs = 20;
    private const int Tokens = 10;

    /// <summary>Timers may fire a little early and the two sides' clocks start at different instants.</summary>
    private const double Slack = 5;

    [Theory]
    [InlineData("sglang")]
    [InlineData("sglang-oai")]
    [InlineData("vllm")]
    [InlineData("openai-chat")]
    public async Task Streaming_latencies_match_the_injected_delays(string backend)
    {
        await using var server = await FakeLlmServer.StartAsync();
        var options = TestBench.Options(server, backend) with { DatasetName = "random", MaxConcurrency = 1, WarmupRequests = 1 };
        var (result, _) = await TestBench.RunAsync(options, new WordTokenizer());

        Assert.All(result.Run.Outputs, o =>
        {
            Assert.True(o.Success, o.Error);
            Assert.Equal(Tokens, o.OutputLen);
            Assert.True(o.OutputLenReported);
            Assert.Equal(Tokens - 1, o.Itl.Count);
            Assert.InRange(o.Ttft * 1000, FirstMs - Slack, FirstMs + 60);
            // One late chunk makes the next gap look short, so single gaps are only bounded loosely; their sum
            // (last chunk - first chunk) and their median are held to the injected gap.
            Assert.All(o.Itl, itl => Assert.InRange(itl * 1000, 0.1, GapMs + 60));
            Assert.InRange(o.Itl.Sum() * 1000, (Tokens - 1) * GapMs - Slack, (Tokens - 1) * GapMs + 100);
            Assert.InRange(new Stats(o.Itl).Median * 1000, GapMs - Slack, GapMs + 10);
            // E2E runs to the last line read (usage chunk, [DONE]), never before the last text chunk.
            Assert.True(o.Latency >= o.Ttft + o.Itl.Sum() - 1e-9);
            Assert.InRange(o.Latency * 1000, FirstMs + (Tokens - 1) * GapMs - Slack, FirstMs + (Tokens - 1) * GapMs + 150);
            Assert.Equal(string.Concat(Enumerable.Range(0, Tokens).Select(i => $"tok{i} ")), o.GeneratedText);
        });
        var m = result.Metrics;
        Assert.Equal(4, m.Completed);
        Assert.Equal(4 * Tokens, m.TotalOutput);
        Assert.Equal(4 * Tokens, m.TotalOutputRetokenized);
        Assert.Equal(4 * 16, m.TotalInput);
        Assert.InRange(m.Ttft.Mean, FirstMs - Slack, FirstMs + 40);
        Assert.InRange(m.Itl.Mean, GapMs - Slack, GapMs + 15);
        // TPOT spreads E2E - TTFT over the tokens after the first: the chunk gap here.
        Assert.InRange(m.Tpot.Mean, GapMs - Slack, GapMs + 15);
    }

    [Fact]
    public async Task Sglang_chunks_of_several_tokens_give_one_ITL_per_token()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions { TokensPerChunk = 2 });
        var (result, _) = await TestBench.RunAsync(TestBench.Options(server) with { MaxConcurrency = 1 });

        Assert.All(result.Run.Outputs, o =>
        {
            Assert.True(o.Success, o.Error);
            Assert.Equal(Tokens, o.OutputLen);
            // The first chunk (2 tokens) gives TTFT; each of the 4 later chunks adds 2 ITLs of half its gap.
            Assert.Equal(Tokens - 2, o.Itl.Count);
            for (int i = 0; i < o.Itl.Count; i += 2) Assert.Equal(o.Itl[i], o.Itl[i + 1]);
            Assert.InRange(o.Itl.Sum() * 1000, 4 * GapMs - Slack, 4 * GapMs + 80);
        });
    }

    [Fact]
    public async Task Without_usage_output_tokens_are_counted_by_retokenizing()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            ReportUsage = false, FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1),
        });
        // The fake server writes 7 tokens although 10 were asked for: the count must come from the text.
        var options = TestBench.Options(server, "sglang-oai") with
        {
            DatasetName = "random", ExtraRequestBody = """{"max_tokens": 7}""",
        };
        var (result, _) = await TestBench.RunAsync(options, new WordTokenizer());

        Assert.All(result.Run.Outputs, o =>
        {
            Assert.True(o.Success, o.Error);
            Assert.False(o.OutputLenReported);
            Assert.Equal(7, o.OutputLen);
        });
        Assert.Equal(4 * 7, result.Metrics.TotalOutput);
    }

    [Fact]
    public async Task Without_usage_or_tokenizer_the_requested_length_is_counted()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            ReportUsage = false, FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1),
        });
        var (result, log) = await TestBench.RunAsync(TestBench.Options(server, "sglang-oai"));

        Assert.All(result.Run.Outputs, o => Assert.Equal(10, o.OutputLen));
        Assert.Null(result.Metrics.TotalOutputRetokenized);
        Assert.Contains("No --tokenizer", log);
    }

    [Theory]
    [InlineData("sglang")]
    [InlineData("sglang-oai")]
    [InlineData("openai-chat")]
    public async Task Without_streaming_TTFT_is_the_whole_latency(string backend)
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(50), TokenDelay = TimeSpan.FromMilliseconds(5),
        });
        var options = TestBench.Options(server, backend) with { DatasetName = "random", DisableStream = true, MaxConcurrency = 1 };
        var (result, _) = await TestBench.RunAsync(options, new WordTokenizer());

        Assert.All(result.Run.Outputs, o =>
        {
            Assert.True(o.Success, o.Error);
            Assert.Equal(o.Latency, o.Ttft);
            Assert.InRange(o.Latency * 1000, 50 + 9 * 5 - Slack, 50 + 9 * 5 + 80);
            Assert.Equal(10, o.OutputLen);
            Assert.Empty(o.Itl);
        });
    }
}
