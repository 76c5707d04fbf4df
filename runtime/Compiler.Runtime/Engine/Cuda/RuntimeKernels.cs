using Compiler.Runtime.Cuda;
using Compiler.Runtime.Kernels;

namespace Compiler.Runtime.Engine.Cuda;

/// <summary>runtime_kernels.cu (the GEMMs of few rows, greedy argmax, decode bookkeeping) compiled for a device.</summary>
internal static class RuntimeKernels
{
    /// <summary>Compiles the module with gemm_tiled's pipeline depth (<see cref="SmallGemms.TiledStages"/>), for sm_90a
    /// on compute capability 9.0, where gemm_tiled multiplies with wgmma (the suffix is dropped where NVRTC falls back to
    /// PTX, and mma.sync runs).</summary>
    public static CompiledModule Compile(KernelCompiler compiler, CudaDevice device)
    {
        var (major, minor) = device.ComputeCapability;
        return compiler.Compile("runtime_kernels", KernelSources.Load("runtime_kernels.cu"),
            new Dictionary<string, KernelConstant> { ["GT_STAGES"] = SmallGemms.TiledStages(major, minor) },
            new KernelCompileOptions { ArchitectureSuffix = (major, minor) == (9, 0) ? "a" : "" });
    }
}
