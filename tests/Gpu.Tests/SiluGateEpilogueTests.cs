using Compiler.Runtime.Engine.Cuda;

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
        var (gated, separate) = FusedVersusSeparate.Decode(model, requests, graphs, SmallGemmKernel.Tiled, seed: 11,
            plan => plan.DecodeLayer.Any(s => s.SiluGate >= 0), options => options with { DisableGemmEpilogues = true });
        Gpu.Report($"{model}, {requests} request(s), graphs {graphs}: prefill and decode steps, max |gated - separate| logit {FusedVersusSeparate.MaxDifference(gated, separate):E2}");
        Assert.Equal(separate, gated);
    }
}
