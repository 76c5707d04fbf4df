using System.Text.Json;
using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>The printed table and the JSON line carry SGLang's labels and keys.</summary>
public sealed class ReportTests
{
    /// <summary>The keys sglang.bench_serving writes (python/sglang/bench_serving.py, benchmark()).</summary>
    private static readonly string[] SglangKeys =
    [
        "tag", "backend", "dataset_name", "request_rate", "max_concurrency", "sharegpt_output_len", "random_input_len",
        "random_output_len", "random_range_ratio", "server_info", "duration", "completed", "total_input_tokens",
        "total_input_text_tokens", "total_input_vision_tokens", "total_output_tokens", "total_output_tokens_retokenized",
        "request_throughput", "input_throughput", "output_throughput", "total_throughput", "mean_e2e_latency_ms",
        "median_e2e_latency_ms", "std_e2e_latency_ms", "p90_e2e_latency_ms", "p99_e2e_latency_ms", "mean_ttft_ms",
        "median_ttft_ms", "std_ttft_ms", "p99_ttft_ms", "mean_tpot_ms", "median_tpot_ms", "std_tpot_ms", "p99_tpot_ms",
        "mean_itl_ms", "median_itl_ms", "std_itl_ms", "p95_itl_ms", "p99_itl_ms", "concurrency", "accept_length",
        "max_output_tokens_per_s", "max_concurrent_requests",
    ];

    [Fact]
    public async Task The_output_file_gets_one_JSON_line_per_run_with_SGLangs_keys()
    {
        await using var server = await FakeLlmServer.StartAsync(new FakeServerOptions
        {
            FirstTokenDelay = TimeSpan.FromMilliseconds(5), TokenDelay = TimeSpan.FromMilliseconds(1),
        });
        var options = TestBench.Options(server, "sglang-oai", prompts: 5) with { RequestRate = 500, MaxConcurrency = 2, Tag = "t1" };
        var (first, _) = await TestBench.RunAsync(options, new WordTokenizer());
        await TestBench.RunAsync(options with { OutputDetails = true }, new WordTokenizer());

        var lines = File.ReadAllLines(options.OutputFile!);
        Assert.Equal(2, lines.Length);
        Assert.Equal(first.JsonLine, lines[0]);
        using var doc = JsonDocument.Parse(lines[0]);
        var root = doc.RootElement;
        var keys = root.EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.All(SglangKeys, k => Assert.Contains(k, keys));
        Assert.Equal("sglang-oai", root.GetProperty("backend").GetString());
        Assert.Equal("t1", root.GetProperty("tag").GetString());
        Assert.Equal(500, root.GetProperty("request_rate").GetDouble());
        Assert.Equal(2, root.GetProperty("max_concurrency").GetInt32());
        Assert.Equal(5, root.GetProperty("completed").GetInt32());
        Assert.Equal(50, root.GetProperty("total_output_tokens").GetInt64());
        Assert.Equal(50, root.GetProperty("total_output_tokens_retokenized").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("server_info").ValueKind);
        Assert.False(keys.Contains("itls"), "per-request details only with --output-details");

        using var detailed = JsonDocument.Parse(lines[1]);
        Assert.Equal(5, detailed.RootElement.GetProperty("itls").GetArrayLength());
        Assert.Equal(9, detailed.RootElement.GetProperty("itls")[0].GetArrayLength());
        Assert.Equal(5, detailed.RootElement.GetProperty("generated_texts").GetArrayLength());
    }

    [Fact]
    public void Infinite_rate_is_written_as_Python_writes_it()
    {
        var metrics = MetricsCalculator.Compute([], 1.0, null);
        var line = ResultJson.Line(metrics, new BenchOptions(), 1.0, null, null, null);
        Assert.Contains("\"request_rate\":Infinity", line);
        Assert.Contains("\"max_concurrency\":null", line);
    }

    [Fact]
    public void The_table_has_SGLangs_layout()
    {
        var outputs = new[] { new RequestOutput { Success = true, Ttft = 0.1, Latency = 0.5, OutputLen = 5, PromptLen = 7 } };
        var m = MetricsCalculator.Compute(outputs, 2.0, null);
        var w = new StringWriter();
        ResultTable.Write(w, m, new BenchOptions { Backend = "sglang", MaxConcurrency = 4 }, 2.0);
        var lines = w.ToString().Split(Environment.NewLine);

        Assert.Contains("============ Serving Benchmark Result ============", lines);
        Assert.Contains("Backend:                                 sglang    ", lines);
        Assert.Contains("Traffic request rate:                    inf       ", lines);
        Assert.Contains("Max request concurrency:                 4         ", lines);
        Assert.Contains("Successful requests:                     1         ", lines);
        Assert.Contains("Benchmark duration (s):                  2.00      ", lines);
        Assert.Contains("Total input tokens:                      7         ", lines);
        Assert.Contains("Output token throughput (tok/s):         2.50      ", lines);
        Assert.Contains("----------------End-to-End Latency----------------", lines);
        Assert.Contains("-----Time per Output Token (excl. 1st token)------", lines);
        Assert.Contains("Mean TTFT (ms):                          100.00    ", lines);
        Assert.Contains("Mean TPOT (ms):                          100.00    ", lines);
        Assert.Contains("P90 E2E Latency (ms):                    500.00    ", lines);
        Assert.Contains("---------------Inter-Token Latency----------------", lines);
        Assert.Contains("Max ITL (ms):                            0.00      ", lines);
        Assert.Equal(new string('=', 50), lines.Last(l => l.Length > 0));
        Assert.Equal(50, ResultTable.Rule("Time to First Token", '-').Length);
        Assert.Equal("16.0", ResultTable.PythonFloat(16));
        Assert.Equal("0.5", ResultTable.PythonFloat(0.5));
    }
}
