using Compiler.Runtime.Cuda;

namespace Gpu.Tests;

public sealed class KernelCompilerTests
{
    [Fact]
    public void Saxpy_compiled_with_constants_computes_a_x_plus_y()
    {
        var device = Gpu.Device;
        var compiler = new KernelCompiler(device, Gpu.NewCacheDirectory(), Gpu.Report);
        using var module = compiler.Compile("saxpy", Kernels.Saxpy, new Dictionary<string, KernelConstant> { ["A"] = 2.5, ["BLOCK"] = 128 });
        Assert.Equal(device.Architecture, module.Target);
        Assert.False(module.IsPtx);
        var kernel = module.GetKernel("saxpy");

        const int n = 100_003;
        var x = Enumerable.Range(0, n).Select(i => (float)(i % 97)).ToArray();
        var y = Enumerable.Range(0, n).Select(i => (float)(i % 13) - 6f).ToArray();
        using var stream = CudaStream.Create();
        using var dx = DeviceBuffer<float>.From(x);
        using var dy = DeviceBuffer<float>.From(y);
        var args = new KernelArgs();
        args.Add(dx.Pointer).Add(dy.Pointer).Add(n);
        kernel.Launch((n + 127) / 128, 128, stream, ref args);
        stream.Synchronize();

        var result = dy.ToArray();
        for (var i = 0; i < n; i++)
        {
            Assert.Equal(2.5f * x[i] + y[i], result[i]);
        }
    }

    [Fact]
    public void A_compile_error_shows_nvrtc_log_and_the_kernel_name()
    {
        var compiler = new KernelCompiler(Gpu.Device, Gpu.NewCacheDirectory(), Gpu.Report);
        const string broken = """
            extern "C" __global__ void broken_kernel(float* x) { x[0] = undefined_symbol + 1; }
            """;

        var error = Assert.Throws<CudaException>(() => compiler.Compile("broken_kernel", broken));
        Gpu.Report(error.Message);

        Assert.Equal("nvrtcCompileProgram", error.Call);
        Assert.Equal("NVRTC_ERROR_COMPILATION", error.ErrorName);
        Assert.Contains("'broken_kernel'", error.Message);
        Assert.Contains("undefined_symbol", error.Log);
        Assert.Contains("undefined_symbol", error.Message);
    }

    [Fact]
    public void An_unknown_kernel_name_suggests_extern_c()
    {
        var compiler = new KernelCompiler(Gpu.Device, Gpu.NewCacheDirectory());
        using var module = compiler.Compile("add_one", Kernels.AddOne);
        var error = Assert.Throws<CudaException>(() => module.GetKernel("addOne"));
        Assert.Contains("extern \"C\"", error.Message);
        Assert.Contains("CUDA_ERROR_NOT_FOUND", error.Message);
    }

    [Fact]
    public void The_second_compile_is_a_disk_cache_hit_that_skips_nvrtc()
    {
        var device = Gpu.Device;
        var cache = Gpu.NewCacheDirectory();
        var constants = new Dictionary<string, KernelConstant> { ["A"] = 1.0, ["BLOCK"] = 256 };

        using var cold = new KernelCompiler(device, cache).Compile("saxpy", Kernels.Saxpy, constants);
        // A new compiler, as in a new process: only the disk can make this a hit.
        using var warm = new KernelCompiler(device, cache).Compile("saxpy", Kernels.Saxpy, constants);
        using var other = new KernelCompiler(device, cache).Compile("saxpy", Kernels.Saxpy, new Dictionary<string, KernelConstant> { ["A"] = 3.0, ["BLOCK"] = 256 });

        Gpu.Report($"saxpy cold: NVRTC {cold.CompileTime.TotalMilliseconds:F1} ms + load {cold.LoadTime.TotalMilliseconds:F2} ms; " +
                   $"warm (cache hit): {warm.TotalTime.TotalMilliseconds:F2} ms; file {cold.CacheFile}");
        Assert.False(cold.FromCache);
        Assert.True(cold.CompileTime > TimeSpan.Zero);
        Assert.NotNull(cold.CacheFile);
        Assert.True(File.Exists(cold.CacheFile));
        Assert.True(warm.FromCache);
        Assert.Equal(TimeSpan.Zero, warm.CompileTime);
        Assert.Equal(cold.CacheFile, warm.CacheFile);
        Assert.False(other.FromCache);
        Assert.NotEqual(cold.CacheFile, other.CacheFile);

        // The cached binary works.
        using var stream = CudaStream.Create();
        using var x = DeviceBuffer<float>.From([1f, 2f, 3f]);
        using var y = DeviceBuffer<float>.From([10f, 20f, 30f]);
        var args = new KernelArgs();
        args.Add(x.Pointer).Add(y.Pointer).Add(3);
        warm.GetKernel("saxpy").Launch(1, 256, stream, ref args);
        stream.Synchronize();
        Assert.Equal([11f, 22f, 33f], y.ToArray());
    }

    [Fact]
    public void A_corrupt_cache_file_is_replaced_by_a_fresh_compile()
    {
        var device = Gpu.Device;
        var cache = Gpu.NewCacheDirectory();
        string path;
        using (var first = new KernelCompiler(device, cache).Compile("add_one", Kernels.AddOne))
        {
            path = first.CacheFile!;
        }

        File.WriteAllBytes(path, [1, 2, 3, 4]);
        using var second = new KernelCompiler(device, cache, Gpu.Report).Compile("add_one", Kernels.AddOne);

        Assert.False(second.FromCache);
        Assert.NotEqual(4, new FileInfo(path).Length);
    }

    [Fact]
    public void Cuda_bf16_header_compiles_and_rounds_like_the_host_reference()
    {
        var compiler = new KernelCompiler(Gpu.Device, Gpu.NewCacheDirectory(), Gpu.Report);
        Gpu.Report($"NVRTC {compiler.NvrtcVersion.Major}.{compiler.NvrtcVersion.Minor}, include folder: {compiler.IncludeDirectory ?? "(none: NVRTC built-in headers)"}");
        using var module = compiler.Compile("to_bf16", Kernels.ToBf16);

        var values = new[] { 1f, 1.00390625f, 1.01171875f, -3.14159f, 65504f, 1e-20f, 0f };
        using var x = DeviceBuffer<float>.From(values);
        using var y = DeviceBuffer<ushort>.Allocate(values.Length);
        using var stream = CudaStream.Create();
        var args = new KernelArgs();
        args.Add(x.Pointer).Add(y.Pointer).Add(values.Length);
        module.GetKernel("to_bf16").Launch(1, 32, stream, ref args);
        stream.Synchronize();

        Assert.Equal(values.Select(Bf16.FromFloat), y.ToArray());
    }

    [Fact]
    public void Dynamic_shared_memory_above_48_KiB_needs_the_opt_in_and_then_works()
    {
        var device = Gpu.Device;
        const int bytes = 100 * 1024, floats = bytes / 4, threads = 256;
        Assert.SkipUnless(device.MaxSharedMemoryPerBlockOptin >= bytes, $"{device.Name} allows only {device.MaxSharedMemoryPerBlockOptin} bytes of shared memory per block");
        var compiler = new KernelCompiler(device, Gpu.NewCacheDirectory());
        using var module = compiler.Compile("big_smem", Kernels.BigSharedMemory, new Dictionary<string, KernelConstant> { ["SMEM_FLOATS"] = floats });
        var kernel = module.GetKernel("big_smem");
        using var stream = CudaStream.Create();
        using var output = DeviceBuffer<float>.Allocate(threads);

        var refused = Assert.Throws<CudaException>(() =>
        {
            var args = new KernelArgs();
            args.Add(output.Pointer);
            kernel.Launch(1, threads, stream, ref args, bytes);
        });
        Gpu.Report(refused.Message);
        Assert.Equal("cuLaunchKernel", refused.Call);
        Assert.Contains("'big_smem'", refused.Message);

        kernel.SetMaxDynamicSharedMemory(bytes);
        var launch = new KernelArgs();
        launch.Add(output.Pointer);
        kernel.Launch(1, threads, stream, ref launch, bytes);
        stream.Synchronize();

        Assert.Equal(Enumerable.Range(0, threads).Select(t => (float)(floats - 1 - t)), output.ToArray());
        Gpu.Report($"big_smem: {kernel.Registers} registers, up to {kernel.MaxThreadsPerBlock} threads per block");
    }
}
