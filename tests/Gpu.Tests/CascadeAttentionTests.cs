using Compiler.Models;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Memory;

namespace Gpu.Tests;

/// <summary>
/// Cascade decode attention (requests that share a cached prefix attend to it together in shared_prefix_attention,
/// decode_attention covers the rest and merges) gives the logits of every request attending to its whole context on
/// its own, to within bf16 rounding: the shared pass rounds the softmax weights to bf16 for the tensor cores, as
/// extend attention does. Ten requests share a 600-token prefix (576 of it, whole key tiles, goes to the cascade) and
/// two more have prompts of their own; decode steps with graphs (the 16-row graph, padding rows included) and eager.
/// </summary>
public sealed class CascadeAttentionTests
{
    public static TheoryData<string, bool> Cases => new()
    {
        { "tiny-qwen3", true }, { "tiny-llama", false }, { "melville-sotu-qwen3-6m", true },
    };

    private const int Steps = 8, PrefixLen = 600, Sharing = 10, Context = 1024;

    [Theory, MemberData(nameof(Cases))]
    public void Cascade_decode_gives_the_logits_of_plain_decode(string model, bool graphs)
    {
        _ = Gpu.Device;
        var dir = RunnerPair.ModelDirectory(model);
        var config = HfConfig.Load(dir);
        var plan = ModelCatalog.All[config.Architectures[0]];
        using var checkpoint = Checkpoint.Open(dir);
        var options = new CudaRunnerOptions
        {
            MaxTotalTokens = 2048, MaxBatchTokens = Context, MaxRunningRequests = 16, MaxContextLen = Context, MaxLogitsRows = 16,
            KernelCacheDirectory = Gpu.NewCacheDirectory(), DisableCudaGraph = !graphs,
            // Both runners multiply with the same kernels, so only attention differs: each timing its own picks at load
            // could round differently and flip a near-tie (melville: 94 and 95 of 96 argmaxes agreeing in two runs).
            SmallGemmKernel = SmallGemmKernel.CublasLt,
        };
        using var cascade = new CudaModelRunner(plan, config, checkpoint, options);
        using var plain = new CudaModelRunner(plan, config, checkpoint, options with { DisableCascadeAttention = true });

        var a = Decode(cascade);
        var b = Decode(plain);
        Assert.Equal(Steps, cascade.SharedPrefixSteps);
        Assert.Equal(0, plain.SharedPrefixSteps);
        var (worst, scale, agree) = (0f, 0f, 0);
        var vocab = plain.VocabSize;
        for (var row = 0; row < a.Length / vocab; row++)
        {
            var x = a.AsSpan(row * vocab, vocab);
            var y = b.AsSpan(row * vocab, vocab);
            for (var i = 0; i < vocab; i++) { worst = MathF.Max(worst, MathF.Abs(x[i] - y[i])); scale = MathF.Max(scale, MathF.Abs(y[i])); }
            if (ArgMax(x) == ArgMax(y)) agree++;
        }
        var rows = a.Length / vocab;
        var tolerance = 0.03f * scale; // CudaVersusCpuTests' bound on bf16 rounding
        Gpu.Report($"{model}, graphs {graphs}: {Steps} decode steps of {Sharing + 2} requests, max |cascade - plain| logit {worst:E2} " +
                   $"(max |logit| {scale:F2}, tolerance {tolerance:E1}), argmax agrees on {agree}/{rows} rows");
        Assert.True(worst <= tolerance, $"max |cascade - plain| = {worst:E3} > {tolerance:E3}");
        Assert.True(agree >= rows - 1, $"argmax agrees on only {agree} of {rows} rows");
    }

    /// <summary>Prefills the shared prefix once, starts the sharing requests on its slots (each with a suffix of its own)
    /// and two requests with their own prompts, then runs <see cref="Steps"/> decode steps of all of them on a fixed
    /// token sequence; returns every decode step's logits.</summary>
    private static float[] Decode(CudaModelRunner runner)
    {
        var vocab = runner.VocabSize;
        var ids = Math.Min(vocab, 4000);
        var pool = new ReqToTokenPool(Sharing + 2, Context);
        var allocator = new TokenToKvPoolAllocator(2048);
        var batch = new ForwardBatch(pool);
        var logits = new float[(Sharing + 2) * vocab];
        var prompts = new int[Sharing + 2][];
        var reqs = new int[Sharing + 2];
        for (var r = 0; r < reqs.Length; r++) reqs[r] = pool.Alloc();

        var prefix = Enumerable.Range(0, PrefixLen).Select(i => (i * 37 + 11) % ids).ToArray();
        BatchStaging.Prompt(batch, pool, allocator, reqs[0], prefix);
        runner.Forward(batch, logits.AsSpan(0, vocab));
        prompts[0] = prefix;
        for (var r = 1; r < Sharing; r++)
        {
            var suffix = Enumerable.Range(0, 3 + r).Select(i => (r * 101 + i * 13) % ids).ToArray();
            BatchStaging.SharedPrefixPrompt(batch, pool, allocator, reqs[r], reqs[0], PrefixLen, suffix);
            runner.Forward(batch, logits.AsSpan(0, vocab));
            prompts[r] = [.. prefix, .. suffix];
        }
        for (var r = Sharing; r < reqs.Length; r++)
        {
            prompts[r] = Enumerable.Range(0, 40 + 300 * (r - Sharing)).Select(i => (r * 7 + i * 29) % ids).ToArray();
            BatchStaging.Prompt(batch, pool, allocator, reqs[r], prompts[r]);
            runner.Forward(batch, logits.AsSpan(0, vocab));
        }

        var all = new List<float>();
        for (var step = 0; step < Steps; step++)
        {
            batch.Reset(ForwardMode.Decode, reqs.Length, reqs.Length);
            Assert.True(allocator.TryAlloc(batch.OutCacheLoc));
            for (var r = 0; r < reqs.Length; r++)
                BatchStaging.DecodeRow(batch, pool, r, reqs[r], (r * 53 + 31 * step) % ids, prompts[r].Length + step);
            runner.Forward(batch, logits);
            all.AddRange(logits);
        }
        return [.. all];
    }

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        var best = 0;
        for (var i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }
}
