using Compiler.Models;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Loading;

namespace Gpu.Tests;

/// <summary>A committed checkpoint opened for the CPU runner and the CUDA runner side by side (256 KV tokens,
/// 128-token steps), for tests that hold the CUDA runner to the CPU one.</summary>
internal sealed class RunnerPair : IDisposable
{
    private readonly Checkpoint _checkpoint;

    private RunnerPair(Checkpoint checkpoint, CpuModelRunner cpu, CudaModelRunner cuda)
    {
        _checkpoint = checkpoint;
        Cpu = cpu;
        Cuda = cuda;
    }

    public CpuModelRunner Cpu { get; }
    public CudaModelRunner Cuda { get; }

    /// <summary>The checkpoints are read where the repository keeps them (the GPU machine runs the tests inside a checkout).</summary>
    public static string ModelDirectory(string model) => model.StartsWith("tiny-", StringComparison.Ordinal)
        ? Path.Combine(RepoRoot.Path, "tests", "Execution.Tests", "Models", model)
        : Path.Combine(RepoRoot.Path, "assets", "models", model);

    /// <summary>Opens <paramref name="model"/>; <paramref name="adjust"/> changes the CUDA runner's options.</summary>
    public static RunnerPair Open(string model, Func<CudaRunnerOptions, CudaRunnerOptions>? adjust = null)
    {
        _ = Gpu.Device;
        var dir = ModelDirectory(model);
        var config = HfConfig.Load(dir);
        var plan = ModelCatalog.All[config.Architectures[0]];
        var checkpoint = Checkpoint.Open(dir);
        var options = new CudaRunnerOptions
        {
            MaxTotalTokens = 256, MaxBatchTokens = 128, MaxRunningRequests = 4, MaxContextLen = 256, MaxLogitsRows = 128,
            KernelCacheDirectory = Gpu.NewCacheDirectory(),
        };
        CpuModelRunner? cpu = null;
        try
        {
            cpu = new CpuModelRunner(plan, config, checkpoint, maxTotalTokens: 256, maxBatchTokens: 128);
            return new RunnerPair(checkpoint, cpu, new CudaModelRunner(plan, config, checkpoint, adjust is null ? options : adjust(options)));
        }
        catch
        {
            cpu?.Dispose();
            checkpoint.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Cuda.Dispose();
        Cpu.Dispose();
        _checkpoint.Dispose();
    }
}
