using Compiler.Models;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;

namespace Gpu.Tests;

/// <summary>
/// The plan's attention prologue kernels (q/k norm, bias, RoPE and the KV store computed inside decode attention) give
/// the logits of the separate launches bit for bit: each CTA computes its kv head's share with the same arithmetic, q
/// rounded to bf16 as the separate kernel stores it. One and three requests take decode_attention_wide; forty, with
/// contexts of 30-100 tokens, take decode_attention with the KV split over CTAs, where only the CTA holding the new
/// token stores its K/V. Graphs and eager.
/// </summary>
public sealed class AttentionPrologueTests
{
    public static TheoryData<string, int, bool> Cases => new()
    {
        { "tiny-qwen3", 1, true }, { "tiny-qwen3", 3, false }, { "tiny-qwen3", 40, true }, { "tiny-qwen2", 3, true },
        { "tiny-llama", 40, false }, { "melville-sotu-qwen3-6m", 3, true },
    };

    [Theory, MemberData(nameof(Cases))]
    public void Fused_decode_attention_gives_the_logits_of_separate_launches(string model, int requests, bool graphs)
    {
        _ = Gpu.Device;
        var dir = RunnerPair.ModelDirectory(model);
        var config = HfConfig.Load(dir);
        var plan = ModelCatalog.All[config.Architectures[0]];
        Assert.NotEmpty(plan.AttentionPrologues);
        using var checkpoint = Checkpoint.Open(dir);
        var options = new CudaRunnerOptions
        {
            MaxTotalTokens = 8192, MaxBatchTokens = 128, MaxRunningRequests = 40, MaxContextLen = 128, MaxLogitsRows = 40,
            KernelCacheDirectory = Gpu.NewCacheDirectory(), DisableCudaGraph = !graphs, CudaGraphBatchSizes = graphs ? [requests] : [],
            // Both runners multiply with the same kernels (each timing its own picks at load could round differently).
            SmallGemmKernel = SmallGemmKernel.CublasLt,
        };
        using var fused = new CudaModelRunner(plan, config, checkpoint, options);
        using var separate = new CudaModelRunner(plan, config, checkpoint, options with { DisableAttentionPrologues = true });

        var random = new Random(7);
        var prompts = Enumerable.Range(0, requests)
            .Select(r => Enumerable.Range(0, requests > 3 ? random.Next(30, 101) : 6 + 3 * r).Select(_ => random.Next(1, Math.Min(fused.VocabSize, 4000))).ToArray()).ToArray();
        var a = GemvPrologueTests.Decode(fused, prompts);
        var b = GemvPrologueTests.Decode(separate, prompts);
        var worst = 0f;
        for (var i = 0; i < a.Length; i++) worst = MathF.Max(worst, MathF.Abs(a[i] - b[i]));
        Gpu.Report($"{model}, {requests} request(s), graphs {graphs}: decode steps, max |fused - separate| logit {worst:E2}");
        Assert.Equal(b, a);
    }
}
