using Compiler.Models;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;

namespace Gpu.Tests;

/// <summary>
/// gemm_tiled_silu -- gate_up_proj with the SiLU gate in gemm_tiled's epilogue (the plan's SiluGate steps) -- gives the
/// logits of gemm_tiled followed by the gate kernel bit for bit: gate and up are rounded to bf16 before the gate, as
/// the kernel reads them from memory. Every GEMM of up to 64 rows runs on gemm_tiled at its largest K split (so
/// prefill chunks of up to 64 tokens fuse too, and melville's hidden size of 256 runs a cluster of 4); graphs and eager.
/// </summary>
public sealed class SiluGateEpilogueTests
{
    public static TheoryData<string, int, bool> Cases => new()
    {
        { "tiny-qwen3", 1, true }, { "tiny-qwen3", 40, false }, { "tiny-qwen2", 3, true }, { "tiny-llama", 40, true },
        { "melville-sotu-qwen3-6m", 3, true }, { "melville-sotu-qwen3-6m", 40, false },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Gated_gemm_tiled_gives_the_logits_of_the_gemm_and_the_gate_kernel(string model, int requests, bool graphs)
    {
        _ = Gpu.Device;
        var dir = RunnerPair.ModelDirectory(model);
        var config = HfConfig.Load(dir);
        var plan = ModelCatalog.All[config.Architectures[0]];
        Assert.Contains(plan.DecodeLayer, s => s.SiluGate >= 0);
        using var checkpoint = Checkpoint.Open(dir);
        var options = new CudaRunnerOptions
        {
            MaxTotalTokens = 8192, MaxBatchTokens = 128, MaxRunningRequests = 40, MaxContextLen = 128, MaxLogitsRows = 40,
            KernelCacheDirectory = Gpu.NewCacheDirectory(), DisableCudaGraph = !graphs, CudaGraphBatchSizes = graphs ? [requests] : [],
            SmallGemmKernel = SmallGemmKernel.Tiled,
        };
        using var fused = new CudaModelRunner(plan, config, checkpoint, options);
        using var separate = new CudaModelRunner(plan, config, checkpoint, options with { DisableGemmEpilogues = true });

        var random = new Random(11);
        var prompts = Enumerable.Range(0, requests)
            .Select(r => Enumerable.Range(0, requests > 3 ? random.Next(30, 101) : 6 + 3 * r).Select(_ => random.Next(1, Math.Min(fused.VocabSize, 4000))).ToArray()).ToArray();
        var a = GemvPrologueTests.Decode(fused, prompts);
        var b = GemvPrologueTests.Decode(separate, prompts);
        var worst = 0f;
        for (var i = 0; i < a.Length; i++) worst = MathF.Max(worst, MathF.Abs(a[i] - b[i]));
        Gpu.Report($"{model}, {requests} request(s), graphs {graphs}: prefill and decode steps, max |gated - separate| logit {worst:E2}");
        Assert.Equal(b, a);
    }
}
