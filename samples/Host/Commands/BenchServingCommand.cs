using System.CommandLine;
using System.Globalization;
using Compiler.Host.Bench;
using Spectre.Console;

namespace Compiler.Host.Commands;

/// <summary>
/// <c>bench-serving</c>: sglang.bench_serving for any OpenAI-compatible or SGLang server. Same flags, same result
/// table, same JSON line (see <see cref="BenchServing"/>).
/// </summary>
internal static class BenchServingCommand
{
    public static Command Create()
    {
        var backend = new Option<string>("--backend") { Description = $"One of: {string.Join(", ", Backend.Names)}", DefaultValueFactory = _ => "sglang" };
        var baseUrl = new Option<string?>("--base-url") { Description = "Server base URL, instead of --host/--port" };
        var host = new Option<string>("--host") { DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int?>("--port") { Description = "Default: 30000 (8000 for vllm)" };
        var model = new Option<string?>("--model") { Description = "Model name sent to the server; default: the first of GET /v1/models" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Directory with tokenizer.json; default: --model when it is one" };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer token; default: $OPENAI_API_KEY" };
        var datasetName = new Option<string>("--dataset-name") { Description = string.Join(" | ", DatasetLoader.Names), DefaultValueFactory = _ => "sharegpt" };
        var datasetPath = new Option<string?>("--dataset-path") { Description = "Local ShareGPT JSON (sharegpt; optional text source for random)" };
        var numPrompts = new Option<int>("--num-prompts") { DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => 1 };
        var sharegptOutputLen = new Option<int?>("--sharegpt-output-len") { Description = "Override each ShareGPT output length" };
        var sharegptContextLen = new Option<int?>("--sharegpt-context-len") { Description = "Drop ShareGPT pairs longer than this" };
        var randomInputLen = new Option<int>("--random-input-len") { DefaultValueFactory = _ => 1024 };
        var randomOutputLen = new Option<int>("--random-output-len") { DefaultValueFactory = _ => 1024 };
        var randomRangeRatio = new Option<double>("--random-range-ratio") { Description = "Lengths uniform in [len*ratio, len]", DefaultValueFactory = _ => 0.0 };
        var gspNumGroups = new Option<int>("--gsp-num-groups") { DefaultValueFactory = _ => 64 };
        var gspPromptsPerGroup = new Option<int>("--gsp-prompts-per-group") { DefaultValueFactory = _ => 16 };
        var gspSystemPromptLen = new Option<int>("--gsp-system-prompt-len") { DefaultValueFactory = _ => 2048 };
        var gspQuestionLen = new Option<int>("--gsp-question-len") { DefaultValueFactory = _ => 128 };
        var gspOutputLen = new Option<int>("--gsp-output-len") { DefaultValueFactory = _ => 256 };
        var gspRangeRatio = new Option<double>("--gsp-range-ratio") { DefaultValueFactory = _ => 1.0 };
        var tokenizePrompt = new Option<bool>("--tokenize-prompt") { Description = "Send token ids instead of text (random datasets)" };
        var vocabSize = new Option<int?>("--vocab-size") { Description = "random-ids without --tokenizer: draw ids below this (default 32000)" };
        var requestRate = new Option<string>("--request-rate") { Description = "Requests per second (Poisson arrivals), or inf: all at once", DefaultValueFactory = _ => "inf" };
        var maxConcurrency = new Option<int?>("--max-concurrency") { Description = "At most this many requests in flight" };
        var warmupRequests = new Option<int>("--warmup-requests") { DefaultValueFactory = _ => 1 };
        var disableIgnoreEos = new Option<bool>("--disable-ignore-eos") { Description = "Let requests stop at EOS" };
        var disableStream = new Option<bool>("--disable-stream");
        var extraRequestBody = new Option<string?>("--extra-request-body") { Description = "JSON object merged into each request body" };
        var outputFile = new Option<string?>("--output-file") { Description = "JSONL file the result line is appended to" };
        var outputDetails = new Option<bool>("--output-details") { Description = "Also write per-request lengths, TTFTs, ITLs, texts, errors" };
        var disableTqdm = new Option<bool>("--disable-tqdm") { Description = "No progress bar" };
        var tag = new Option<string?>("--tag") { Description = "Free text stored in the JSON line" };

        var command = new Command("bench-serving", "Online serving benchmark against a running server (mirrors sglang.bench_serving)")
        {
            backend, baseUrl, host, port, model, tokenizer, apiKey, datasetName, datasetPath, numPrompts, seed,
            sharegptOutputLen, sharegptContextLen, randomInputLen, randomOutputLen, randomRangeRatio,
            gspNumGroups, gspPromptsPerGroup, gspSystemPromptLen, gspQuestionLen, gspOutputLen, gspRangeRatio,
            tokenizePrompt, vocabSize, requestRate, maxConcurrency, warmupRequests, disableIgnoreEos, disableStream,
            extraRequestBody, outputFile, outputDetails, disableTqdm, tag,
        };
        command.SetAction(async (result, cancel) =>
        {
            try
            {
                var options = new BenchOptions
                {
                    Backend = result.GetValue(backend)!,
                    BaseUrl = result.GetValue(baseUrl),
                    Host = result.GetValue(host)!,
                    Port = result.GetValue(port),
                    Model = result.GetValue(model),
                    Tokenizer = result.GetValue(tokenizer),
                    ApiKey = result.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY"),
                    DatasetName = result.GetValue(datasetName)!,
                    DatasetPath = result.GetValue(datasetPath),
                    NumPrompts = result.GetValue(numPrompts),
                    Seed = result.GetValue(seed),
                    SharegptOutputLen = result.GetValue(sharegptOutputLen),
                    SharegptContextLen = result.GetValue(sharegptContextLen),
                    RandomInputLen = result.GetValue(randomInputLen),
                    RandomOutputLen = result.GetValue(randomOutputLen),
                    RandomRangeRatio = result.GetValue(randomRangeRatio),
                    GspNumGroups = result.GetValue(gspNumGroups),
                    GspPromptsPerGroup = result.GetValue(gspPromptsPerGroup),
                    GspSystemPromptLen = result.GetValue(gspSystemPromptLen),
                    GspQuestionLen = result.GetValue(gspQuestionLen),
                    GspOutputLen = result.GetValue(gspOutputLen),
                    GspRangeRatio = result.GetValue(gspRangeRatio),
                    TokenizePrompt = result.GetValue(tokenizePrompt),
                    VocabSize = result.GetValue(vocabSize),
                    RequestRate = ParseRate(result.GetValue(requestRate)!),
                    MaxConcurrency = result.GetValue(maxConcurrency),
                    WarmupRequests = result.GetValue(warmupRequests),
                    DisableIgnoreEos = result.GetValue(disableIgnoreEos),
                    DisableStream = result.GetValue(disableStream),
                    ExtraRequestBody = result.GetValue(extraRequestBody),
                    OutputFile = result.GetValue(outputFile),
                    OutputDetails = result.GetValue(outputDetails),
                    Tag = result.GetValue(tag),
                };
                await BenchServing.RunAsync(options, Console.Out, progress: result.GetValue(disableTqdm) ? null : WithProgressBar, cancel: cancel);
                return 0;
            }
            catch (Exception e) when (e is BenchmarkException or ArgumentException or IOException or InvalidDataException)
            {
                Console.Error.WriteLine($"bench-serving: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    private static double ParseRate(string text) =>
        text.Trim().ToLowerInvariant() is "inf" or "infinity"
            ? double.PositiveInfinity
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double rate) && rate > 0
                ? rate
                : throw new ArgumentException($"--request-rate '{text}': give requests per second (> 0) or inf");

    /// <summary>A Spectre.Console progress bar over the requests (tqdm's role in SGLang).</summary>
    private static async Task<BenchmarkRun> WithProgressBar(int total, Func<Action?, Task<BenchmarkRun>> send)
    {
        BenchmarkRun? run = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(),
                new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var task = ctx.AddTask("requests", maxValue: total);
                run = await send(() => task.Increment(1));
            });
        return run!;
    }
}
