using Compiler.Models;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Memory;

namespace Gpu.Tests;

/// <summary>
/// The plan's GEMV prologue kernels (residual add + RMS norm computed inside the next GEMM's decode GEMV) give the
/// logits of the separate launches bit for bit: same arithmetic in the same order, only the normed row stays in
/// shared memory. Decode steps of 1 and 3 requests (3 runs the 4-row graph with a padding row), graphs and eager,
/// with every small GEMM forced to the GEMV (or the bulk GEMV, gemv_bulk) so every layer takes the fused path.
/// </summary>
public sealed class GemvPrologueTests
{
    // Kernel names as strings: the enum is internal to the runtime, and a public test method cannot take it.
    public static TheoryData<string, int, bool, string> Cases => new()
    {
        { "tiny-qwen3", 1, true, "Gemv" }, { "tiny-qwen3", 3, true, "Gemv" }, { "tiny-llama", 3, false, "Gemv" },
        { "tiny-qwen2", 1, false, "Gemv" }, { "melville-sotu-qwen3-6m", 3, true, "Gemv" },
        { "tiny-qwen3", 1, true, "GemvBulk" }, { "tiny-llama", 3, false, "GemvBulk" }, { "melville-sotu-qwen3-6m", 3, true, "GemvBulk" },
    };

    private const int Steps = 12;

    [Theory, MemberData(nameof(Cases))]
    public void Fused_decode_gives_the_logits_of_separate_launches(string model, int requests, bool graphs, string kernelName)
    {
        _ = Gpu.Device;
        var dir = RunnerPair.ModelDirectory(model);
        var config = HfConfig.Load(dir);
        var plan = ModelCatalog.All[config.Architectures[0]];
        Assert.NotEmpty(plan.GemvPrologues);
        using var checkpoint = Checkpoint.Open(dir);
        var options = new CudaRunnerOptions
        {
            MaxTotalTokens = 512, MaxBatchTokens = 128, MaxRunningRequests = 4, MaxContextLen = 128, MaxLogitsRows = 4,
            KernelCacheDirectory = Gpu.NewCacheDirectory(), SmallGemmKernel = Enum.Parse<SmallGemmKernel>(kernelName), DisableCudaGraph = !graphs,
        };
        using var fused = new CudaModelRunner(plan, config, checkpoint, options);
        using var separate = new CudaModelRunner(plan, config, checkpoint, options with { DisableGemvPrologues = true });

        int[][] prompts = [[5, 17, 99, 3, 250, 8], [42, 7, 7, 1000, 64, 12, 300, 9, 77], [1, 2, 3]];
        var a = Decode(fused, prompts[..requests]);
        var b = Decode(separate, prompts[..requests]);
        var worst = 0f;
        for (var i = 0; i < a.Length; i++) worst = MathF.Max(worst, MathF.Abs(a[i] - b[i]));
        Gpu.Report($"{model}, {kernelName}, {requests} request(s), graphs {graphs}: {Steps} decode steps, max |fused - separate| logit {worst:E2}");
        Assert.Equal(b, a);
    }

    /// <summary>Prefills each prompt, then runs <see cref="Steps"/> decode steps of all of them on a fixed token
    /// sequence (so both runners see the same inputs whatever their logits); returns every decode step's logits.</summary>
    internal static float[] Decode(CudaModelRunner runner, int[][] prompts) => Decode(runner, prompts, out _);

    /// <summary><see cref="Decode(CudaModelRunner, int[][])"/>, and the kernel launches of the last decode step (run
    /// once more, eagerly, by the runner's profile).</summary>
    internal static float[] Decode(CudaModelRunner runner, int[][] prompts, out int launches)
    {
        var vocab = runner.VocabSize;
        var pool = new ReqToTokenPool(prompts.Length, 128);
        var allocator = new TokenToKvPoolAllocator(prompts.Sum(p => p.Length + Steps));
        var batch = new ForwardBatch(pool);
        var reqs = prompts.Select(_ => pool.Alloc()).ToArray();
        var logits = new float[prompts.Length * vocab];
        for (var r = 0; r < prompts.Length; r++)
        {
            BatchStaging.Prompt(batch, pool, allocator, reqs[r], prompts[r]);
            runner.Forward(batch, logits.AsSpan(0, vocab));
        }

        var all = new List<float>();
        for (var step = 0; step < Steps; step++)
        {
            batch.Reset(ForwardMode.Decode, prompts.Length, prompts.Length);
            Assert.True(allocator.TryAlloc(batch.OutCacheLoc));
            for (var r = 0; r < prompts.Length; r++)
                BatchStaging.DecodeRow(batch, pool, r, reqs[r], (prompts[r][step % prompts[r].Length] + 31 * step) % Math.Min(vocab, 4000), prompts[r].Length + step);
            runner.Forward(batch, logits);
            all.AddRange(logits);
        }
        launches = runner.Profile(batch).Sum(p => p.Launches);
        return [.. all];
    }
}
