using System.Diagnostics;
using Compiler.Runtime.Cuda;

namespace Gpu.Tests;

/// <summary>Prints launch and GEMM costs on this GPU (figures are printed, not asserted; only sanity is checked).</summary>
public sealed class MicroBenchmarkTests
{
    [Fact]
    public void Eager_launch_versus_graph_replay_cost_per_kernel()
    {
        var compiler = new KernelCompiler(Gpu.Device, Gpu.NewCacheDirectory());
        using var module = compiler.Compile("empty_kernel", Kernels.Empty);
        var kernel = module.GetKernel("empty_kernel");
        using var stream = CudaStream.Create();
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();
        const int launches = 2000, rounds = 5;

        void EnqueueAll(CudaStream s)
        {
            for (var i = 0; i < launches; i++)
            {
                var args = new KernelArgs();
                args.Add(i);
                kernel.Launch(1, 32, s, ref args);
            }
        }

        EnqueueAll(stream); // warm up
        stream.Synchronize();
        var eagerHost = new List<double>();
        var eagerGpu = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            var clock = Stopwatch.StartNew();
            start.Record(stream);
            EnqueueAll(stream);
            end.Record(stream);
            var host = clock.Elapsed.TotalMicroseconds;
            end.Synchronize();
            eagerHost.Add(host / launches);
            eagerGpu.Add(CudaEvent.ElapsedMilliseconds(start, end) * 1000 / launches);
        }

        using var graph = CudaGraph.Capture(stream, EnqueueAll);
        graph.Upload(stream);
        graph.Launch(stream);
        stream.Synchronize();
        var graphHost = new List<double>();
        var graphGpu = new List<double>();
        for (var r = 0; r < rounds; r++)
        {
            var clock = Stopwatch.StartNew();
            start.Record(stream);
            graph.Launch(stream);
            end.Record(stream);
            var host = clock.Elapsed.TotalMicroseconds;
            end.Synchronize();
            graphHost.Add(host);
            graphGpu.Add(CudaEvent.ElapsedMilliseconds(start, end) * 1000 / launches);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        EnqueueAll(stream);
        var perLaunchAllocation = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)launches;
        stream.Synchronize();

        Gpu.Report($"eager launch: {Median(eagerHost):F2} us host-side per kernel, {Median(eagerGpu):F2} us GPU time per kernel (median of {rounds} x {launches})");
        Gpu.Report($"graph replay: {Median(graphGpu):F2} us GPU time per kernel, {Median(graphHost):F1} us host-side per graph launch of {launches} kernels");
        Gpu.Report($"managed allocation per eager launch: {perLaunchAllocation:F2} bytes");
        // A per-launch allocation would be >= 24 bytes each; a one-off (e.g. a lazily built cache) averages far below 1.
        Assert.True(perLaunchAllocation < 1, $"{perLaunchAllocation:F2} bytes allocated per launch");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(512)]
    public void Gemm_timings_at_n_k_4096(int m)
    {
        _ = Gpu.Device;
        const int n = 4096, k = 4096, iterations = 200;
        using var gemm = new CublasLtGemm();
        using var stream = CudaStream.Create();
        using var x = DeviceBuffer<ushort>.From(Bf16.Random(m * k, 1));
        using var w = DeviceBuffer<ushort>.From(Bf16.Random(n * k, 2));
        using var y = DeviceBuffer<ushort>.Allocate((long)m * n);
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();

        for (var i = 0; i < 20; i++)
        {
            gemm.Linear(y, x, w, m, n, k, stream);
        }

        var samples = new List<double>();
        for (var round = 0; round < 5; round++)
        {
            start.Record(stream);
            for (var i = 0; i < iterations; i++)
            {
                gemm.Linear(y, x, w, m, n, k, stream);
            }

            end.Record(stream);
            end.Synchronize();
            samples.Add(CudaEvent.ElapsedMilliseconds(start, end) * 1000 / iterations);
        }

        var microseconds = Median(samples);
        var tflops = 2.0 * m * n * k / (microseconds * 1e-6) / 1e12;
        var gigabytes = 2.0 * ((double)m * k + (double)n * k + (double)m * n) / (microseconds * 1e-6) / 1e9;
        var plan = gemm.PlanFor(new GemmShape(m, n, k, false, 256));
        Gpu.Report($"cuBLASLt bf16 GEMM M={m} N={n} K={k}: {microseconds:F2} us, {tflops:F1} TFLOP/s, {gigabytes:F0} GB/s (median of 5 x {iterations}; cuBLASLt {gemm.Version}, workspace {plan?.WorkspaceBytes} B)");
        Assert.True(microseconds > 0);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }
}
