using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Compiler.Host.Bench;

/// <summary>bench-serving end to end, as sglang.bench_serving's run_benchmark: resolve the server, model and
/// tokenizer, build the dataset and every request body, warm up, run the arrivals, then print the result table and
/// append the JSON line.</summary>
internal static class BenchServing
{
    /// <summary>Runs <paramref name="send"/> (which takes a per-request completion callback) under a progress display.</summary>
    public delegate Task<BenchmarkRun> ProgressRunner(int total, Func<Action?, Task<BenchmarkRun>> send);

    public static async Task<BenchResult> RunAsync(BenchOptions options, TextWriter log, IBenchTokenizer? tokenizer = null,
        ProgressRunner? progress = null, CancellationToken cancel = default)
    {
        var backend = Backend.Get(options.Backend);
        string baseUrl = backend.BaseUrl(options);
        using var http = BenchHttp.Create();

        string model = options.Model ?? await FetchModelAsync(http, baseUrl, options.ApiKey, backend, log, cancel).ConfigureAwait(false);
        tokenizer ??= LoadTokenizer(options, log);

        var rows = DatasetLoader.Load(options, tokenizer, new Random(options.Seed), log);
        if (rows.Count == 0)
            throw new BenchmarkException($"--dataset-name {options.DatasetName} produced no requests (all were filtered out?)");
        var extra = RequestBody.ParseExtra(options.ExtraRequestBody);
        var requests = new PreparedRequest[rows.Count];
        for (int i = 0; i < rows.Count; i++)
            requests[i] = new PreparedRequest(RequestBody.Build(backend.Api, rows[i], rows[i].OutputLen, model, options, extra),
                rows[i].PromptLen, rows[i].OutputLen);
        int warmupLen = Math.Min(rows[0].OutputLen, 32);
        var warmup = new PreparedRequest(RequestBody.Build(backend.Api, rows[0], warmupLen, model, options, extra), rows[0].PromptLen, warmupLen);

        var sender = new RequestSender(http, new Uri(baseUrl + backend.Path), backend.Api, !options.DisableStream, options.ApiKey,
            System.Diagnostics.Stopwatch.GetTimestamp());
        var runner = new BenchmarkRunner(sender);
        log.WriteLine($"Starting warmup with {options.WarmupRequests} sequences...");
        await runner.WarmUpAsync(warmup, options.WarmupRequests, cancel).ConfigureAwait(false);
        log.WriteLine($"Warmup completed with {options.WarmupRequests} sequences. Starting main benchmark run...");
        if (options.WarmupPause > TimeSpan.Zero) await Task.Delay(options.WarmupPause, cancel).ConfigureAwait(false);

        // Arrivals draw from their own stream so the dataset is the same whatever the rate.
        var arrivals = ArrivalSchedule.Build(requests.Length, options.RequestRate, new Random(unchecked(options.Seed * 7919 + 17)));
        Func<Action?, Task<BenchmarkRun>> send = onDone => runner.RunAsync(requests, arrivals, options.MaxConcurrency, onDone, cancel);
        var run = progress is null ? await send(null).ConfigureAwait(false) : await progress(requests.Length, send).ConfigureAwait(false);

        MetricsCalculator.ResolveOutputLens(run.Outputs, tokenizer);
        var metrics = MetricsCalculator.Compute(run.Outputs, run.DurationSeconds, tokenizer);
        var serverInfo = await FetchServerInfoAsync(http, baseUrl, options.ApiKey, cancel).ConfigureAwait(false);
        double? acceptLength = options.Backend.Contains("sglang", StringComparison.Ordinal) ? AcceptLength(serverInfo) : null;

        ResultTable.Write(log, metrics, options, run.DurationSeconds);
        ReportFailures(log, run.Outputs);
        string line = ResultJson.Line(metrics, options, run.DurationSeconds, serverInfo, acceptLength,
            options.OutputDetails ? run.Outputs : null);
        string file = options.OutputFile ?? DefaultOutputFile(options);
        await File.AppendAllTextAsync(file, line + "\n", cancel).ConfigureAwait(false);
        log.WriteLine($"Results appended to {file}");
        return new BenchResult(metrics, run, line, file);
    }

    /// <summary>--tokenizer, else --model when it is a local directory holding tokenizer.json, else none.</summary>
    private static IBenchTokenizer? LoadTokenizer(BenchOptions options, TextWriter log)
    {
        string? dir = options.Tokenizer;
        if (dir is null && options.Model is { } m && File.Exists(Path.Combine(m, "tokenizer.json"))) dir = m;
        if (dir is null)
        {
            log.WriteLine("No --tokenizer: output tokens are counted from the server's usage / meta_info only " +
                "(the requested length where it reports none), and there is no retokenized count.");
            return null;
        }
        return RuntimeBenchTokenizer.FromDirectory(dir);
    }

    private static async Task<string> FetchModelAsync(HttpClient http, string baseUrl, string? apiKey, Backend backend,
        TextWriter log, CancellationToken cancel)
    {
        string url = baseUrl + "/v1/models";
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await http.SendAsync(request, cancel).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false));
            if (doc.RootElement.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array
                && data.GetArrayLength() > 0 && data[0].TryGetProperty("id", out var id) && id.GetString() is { } name)
                return name;
            throw new InvalidDataException("the response lists no model");
        }
        catch (Exception e) when (e is HttpRequestException or InvalidDataException or JsonException or TaskCanceledException
                                  && !cancel.IsCancellationRequested)
        {
            // The native /generate API takes no model name, so it can run without one.
            if (backend.Api == ApiKind.SglangGenerate)
            {
                log.WriteLine($"Could not read the model from {url} ({e.Message}); the sglang backend does not need it.");
                return "default";
            }
            throw new BenchmarkException($"Failed to fetch the model from {url}: {e.Message}. " +
                "Check --host/--port or --base-url, or give --model.");
        }
    }

    /// <summary>GET /get_server_info (SGLang's servers); null where the server has none.</summary>
    private static async Task<JsonElement?> FetchServerInfoAsync(HttpClient http, string baseUrl, string? apiKey, CancellationToken cancel)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            using var request = new HttpRequestMessage(HttpMethod.Get, baseUrl + "/get_server_info");
            if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return null;
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false));
            return doc.RootElement.Clone();
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or OperationCanceledException && !cancel.IsCancellationRequested)
        {
            return null;
        }
    }

    /// <summary>internal_states[0].avg_spec_accept_length (of the decode server under PD disaggregation).</summary>
    private static double? AcceptLength(JsonElement? info)
    {
        if (info is not { ValueKind: JsonValueKind.Object } root) return null;
        if (root.TryGetProperty("decode", out var decode) && decode.ValueKind == JsonValueKind.Array && decode.GetArrayLength() > 0)
            root = decode[0];
        return root.TryGetProperty("internal_states", out var states) && states.ValueKind == JsonValueKind.Array
               && states.GetArrayLength() > 0 && states[0].ValueKind == JsonValueKind.Object
               && states[0].TryGetProperty("avg_spec_accept_length", out var a) && a.ValueKind == JsonValueKind.Number
            ? a.GetDouble() : null;
    }

    private static void ReportFailures(TextWriter log, RequestOutput[] outputs)
    {
        int failed = outputs.Count(o => !o.Success);
        if (failed == 0) return;
        log.WriteLine($"{failed} of {outputs.Length} requests failed; first error: {outputs.First(o => !o.Success).Error}");
    }

    /// <summary>SGLang's default name: {backend}_{MMdd}_{num_prompts}_{in}_{out}.jsonl for random datasets, else
    /// {backend}_{MMdd}_{num_prompts}_{dataset}.jsonl.</summary>
    public static string DefaultOutputFile(BenchOptions options)
    {
        string now = DateTime.Now.ToString("MMdd", CultureInfo.InvariantCulture);
        return options.DatasetName.StartsWith("random", StringComparison.Ordinal)
            ? $"{options.Backend}_{now}_{options.NumPrompts}_{options.RandomInputLen}_{options.RandomOutputLen}.jsonl"
            : $"{options.Backend}_{now}_{options.NumPrompts}_{options.DatasetName}.jsonl";
    }
}
