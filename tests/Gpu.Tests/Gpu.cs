using Compiler.Runtime.Cuda;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Gpu.Tests;

/// <summary>
/// The one device every GPU test shares (opened on first use, primary context made current on the calling
/// thread). Without a CUDA driver or GPU each test is reported as skipped with the probe's reason.
/// </summary>
internal static class Gpu
{
    private static readonly Lazy<CudaDevice> Opened = new(() => CudaDevice.Open(0), LazyThreadSafetyMode.ExecutionAndPublication);

    public static CudaDevice Device
    {
        get
        {
            Assert.SkipUnless(CudaDevice.IsAvailable, $"No CUDA GPU here ({CudaDevice.UnavailableReason}); GPU tests run on the GPU machine.");
            var device = Opened.Value;
            device.MakeCurrent();
            return device;
        }
    }

    /// <summary>A fresh, empty kernel cache folder for one test (so cache hits and misses are the test's own).</summary>
    public static string NewCacheDirectory() =>
        Path.Combine(Path.GetTempPath(), "gpu-tests-kernels", Guid.NewGuid().ToString("N"));

    /// <summary>Writes a line to the test's output and to stdout, so figures show in the runner's log either way.</summary>
    public static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Console.WriteLine(line);
    }
}
