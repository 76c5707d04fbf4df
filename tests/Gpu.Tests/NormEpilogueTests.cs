using Compiler.Runtime.Engine.Cuda;

namespace Gpu.Tests;

/// <summary>
/// The residual add + RMS norm kernels between two GEMMs split over those GEMMs' epilogues (the plan's NormEpilogue
/// steps: gemm_tiled_add_norm, then gemm_tiled[_silu]_row_scale) give the logits of the separate kernels within bf16
/// rounding -- the split rounds x * weight to bf16 before the row's scale, the kernel x * scale * weight -- and launch
/// fewer kernels a step. Every GEMM of up to 64 rows runs on gemm_tiled at its largest K split (melville's hidden size
/// of 256 runs a cluster of 4, so the rows' sums of squares come from 4 tiles), graphs and eager.
/// </summary>
public sealed class NormEpilogueTests
{
    [Theory]
    [InlineData("tiny-qwen3", 3, true)]
    [InlineData("tiny-qwen3", 40, false)]
    [InlineData("tiny-qwen2", 5, true)]
    [InlineData("tiny-llama", 40, true)]
    [InlineData("melville-sotu-qwen3-6m", 1, true)]
    [InlineData("melville-sotu-qwen3-6m", 40, false)]
    public void The_split_norm_gives_the_logits_of_the_norm_kernels(string model, int requests, bool graphs)
    {
        var runs = FusedVersusSeparate.Decode(model, requests, graphs, SmallGemmKernel.Tiled, seed: 13,
            plan => plan.DecodeLayer.Count(s => s.NormEpilogue is not null) == 2, options => options with { DisableNormEpilogues = true });
        var scale = Math.Max(1.0f, runs.Separate.Max(MathF.Abs));
        var worst = FusedVersusSeparate.MaxDifference(runs.Fused, runs.Separate);
        var tolerance = 0.03f * scale; // as CudaVersusCpuTests: bf16 rounding in different places
        Gpu.Report($"{model}, {requests} request(s), graphs {graphs}: max |split - separate| logit {worst:E2} (tolerance {tolerance:E1}), " +
                   $"{runs.FusedLaunches} launches a step against {runs.SeparateLaunches}");
        Assert.True(runs.FusedLaunches < runs.SeparateLaunches, "the norms were not split");
        Assert.True(worst <= tolerance, $"max |split - separate| = {worst:E3} > {tolerance:E3}");
    }
}
