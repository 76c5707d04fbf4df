using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine.Cuda;

namespace Gpu.Tests;

/// <summary>
/// Each kernel that may run a GEMM of few rows (gemv, the bulk GEMV, gemm_skinny, gemm_tiled, cuBLASLt), forced on every GEMM it can run,
/// gives the CPU runner's logits: the prompt is fed in chunks of 1 to 61 tokens, so the GEMMs see row counts in
/// every bucket and that are not multiples of a tile; the model's dimensions (64-768) give K splits of 1 to 8 (gemm_tiled's
/// largest that fits: its cluster of CTAs adding partial tiles).
/// </summary>
public sealed class SmallGemmKernelTests
{
    // Kernel names as strings: the enum is internal to the runtime, and a public test method cannot take it.
    public static TheoryData<string, string> Cases => new()
    {
        { "tiny-qwen3", "Gemv" }, { "tiny-qwen3", "GemvBulk" }, { "tiny-qwen3", "Skinny" }, { "tiny-qwen3", "Tiled" },
        { "tiny-qwen3", "CublasLt" }, { "melville-sotu-qwen3-6m", "Gemv" }, { "melville-sotu-qwen3-6m", "GemvBulk" },
        { "melville-sotu-qwen3-6m", "Skinny" }, { "melville-sotu-qwen3-6m", "Tiled" },
    };

    [Theory, MemberData(nameof(Cases))]
    public void A_forced_small_gemm_kernel_gives_the_cpu_logits(string model, string kernelName)
    {
        var kernel = Enum.Parse<SmallGemmKernel>(kernelName);
        using var runners = RunnerPair.Open(model, o => o with { SmallGemmKernel = kernel, DisableCudaGraph = true });
        var (cpu, cuda) = (runners.Cpu, runners.Cuda);
        var rng = new Random(11);
        var sequence = new int[96];
        for (var i = 0; i < sequence.Length; i++) sequence[i] = rng.Next(Math.Min(cpu.VocabSize, 4000));
        var expected = new GreedyGenerator(cpu).PromptLogits(sequence);
        var scale = Math.Max(1.0, expected.Max(MathF.Abs));
        var tolerance = 0.03 * scale; // as CudaVersusCpuTests: bf16 weights and activations against fp32
        foreach (var chunk in new[] { 1, 3, 7, 13, 29, 61 })
        {
            var logits = new GreedyGenerator(cuda, 256, chunk).PromptLogits(sequence);
            var worst = 0.0;
            for (var i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(expected[i] - logits[i]));
            Gpu.Report($"{model} {kernel} chunks of {chunk}: max |cuda - cpu| logit {worst:E2} (tolerance {tolerance:E1})");
            Assert.True(worst <= tolerance, $"{model}, {kernel}, chunks of {chunk}: max |cuda - cpu| = {worst:E3} > {tolerance:E3}");
        }
    }
}
