using Compiler.Models;
using Compiler.Runtime.Cuda;
using Compiler.Runtime.Kernels;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Gpu.Tests;

/// <summary>Every generated kernel of the shipped models compiles with NVRTC for this GPU, specialised on real configs.</summary>
public sealed class GeneratedKernelTests
{
    public static TheoryData<string> Configs => new() { "qwen3-0.6b", "llama-3.1-8b" };

    [Theory, MemberData(nameof(Configs))]
    public void Every_generated_kernel_compiles_for_the_device(string config)
    {
        var device = Gpu.Device;
        var hf = HfConfig.Load(Path.Combine(AppContext.BaseDirectory, "configs", config, "config.json"));
        var plan = ModelCatalog.All[hf.Architectures[0]];
        var constants = ModelConstants.Read(plan, hf);
        var cache = Gpu.NewCacheDirectory();
        var source = KernelSources.ResolveIncludes(plan.CudaSource);

        var cold = new KernelCompiler(device, cache, Gpu.Report).Compile(plan.Architecture, source, constants.KernelDefines());
        Assert.False(cold.FromCache);
        Assert.Equal(device.Architecture, cold.Target);
        foreach (var kernel in plan.Kernels) Assert.NotNull(cold.Module.GetKernel(kernel.Name));
        using var warm = new KernelCompiler(device, cache, Gpu.Report).Compile(plan.Architecture, source, constants.KernelDefines());
        Assert.True(warm.FromCache);
        Gpu.Report($"{config}: {plan.Kernels.Length} generated kernels for {cold.Target}: NVRTC cold {cold.CompileTime.TotalMilliseconds:F0} ms + load {cold.LoadTime.TotalMilliseconds:F1} ms; " +
            $"warm (disk cache) load {warm.LoadTime.TotalMilliseconds:F1} ms");
        cold.Dispose();
    }
}
