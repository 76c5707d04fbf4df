using Compiler.Models;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Gpu.Tests;

/// <summary>A committed model run by two CUDA runners that differ in one fusion switch, over the same prompts: the
/// logits of their decode steps (GemvPrologueTests.Decode), for tests that hold a fused launch to the separate ones.</summary>
internal static class FusedVersusSeparate
{
    /// <summary>Both runs' decode logits, and the launches of each one's last decode step (fewer where it fused).</summary>
    public sealed record Runs(float[] Fused, float[] Separate, int FusedLaunches, int SeparateLaunches);

    /// <summary>Runs <paramref name="requests"/> prompts (6-12 tokens for up to three, 30-100 otherwise) through a runner
    /// with <paramref name="options"/> and one with <paramref name="separate"/> applied to them; asserts that
    /// <paramref name="plan"/>'s fusion exists first (<paramref name="fused"/>).</summary>
    public static Runs Decode(string model, int requests, bool graphs, SmallGemmKernel kernel, int seed,
        Func<ModelPlan, bool> fused, Func<CudaRunnerOptions, CudaRunnerOptions> separate)
    {
        _ = Gpu.Device;
        var dir = RunnerPair.ModelDirectory(model);
        var config = HfConfig.Load(dir);
        var plan = ModelCatalog.All[config.Architectures[0]];
        Assert.True(fused(plan), $"{model}'s plan has no such fusion");
        using var checkpoint = Checkpoint.Open(dir);
        var options = new CudaRunnerOptions
        {
            MaxTotalTokens = 8192, MaxBatchTokens = 128, MaxRunningRequests = 40, MaxContextLen = 128, MaxLogitsRows = 40,
            KernelCacheDirectory = Gpu.NewCacheDirectory(), DisableCudaGraph = !graphs, CudaGraphBatchSizes = graphs ? [requests] : [],
            SmallGemmKernel = kernel,
        };
        using var one = new CudaModelRunner(plan, config, checkpoint, options);
        using var other = new CudaModelRunner(plan, config, checkpoint, separate(options));
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, requests)
            .Select(r => Enumerable.Range(0, requests > 3 ? random.Next(30, 101) : 6 + 3 * r).Select(_ => random.Next(1, Math.Min(one.VocabSize, 4000))).ToArray()).ToArray();
        var oneLogits = GemvPrologueTests.Decode(one, prompts, out var oneLaunches);
        var otherLogits = GemvPrologueTests.Decode(other, prompts, out var otherLaunches);
        return new Runs(oneLogits, otherLogits, oneLaunches, otherLaunches);
    }

    /// <summary>The largest |a - b| over the logits.</summary>
    public static float MaxDifference(float[] a, float[] b)
    {
        var worst = 0f;
        for (var i = 0; i < a.Length; i++) worst = MathF.Max(worst, MathF.Abs(a[i] - b[i]));
        return worst;
    }
}
