using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine.Cuda;

namespace Gpu.Tests;

/// <summary>
/// The CUDA runner (bf16 weights and activations, fp32 accumulation) against the CPU runner (fp32, itself checked
/// against transformers in Execution.Tests) on the small committed checkpoints: the logits of every prompt position
/// agree to within bf16 noise, and the CUDA greedy continuation (decode steps through CUDA graphs) picks the CPU's
/// token wherever the CPU's choice is not a near-tie.
/// </summary>
public sealed class CudaVersusCpuTests
{
    public static TheoryData<string> Models => new() { "tiny-qwen3", "tiny-qwen2", "tiny-llama", "melville-sotu-qwen3-6m" };

    private const int PromptLength = 48;
    private const int NewTokens = 32;

    [Theory, MemberData(nameof(Models))]
    public void Cuda_matches_the_cpu_runner(string model)
    {
        using var runners = RunnerPair.Open(model);
        var (cpu, cuda) = (runners.Cpu, runners.Cuda);
        var vocab = cpu.VocabSize;
        var prompt = new int[PromptLength];
        var rng = new Random(7);
        for (var i = 0; i < prompt.Length; i++) prompt[i] = rng.Next(Math.Min(vocab, 4000));

        // Teacher-forced: every position of prompt + the CPU's greedy continuation.
        var cpuGreedy = new GreedyGenerator(cpu).Generate(prompt, NewTokens, stopAtEos: false);
        int[] sequence = [.. prompt, .. cpuGreedy];
        var cpuLogits = new GreedyGenerator(cpu).PromptLogits(sequence);
        var cudaLogits = new GreedyGenerator(cuda, 256, 128).PromptLogits(sequence);
        var scale = Math.Max(1.0, cpuLogits.Max(MathF.Abs));
        var worst = 0.0;
        for (var i = 0; i < cpuLogits.Length; i++) worst = Math.Max(worst, Math.Abs(cpuLogits[i] - cudaLogits[i]));
        var tolerance = 0.03 * scale;
        Gpu.Report($"{model}: max |cuda - cpu| logit over {sequence.Length} positions = {worst:E2} (max |logit| {scale:F2}, tolerance {tolerance:E1})");
        Assert.True(worst <= tolerance, $"{model}: max |cuda - cpu| = {worst:E3} > {tolerance:E3}");

        // Free-running CUDA greedy (prefill, then graph-replayed decode steps) against the CPU's choices.
        var cudaGreedy = new GreedyGenerator(cuda, 256, 128).Generate(prompt, NewTokens, stopAtEos: false);
        for (var t = 0; t < NewTokens; t++)
        {
            if (cudaGreedy[t] == cpuGreedy[t]) continue;
            var row = cpuLogits.AsSpan((PromptLength - 1 + t) * vocab, vocab);
            var gap = row[cpuGreedy[t]] - row[cudaGreedy[t]];
            Gpu.Report($"{model}: greedy differs at token {t} (cpu {cpuGreedy[t]}, cuda {cudaGreedy[t]}, cpu logit gap {gap:E2})");
            Assert.True(gap <= 2 * tolerance, $"{model}: CUDA greedy left the CPU's path at token {t} where the CPU's margin was {gap:E3}.");
            break; // after an honest near-tie flip the two continuations are different texts
        }
    }
}
