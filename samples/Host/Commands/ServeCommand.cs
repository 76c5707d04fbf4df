using System.CommandLine;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;
using Compiler.Runtime.Server;

namespace Compiler.Host.Commands;

/// <summary>
/// <c>serve</c>: the OpenAI-compatible HTTP server (SGLang's launch_server flags). Loads the model on cuda or cpu,
/// starts the engine thread and Kestrel, logs the scheduler's batch lines and one line per finished request, and
/// shuts down cleanly on Ctrl+C.
/// </summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var modelPath = new Option<string>("--model-path") { Required = true, Description = "Hugging Face model directory (config.json, safetensors, tokenizer)" };
        var host = new Option<string>("--host") { DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { DefaultValueFactory = _ => 30000 };
        var device = ModelHost.DeviceOption();
        var loadFormat = new Option<string>("--load-format") { DefaultValueFactory = _ => "auto", Description = "auto, safetensors or dummy (random weights)" };
        var servedName = new Option<string?>("--served-model-name") { Description = "model id in the API (default: the model directory's name)" };
        var apiKey = new Option<string?>("--api-key") { Description = "require 'Authorization: Bearer KEY' on every endpoint but /health" };
        var policy = new Option<string>("--schedule-policy") { DefaultValueFactory = _ => "fcfs" };
        var chunked = new Option<int>("--chunked-prefill-size") { DefaultValueFactory = _ => 8192 };
        var mixed = new Option<bool>("--enable-mixed-chunk");
        var maxRunning = new Option<int>("--max-running-requests") { DefaultValueFactory = _ => 256 };
        var maxPrefill = new Option<int>("--max-prefill-tokens") { DefaultValueFactory = _ => 16384 };
        var maxTotal = new Option<int?>("--max-total-tokens") { Description = "KV pool size in tokens (default: from --mem-fraction-static on cuda, 65536 on cpu)" };
        var contextLength = new Option<int?>("--context-length") { Description = "default: the model's max_position_embeddings" };
        var disableRadix = new Option<bool>("--disable-radix-cache");
        var disableGraph = new Option<bool>("--disable-cuda-graph");
        var disableCascade = new Option<bool>("--disable-cascade-attn") { Description = "decode: each request reads a prefix it shares with others on its own (no cascade attention)" };
        var disableOverlap = new Option<bool>("--disable-overlap-schedule") { Description = "schedule, run and process each step in sequence (no CPU/GPU overlap)" };
        var memFraction = new Option<double>("--mem-fraction-static") { DefaultValueFactory = _ => 0.88 };
        var samplingDefaults = new Option<string>("--sampling-defaults")
        {
            DefaultValueFactory = _ => "model",
            Description = "model: sampling fields a request leaves out come from generation_config.json (as SGLang); openai: the API's defaults",
        };
        var logLevel = new Option<string>("--log-level") { DefaultValueFactory = _ => "info", Description = "info, warning or error" };
        var command = new Command("serve", "Serve the model over an OpenAI-compatible HTTP API")
        {
            modelPath, host, port, device, loadFormat, servedName, apiKey, policy, chunked, mixed, maxRunning, maxPrefill,
            maxTotal, contextLength, disableRadix, disableGraph, disableCascade, disableOverlap, memFraction, samplingDefaults, logLevel,
        };
        command.SetAction(async (result, ct) =>
        {
            string path = result.GetValue(modelPath)!;
            string level = result.GetValue(logLevel)!;
            if (level is not ("debug" or "info" or "warning" or "error")) throw new ArgumentException($"--log-level {level}: expected debug, info, warning or error");
            Action<string> log = level is "debug" or "info" ? Log : line => { if (line.Contains("fail", StringComparison.OrdinalIgnoreCase)) Log(line); };

            string dev = ModelHost.ResolveDevice(result.GetValue(device)!);
            var config = HfConfig.Load(path);
            string modelDir = Path.GetDirectoryName(config.FilePath)!;
            int running = result.GetValue(maxRunning), chunk = result.GetValue(chunked), prefill = result.GetValue(maxPrefill);
            int context = result.GetValue(contextLength) ?? config.MaxPositionEmbeddings;
            int batchTokens = Math.Max(running, chunk > 0 ? chunk : Math.Max(prefill, context));
            var runnerOptions = new CudaRunnerOptions
            {
                MaxTotalTokens = result.GetValue(maxTotal) ?? 0, MemFractionStatic = result.GetValue(memFraction), MaxBatchTokens = batchTokens,
                MaxRunningRequests = running, MaxContextLen = context, MaxLogitsRows = running, DisableCudaGraph = result.GetValue(disableGraph),
                DisableCascadeAttention = result.GetValue(disableCascade), Log = log,
            };
            log($"Loading {path} on {dev} (load format {result.GetValue(loadFormat)}) ...");
            using var model = ModelHost.Open(config, result.GetValue(loadFormat)!, dev, runnerOptions);
            int kvTokens = model.MaxTotalTokens;
            var scheduler = new SchedulerOptions
            {
                MaxTotalTokens = kvTokens, MaxRunningRequests = running, ContextLength = context, MaxPrefillTokens = prefill,
                ChunkedPrefillSize = chunk, EnableMixedChunk = result.GetValue(mixed), DisableRadixCache = result.GetValue(disableRadix),
                DisableOverlapSchedule = result.GetValue(disableOverlap),
                SchedulePolicy = SchedulePolicyNames.Parse(result.GetValue(policy)!),
                // The CUDA runner's logits buffer is fixed: prompt-logprob rows beyond it go to later chunks.
                MaxLogitsRows = model.Runner is CudaModelRunner ? runnerOptions.MaxLogitsRows : 0,
            };
            var options = new ServerOptions
            {
                Host = result.GetValue(host)!, Port = result.GetValue(port), ApiKey = result.GetValue(apiKey),
                ServedModelName = result.GetValue(servedName) ?? Path.GetFileName(modelDir.TrimEnd(Path.DirectorySeparatorChar)),
                SamplingDefaults = result.GetValue(samplingDefaults) switch
                {
                    "model" => SamplingParser.ModelDefaults(GenerationConfig.Load(modelDir)),
                    "openai" => new SamplingParams(),
                    var other => throw new ArgumentException($"--sampling-defaults {other}: expected model or openai"),
                },
            };
            await using var stack = ServingStack.Create(model.Runner, modelDir, scheduler, options, log);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; stop.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                await stack.Server.StartAsync(stop.Token); // binds the port: one in use fails here, before the announcement
                log($"Serving '{options.ServedModelName}' on {stack.Server.BaseAddress} ({dev}, KV pool {kvTokens} tokens, context {context}). Press Ctrl+C to stop.");
                await stack.Server.WaitForStopAsync(stop.Token);
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
            log("Server stopped.");
            return 0;
        });
        return command;
    }

    private static void Log(string line) => Console.Error.WriteLine($"[{DateTime.Now:yyyy-MM-dd HH:mm:ss}] {line}");
}
