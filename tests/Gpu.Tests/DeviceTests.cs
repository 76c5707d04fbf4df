using Compiler.Runtime.Cuda;

namespace Gpu.Tests;

public sealed class DeviceTests
{
    [Fact]
    public void Device_query_reports_a_real_gpu()
    {
        var device = Gpu.Device;
        Gpu.Report($"device: {device}");
        Gpu.Report($"driver from {CudaLibraries.LoadedFrom(CudaLibrary.Driver)}");

        Assert.False(string.IsNullOrWhiteSpace(device.Name));
        Assert.True(device.ComputeCapability.Major >= 7, $"compute capability {device.ComputeCapability}");
        Assert.Equal($"sm_{device.ComputeCapability.Major}{device.ComputeCapability.Minor}", device.Architecture);
        Assert.True(device.MultiprocessorCount > 0);
        Assert.True(device.MaxSharedMemoryPerBlockOptin >= 48 * 1024);
        Assert.True(device.DriverVersion >= 12000, $"driver CUDA version {device.DriverVersion}");
        var (free, total) = device.MemoryInfo();
        Assert.InRange(free, 1, total);
        Assert.InRange(total, 1, device.TotalMemoryBytes);
    }

    [Fact]
    public void Memory_round_trips_through_sync_async_device_copies_and_memset()
    {
        _ = Gpu.Device;
        var values = Enumerable.Range(0, 1 << 20).Select(i => i * 0.5f - 7f).ToArray();
        using var stream = CudaStream.Create();
        using var a = DeviceBuffer<float>.From(values);
        using var b = DeviceBuffer<float>.Allocate(values.Length);
        using var pinned = PinnedHostBuffer<float>.Allocate(values.Length);

        b.FillBytesAsync(0xFF, stream);
        b.CopyFromAsync(a, values.Length, stream);
        b.CopyToAsync(pinned, values.Length, stream);
        stream.Synchronize();
        Assert.True(pinned.Span.SequenceEqual(values));

        pinned.Span.Fill(3f);
        a.CopyFromAsync(pinned, 1000, stream);
        a.FillBytesAsync(0, stream);
        b.CopyFromAsync(pinned, 10, stream);
        stream.Synchronize();
        Assert.All(a.ToArray(), v => Assert.Equal(0f, v));
        var back = b.ToArray();
        Assert.All(back.Take(10), v => Assert.Equal(3f, v));
        Assert.Equal(values.Skip(10), back.Skip(10));
    }

    [Fact]
    public void Copies_that_do_not_fit_are_refused_before_reaching_the_driver()
    {
        _ = Gpu.Device;
        using var small = DeviceBuffer<float>.Allocate(4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => small.CopyFrom(new float[5]));
        Assert.Contains("4-element", error.Message);
    }

    [Fact]
    public void A_failed_driver_call_throws_cuda_exception_with_the_error_name()
    {
        _ = Gpu.Device;
        var error = Assert.Throws<CudaException>(() => CudaModule.Load("garbage", "this is not a module"u8, isPtx: false));
        Gpu.Report(error.Message);
        Assert.Equal("cuModuleLoadData", error.Call);
        Assert.StartsWith("CUDA_ERROR_", error.ErrorName);
        Assert.Contains("cuModuleLoadData failed: CUDA_ERROR_", error.Message);
        Assert.Contains("'garbage'", error.Message);
    }
}
