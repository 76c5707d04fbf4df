using Compiler.Runtime.Engine.Cuda;

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
        // Both runners multiply with the same kernels (each timing its own picks at load could round differently).
        var runs = FusedVersusSeparate.Decode(model, requests, graphs, SmallGemmKernel.CublasLt, seed: 7,
            plan => plan.AttentionPrologues.Length > 0, options => options with { DisableAttentionPrologues = true });
        Gpu.Report($"{model}, {requests} request(s), graphs {graphs}: decode steps, max |fused - separate| logit {FusedVersusSeparate.MaxDifference(runs.Fused, runs.Separate):E2}, " +
                   $"{runs.FusedLaunches} launches a step against {runs.SeparateLaunches}");
        Assert.True(runs.FusedLaunches < runs.SeparateLaunches, "the attention prologue did not fuse");
        Assert.Equal(runs.Separate, runs.Fused);
    }
}
