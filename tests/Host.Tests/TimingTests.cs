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

    /// <summary>Room above a delay for a machine busy with other work (2 cores shared by several builds).</summary>
    private const double Loaded = 150;

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
            // Lower bounds are exact: chunk k cannot arrive before the server wrote it, at First + k * Gap. Upper
            // bounds leave room for a busy machine; one late chunk also makes the gap after it look short.
            Assert.InRange(o.Ttft * 1000, FirstMs - Slack, FirstMs + Loaded);
            double arrival = o.Ttft;
            for (int k = 0; k < o.Itl.Count; k++)
            {
                arrival += o.Itl[k];
                // Each server delay may end up to a millisecond early (the timer counts whole milliseconds).
                Assert.True(arrival * 1000 >= FirstMs + (k + 1) * GapMs - Slack - (k + 1), $"chunk {k + 1} at {arrival * 1000:F1} ms");
            }
            Assert.All(o.Itl, itl => Assert.InRange(itl * 1000, 0, GapMs + Loaded));
            // E2E runs to the last line read (usage chunk, [DONE]), never before the last text chunk.
            Assert.True(o.Latency >= arrival - 1e-9);
            Assert.InRange(o.Latency * 1000, FirstMs + (Tokens - 1) * GapMs - Slack - Tokens, FirstMs + (Tokens - 1) * GapMs + 2 * Loaded);
            Assert.Equal(string.Concat(Enumerable.Range(0, Tokens).Select(i => $"tok{i} ")), o.GeneratedText);
        });
        var m = result.Metrics;
        Assert.Equal(4, m.Completed);
        Assert.Equal(4 * Tokens, m.TotalOutput);
        Assert.Equal(4 * Tokens, m.TotalOutputRetokenized);
        Assert.Equal(4 * 16, m.TotalInput);
        // Medians over all 36 gaps (and 4 TPOTs) sit at the injected gap unless most of them were disturbed.
        Assert.InRange(m.Ttft.Median, FirstMs - Slack, FirstMs + Loaded);
        Assert.InRange(m.Itl.Median, GapMs - Slack, GapMs + 10);
        // TPOT spreads E2E - TTFT over the tokens after the first: the chunk gap here.
        Assert.InRange(m.Tpot.Median, GapMs - Slack, GapMs + 15);
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
            Assert.InRange((o.Ttft + o.Itl.Sum()) * 1000, FirstMs + 4 * GapMs - Slack, FirstMs + 4 * GapMs + 2 * Loaded);
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
            Assert.InRange(o.Latency * 1000, 50 + 9 * 5 - Slack, 50 + 9 * 5 + Loaded);
            Assert.Equal(10, o.OutputLen);
            Assert.Empty(o.Itl);
        });
    }
}
