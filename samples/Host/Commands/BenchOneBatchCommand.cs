using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Compiler.Host.Bench;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Engine.Cuda;

namespace Compiler.Host.Commands;

/// <summary>
/// <c>bench-one-batch</c>: sglang.bench_one_batch for this engine. For each batch size, one prefill of random prompts
/// and greedy decode steps, timed end to end (inputs in, sampled tokens out), without the scheduler.
/// </summary>
internal static class BenchOneBatchCommand
{
    public static Command Create()
    {
        var modelPath = new Option<string>("--model-path") { Description = "Hugging Face model directory, or a config.json with --load-format dummy", Required = true };
        var loadFormat = new Option<string>("--load-format") { Description = "auto | dummy (random weights of the real shapes)", DefaultValueFactory = _ => "auto" };
        var device = ModelHost.DeviceOption();
        var batchSizes = new Option<int[]>("--batch-size") { Description = "batch sizes to run", DefaultValueFactory = _ => [1], AllowMultipleArgumentsPerToken = true };
        var inputLen = new Option<int>("--input-len") { DefaultValueFactory = _ => 1024 };
        var outputLen = new Option<int>("--output-len") { DefaultValueFactory = _ => 16 };
        var resultFile = new Option<string>("--result-filename") { Description = "JSON lines are appended here", DefaultValueFactory = _ => "result.jsonl" };
        var runName = new Option<string>("--run-name") { DefaultValueFactory = _ => "default" };
        var disableGraph = new Option<bool>("--disable-cuda-graph");
        var disablePdl = new Option<bool>("--disable-pdl") { Description = "launch each kernel only after the previous one ends (no programmatic dependent launch)" };
        var disableGemvPrologues = new Option<bool>("--disable-gemv-prologues") { Description = "decode: launch each residual add + RMS norm kernel on its own, not inside the next GEMM's GEMV" };
        var disableAttentionPrologues = new Option<bool>("--disable-attention-prologues") { Description = "decode: launch the q/k norm + RoPE + KV store kernel on its own, not inside decode attention" };
        var disableGemmEpilogues = new Option<bool>("--disable-gemm-epilogues") { Description = "launch the SiLU gate kernel on its own, not in the epilogue of gate_up_proj's gemm_tiled or bulk GEMV" };
        var disableNormEpilogues = new Option<bool>("--disable-norm-epilogues") { Description = "launch each residual add + RMS norm kernel on its own at decode, not split over the epilogues of the gemm_tiled GEMMs around it" };
        var smallGemmKernel = new Option<string?>("--small-gemm-kernel")
        {
            Description = "gemv | gemv-bulk | skinny | tiled | cublaslt: run every GEMM of up to 64 rows with this kernel where it can (cuBLASLt elsewhere) instead of the fastest timed at load",
        };
        smallGemmKernel.AcceptOnlyFromAmong("gemv", "gemv-bulk", "skinny", "tiled", "cublaslt");
        var profile = new Option<bool>("--profile") { Description = "also print GPU time per launch of one decode step (cuda)" };
        var contextLength = new Option<int?>("--context-length") { Description = "longest sequence the runner is sized for (default: input + output length); a server's is the model's" };
        var command = new Command("bench-one-batch", "Latency of one static batch: prefill, then decode (mirrors sglang.bench_one_batch)")
            { modelPath, loadFormat, device, batchSizes, inputLen, outputLen, resultFile, runName, disableGraph, disablePdl, disableGemvPrologues, disableAttentionPrologues, disableGemmEpilogues, disableNormEpilogues, smallGemmKernel, profile, contextLength };
        command.SetAction(result =>
        {
            var sizes = result.GetValue(batchSizes)!;
            int inLen = result.GetValue(inputLen), outLen = result.GetValue(outputLen);
            var options = new CudaRunnerOptions
            {
                MaxRunningRequests = sizes.Max(),
                MaxBatchTokens = sizes.Max() * inLen,
                MaxContextLen = Math.Max(result.GetValue(contextLength) ?? 0, inLen + outLen + 1),
                MaxTotalTokens = sizes.Max() * (inLen + outLen) + 1,
                DisableCudaGraph = result.GetValue(disableGraph),
                DisableProgrammaticLaunch = result.GetValue(disablePdl),
                DisableGemvPrologues = result.GetValue(disableGemvPrologues),
                DisableAttentionPrologues = result.GetValue(disableAttentionPrologues),
                DisableGemmEpilogues = result.GetValue(disableGemmEpilogues),
                DisableNormEpilogues = result.GetValue(disableNormEpilogues),
                SmallGemmKernel = result.GetValue(smallGemmKernel) switch
                {
                    "gemv" => SmallGemmKernel.Gemv,
                    "gemv-bulk" => SmallGemmKernel.GemvBulk,
                    "skinny" => SmallGemmKernel.Skinny,
                    "tiled" => SmallGemmKernel.Tiled,
                    "cublaslt" => SmallGemmKernel.CublasLt,
                    _ => null,
                },
                CudaGraphBatchSizes = result.GetValue(disableGraph) ? [] : sizes,
                Log = Console.WriteLine,
            };
            using var host = ModelHost.Open(result.GetValue(modelPath)!, result.GetValue(loadFormat)!, result.GetValue(device)!, options);
            Console.WriteLine($"model: {host.Plan.Architecture}, vocab {host.Runner.VocabSize}");
            // Warm-up, untimed, decoding min(32, output_len) steps as sglang.bench_one_batch's does; at the largest batch
            // size (SGLang's is at the first), so the timed runs find the largest shapes compiled and planned.
            RunOnce(host, sizes.Max(), inLen, Math.Min(outLen, 32), null, null);
            foreach (var size in sizes) RunOnce(host, size, inLen, outLen, result.GetValue(resultFile), result.GetValue(runName));
            if (result.GetValue(profile) && host.Runner is CudaModelRunner cuda)
                foreach (var size in sizes) PrintProfile(cuda, size, inLen);
            return 0;
        });
        return command;
    }

    private static void RunOnce(ModelHost host, int batchSize, int inputLen, int outputLen, string? resultFile, string? runName)
    {
        var random = new Random(batchSize);
        var vocab = host.Runner.VocabSize;
        var prompts = Enumerable.Range(0, batchSize).Select(_ => Enumerable.Range(0, inputLen).Select(_ => random.Next(vocab)).ToArray()).ToArray();
        var batch = new FixedBatch(prompts, outputLen);
        var logits = host.Runner is IGreedyForward ? [] : new float[batchSize * vocab];
        var next = new int[batchSize];
        var report = resultFile is not null;

        var watch = Stopwatch.StartNew();
        batch.Prefill();
        host.ForwardGreedy(batch.Batch, next, logits);
        var prefill = watch.Elapsed.TotalSeconds;
        if (report) Console.WriteLine($"Prefill. latency: {prefill:F5} s, throughput: {batchSize * inputLen / prefill,12:F2} token/s");

        var decodes = new List<double>();
        for (var i = 0; i < outputLen - 1; i++)
        {
            watch.Restart();
            batch.Decode(next);
            host.ForwardGreedy(batch.Batch, next, logits);
            var latency = watch.Elapsed.TotalSeconds;
            decodes.Add(latency);
            if (report && i < 5) Console.WriteLine($"Decode {i}. Batch size: {batchSize}, latency: {latency:F5} s, throughput: {batchSize / latency,12:F2} token/s");
        }
        if (!report) return;
        var median = decodes.Count == 0 ? double.NaN : new Stats(decodes).Median;
        var total = prefill + decodes.Sum();
        Console.WriteLine($"Decode.  median latency: {median:F5} s, median throughput: {batchSize / median,12:F2} token/s");
        // The decode step's GPU time alone (its CUDA graph replayed back to back): the rest of the latency is the host's.
        var gpuMs = host.Runner is CudaModelRunner cuda ? cuda.TimeDecodeGraph(batchSize, 100) : null;
        if (gpuMs is { } ms) Console.WriteLine($"Decode.  GPU time per step (graph replayed): {ms / 1000:F5} s");
        Console.WriteLine($"Total. latency: {total:F3} s, throughput: {batchSize * (inputLen + outputLen) / total,12:F2} token/s");
        var fields = new Dictionary<string, object>
        {
            ["run_name"] = runName!, ["batch_size"] = batchSize, ["input_len"] = inputLen, ["output_len"] = outputLen,
            ["prefill_latency"] = prefill, ["prefill_throughput"] = batchSize * inputLen / prefill,
            ["median_decode_latency"] = median, ["median_decode_throughput"] = batchSize / median,
            ["total_latency"] = total, ["overall_throughput"] = batchSize * (inputLen + outputLen) / total,
        };
        if (gpuMs is { } gpu) fields["decode_gpu_latency"] = gpu / 1000;
        var line = JsonSerializer.Serialize(fields);
        File.AppendAllText(resultFile!, line + "\n");
    }

    /// <summary>Where one decode step's GPU time goes, per launch name (eager launches, events around each).</summary>
    private static void PrintProfile(CudaModelRunner runner, int batchSize, int inputLen)
    {
        var batch = new FixedBatch(Enumerable.Range(0, batchSize).Select(_ => new int[inputLen]).ToArray(), 2);
        batch.Prefill();
        runner.ForwardGreedy(batch.Batch, new int[batchSize]);
        batch.Decode(new int[batchSize]);
        var rows = runner.Profile(batch.Batch);
        var total = rows.Sum(r => r.Milliseconds);
        Console.WriteLine($"Decode step profile, batch {batchSize}, context {inputLen}: {rows.Sum(r => r.Launches)} launches, {total:F3} ms of kernel time");
        foreach (var (name, launches, ms) in rows)
            Console.WriteLine($"  {name,-40} {launches,4} x {1000 * ms / launches,8:F2} us = {ms,7:F3} ms ({100 * ms / total,5:F1} %)");
    }
}
