using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>How requests are released: --max-concurrency caps (and fills) the requests in flight, inf sends them all
/// at once, a finite rate spaces them as a Poisson process.</summary>
public sealed class LoadTests
{
    [Fact]
    public async Task Max_concurrency_is_reached_and_never_exceeded()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(60), TokenDelay = TimeSpan.FromMilliseconds(5),
        });
        var (result, _) = await TestBench.RunAsync(TestBench.Options(server, prompts: 12) with { MaxConcurrency = 3 });

        Assert.Equal(12, result.Metrics.Completed);
        Assert.Equal(3, server.MaxInFlight);
    }

    [Fact]
    public async Task Infinite_rate_sends_every_request_at_once()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(300), TokenDelay = TimeSpan.FromMilliseconds(5),
        });
        var (result, _) = await TestBench.RunAsync(TestBench.Options(server, prompts: 16));

        Assert.Equal(16, result.Metrics.Completed);
        // Each request takes over 300 ms, so all 16 overlap only if all were sent before the first finished.
        Assert.Equal(16, server.MaxInFlight);
        var arrivals = server.Arrivals.ToArray();
        Assert.InRange(RequestSender.Seconds(arrivals.Max() - arrivals.Min()), 0, 0.25);
    }

    [Fact]
    public async Task Finite_rate_spaces_arrivals_by_the_seeded_poisson_schedule()
    {
        const double rate = 100;
        const int count = 150;
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(1), TokenDelay = TimeSpan.Zero,
        });
        var options = TestBench.Options(server, prompts: count) with { RequestRate = rate, RandomOutputLen = 1, Seed = 7 };
        var (result, _) = await TestBench.RunAsync(options);

        Assert.Equal(count, result.Metrics.Completed);
        var arrivals = server.Arrivals.Order().ToArray();
        Assert.Equal(count, arrivals.Length);
        double measuredMeanGap = RequestSender.Seconds(arrivals[^1] - arrivals[0]) / (count - 1);
        // Within 25% of 1/rate: the seeded sample's own mean gap is ~8% off 1/rate at most for this many draws.
        Assert.InRange(measuredMeanGap, 0.75 / rate, 1.25 / rate);
        // And the run is not a burst: 150 requests at 100/s take over a second.
        Assert.True(result.Run.DurationSeconds > 1.0, $"duration {result.Run.DurationSeconds:F3} s");
    }

    [Fact]
    public void Poisson_gaps_are_exponential_with_mean_one_over_rate()
    {
        const double rate = 40;
        var times = ArrivalSchedule.Build(20_000, rate, new Random(3));
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToArray();
        double mean = gaps.Average();
        double std = Math.Sqrt(gaps.Select(g => (g - mean) * (g - mean)).Average());
        Assert.Equal(0, times[0]);
        Assert.InRange(mean, 0.97 / rate, 1.03 / rate);
        // An exponential's standard deviation equals its mean (a uniform or fixed spacing would not).
        Assert.InRange(std / mean, 0.95, 1.05);
        Assert.All(gaps, g => Assert.True(g >= 0));
        Assert.Equal(times, ArrivalSchedule.Build(20_000, rate, new Random(3)));
    }

    [Fact]
    public void Infinite_rate_schedules_every_request_at_zero()
    {
        Assert.All(ArrivalSchedule.Build(50, double.PositiveInfinity, new Random(1)), t => Assert.Equal(0, t));
        Assert.Throws<ArgumentOutOfRangeException>(() => ArrivalSchedule.Build(5, 0, new Random(1)));
    }

    [Fact]
    public async Task Warmup_requests_are_sent_but_not_counted()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1),
        });
        var options = TestBench.Options(server, prompts: 3) with { WarmupRequests = 2 };
        var (result, log) = await TestBench.RunAsync(options);

        Assert.Equal(5, server.Requests);
        Assert.Equal(3, result.Run.Outputs.Length);
        Assert.Equal(3, result.Metrics.Completed);
        // The warm-up asks for at most 32 tokens (SGLang's min(output_len, 32)).
        var warmupBody = server.Bodies.First();
        Assert.Equal(10, (int)warmupBody["sampling_params"]!["max_new_tokens"]!);
        Assert.Contains("Warmup completed with 2 sequences", log);
    }
}
