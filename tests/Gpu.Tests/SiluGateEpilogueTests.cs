using Compiler.Runtime.Engine.Cuda;

namespace Gpu.Tests;

/// <summary>
/// gate_up_proj with the SiLU gate in its epilogue (the plan's SiluGate steps) -- gemm_tiled_silu, and the bulk GEMV's
/// gate, with or without the GEMV prologue kernel before it -- gives the logits of the GEMM followed by the
/// gate kernel bit for bit: gate and up are rounded to bf16 before the gate, as the kernel reads them from memory. Every
/// GEMM of up to 64 rows runs on gemm_tiled at its largest K split (so prefill chunks of up to 64 tokens fuse too, and
/// melville's hidden size of 256 runs a cluster of 4), or up to 8 rows on the bulk GEMV; graphs and eager.
/// </summary>
public sealed class SiluGateEpilogueTests
{
    // Kernel names as strings: the enum is internal to the runtime, and a public test method cannot take it.
    public static TheoryData<string, int, bool, string> Cases => new()
    {
        { "tiny-qwen3", 1, true, "Tiled" }, { "tiny-qwen3", 40, false, "Tiled" }, { "tiny-qwen2", 3, true, "Tiled" },
        { "tiny-llama", 40, true, "Tiled" }, { "melville-sotu-qwen3-6m", 3, true, "Tiled" }, { "melville-sotu-qwen3-6m", 40, false, "Tiled" },
        { "tiny-qwen3", 1, true, "GemvBulk" }, { "tiny-llama", 3, false, "GemvBulk" }, { "tiny-qwen2", 1, true, "GemvBulk" },
        { "melville-sotu-qwen3-6m", 3, true, "GemvBulk" }, { "melville-sotu-qwen3-6m", 3, false, "GemvBulk" },
    };

    [Theory, MemberData(nameof(Cases))]
    public void The_gated_gemm_gives_the_logits_of_the_gemm_and_the_gate_kernel(string model, int requests, bool graphs, string kernelName)
    {
        var runs = FusedVersusSeparate.Decode(model, requests, graphs, Enum.Parse<SmallGemmKernel>(kernelName), seed: 11,
            plan => plan.DecodeLayer.Any(s => s.SiluGate >= 0), options => options with { DisableGemmEpilogues = true });
        Gpu.Report($"{model}, {requests} request(s), graphs {graphs}, {kernelName}: prefill and decode steps, max |gated - separate| logit " +
                   $"{FusedVersusSeparate.MaxDifference(runs.Fused, runs.Separate):E2}, {runs.FusedLaunches} launches a step against {runs.SeparateLaunches}");
        Assert.True(runs.FusedLaunches < runs.SeparateLaunches, "the SiLU gate did not fuse");
        Assert.Equal(runs.Separate, runs.Fused);
    }
}
