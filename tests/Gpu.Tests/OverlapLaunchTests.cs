using Compiler.Models;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Memory;

namespace Gpu.Tests;

/// <summary>
/// The CUDA runner's asynchronous launches (overlap scheduling): decode steps launched before the previous step's
/// tokens reached the host, with placeholder ids the runner resolves on the device, produce exactly the tokens of
/// synchronous steps -- also when the rows of consecutive steps are in a different order.
/// </summary>
public sealed class OverlapLaunchTests
{
    private const int Steps = 24;

    [Fact]
    public void Placeholder_steps_give_the_synchronous_tokens()
    {
        _ = Gpu.Device;
        var dir = RunnerPair.ModelDirectory("melville-sotu-qwen3-6m");
        var config = HfConfig.Load(dir);
        using var checkpoint = Checkpoint.Open(dir);
        using var cuda = new CudaModelRunner(ModelCatalog.All[config.Architectures[0]], config, checkpoint, new CudaRunnerOptions
        {
            MaxTotalTokens = 512, MaxBatchTokens = 128, MaxRunningRequests = 4, MaxContextLen = 128, MaxLogitsRows = 4,
            KernelCacheDirectory = Gpu.NewCacheDirectory(),
        });
        int[][] prompts = [[5, 17, 99, 3, 250, 8], [42, 7, 7, 1000, 64, 12, 300, 9, 77]];

        var synchronous = Run(cuda, prompts, overlap: false);
        var overlapped = Run(cuda, prompts, overlap: true);

        for (var r = 0; r < prompts.Length; r++) Assert.Equal(synchronous[r], overlapped[r]);
        Gpu.Report($"overlap: {Steps} decode steps of {prompts.Length} requests, tokens identical to synchronous steps");
    }

    /// <summary>Prefills each prompt, then decodes all of them together; odd steps list the requests in reverse order.</summary>
    private static List<int>[] Run(CudaModelRunner runner, int[][] prompts, bool overlap)
    {
        var pool = new ReqToTokenPool(prompts.Length, 128);
        var allocator = new TokenToKvPoolAllocator(512);
        var batch = new ForwardBatch(pool);
        var outputs = prompts.Select(_ => new List<int>()).ToArray();
        var reqs = prompts.Select(_ => pool.Alloc()).ToArray();
        var token = new int[prompts.Length];
        for (var r = 0; r < prompts.Length; r++)
        {
            BatchStaging.Prompt(batch, pool, allocator, reqs[r], prompts[r]);
            runner.ForwardGreedy(batch, token.AsSpan(r, 1));
            outputs[r].Add(token[r]);
        }

        var previousRow = new int[prompts.Length]; // each request's logits row in the last launched step
        var tokens = new int[prompts.Length];
        for (var step = 0; step < Steps; step++)
        {
            batch.Reset(ForwardMode.Decode, prompts.Length, prompts.Length);
            Assert.True(allocator.TryAlloc(batch.OutCacheLoc));
            var order = step % 2 == 0 ? Enumerable.Range(0, prompts.Length) : Enumerable.Range(0, prompts.Length).Reverse();
            var rowOf = new int[prompts.Length];
            var row = 0;
            foreach (var r in order)
            {
                // Overlapped, a step's input is still on the device when it is launched (the first decode step excepted).
                var input = overlap && step > 0 ? -(previousRow[r] + 1) : outputs[r][^1];
                BatchStaging.DecodeRow(batch, pool, row, reqs[r], input, prompts[r].Length + step);
                rowOf[r] = row++;
            }
            if (!overlap)
            {
                runner.ForwardGreedy(batch, tokens);
                for (var r = 0; r < prompts.Length; r++) outputs[r].Add(tokens[rowOf[r]]);
                continue;
            }
            runner.LaunchGreedy(batch);
            if (step > 0) Collect(runner, tokens, outputs, previousRow); // the previous step, while this one runs
            rowOf.CopyTo(previousRow, 0);
        }
        if (overlap) Collect(runner, tokens, outputs, previousRow);
        return outputs;
    }

    private static void Collect(CudaModelRunner runner, int[] tokens, List<int>[] outputs, int[] rowOf)
    {
        runner.WaitGreedy(tokens);
        for (var r = 0; r < outputs.Length; r++) outputs[r].Add(tokens[rowOf[r]]);
    }
}
