using Compiler.Runtime.Engine.Cuda;

namespace Execution.Tests.Cuda;

/// <summary>The CUDA runner refuses GPUs older than Ampere up front, naming the GPU and the way out, instead of failing
/// in NVRTC on the first bf16 mma.sync or cp.async of its kernels.</summary>
public sealed class SupportedDeviceTests
{
    [Theory]
    [InlineData(8, 0)] // A100
    [InlineData(8, 6)] // RTX 30xx, A10
    [InlineData(8, 9)] // L4, RTX 40xx
    [InlineData(9, 0)] // H100, H200
    [InlineData(10, 0)] // B200
    [InlineData(12, 0)] // RTX 50xx
    public void Ampere_and_newer_are_supported(int major, int minor) =>
        Assert.Null(CudaModelRunner.UnsupportedDeviceReason("GPU", (major, minor)));

    [Theory]
    [InlineData("Tesla T4", 7, 5)]
    [InlineData("Tesla V100-SXM2-16GB", 7, 0)]
    [InlineData("Tesla P100-PCIE-16GB", 6, 0)]
    public void Older_gpus_are_named_with_the_way_out(string name, int major, int minor)
    {
        var reason = CudaModelRunner.UnsupportedDeviceReason(name, (major, minor));
        Assert.NotNull(reason);
        Assert.StartsWith($"{name} has compute capability {major}.{minor}; the CUDA runner's kernels need 8.0 or newer", reason);
        Assert.EndsWith("Use --device cpu.", reason);
    }
}
