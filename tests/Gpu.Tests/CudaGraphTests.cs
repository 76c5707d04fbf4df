using Compiler.Runtime.Cuda;

namespace Gpu.Tests;

public sealed class CudaGraphTests
{
    [Fact]
    public void A_captured_graph_of_n_launches_replays_with_the_same_result_as_eager_launches()
    {
        var compiler = new KernelCompiler(Gpu.Device, Gpu.NewCacheDirectory());
        using var module = compiler.Compile("add_one", Kernels.AddOne);
        var kernel = module.GetKernel("add_one");
        const int n = 4096, launches = 25;
        using var stream = CudaStream.Create();
        using var eager = DeviceBuffer<float>.From(new float[n]);
        using var graphed = DeviceBuffer<float>.From(new float[n]);

        void Enqueue(DeviceBuffer<float> buffer, CudaStream s)
        {
            for (var i = 0; i < launches; i++)
            {
                var args = new KernelArgs();
                args.Add(buffer.Pointer).Add(n);
                kernel.Launch(n / 256, 256, s, ref args);
            }
        }

        using var graph = CudaGraph.Capture(stream, s => Enqueue(graphed, s));
        stream.Synchronize();
        Assert.All(graphed.ToArray(), v => Assert.Equal(0f, v)); // capture records, it does not run

        Enqueue(eager, stream);
        graph.Launch(stream);
        stream.Synchronize();
        Assert.Equal(eager.ToArray(), graphed.ToArray());
        Assert.All(graphed.ToArray(), v => Assert.Equal(launches, v));

        graph.Launch(stream);
        graph.Launch(stream);
        stream.Synchronize();
        Assert.All(graphed.ToArray(), v => Assert.Equal(3 * launches, v));
    }

    [Fact]
    public void A_failing_capture_ends_cleanly_and_the_stream_stays_usable()
    {
        var compiler = new KernelCompiler(Gpu.Device, Gpu.NewCacheDirectory());
        using var module = compiler.Compile("add_one", Kernels.AddOne);
        using var stream = CudaStream.Create();
        using var buffer = DeviceBuffer<float>.From(new float[256]);

        Assert.Throws<InvalidOperationException>(() => CudaGraph.Capture(stream, _ => throw new InvalidOperationException("boom")));

        var args = new KernelArgs();
        args.Add(buffer.Pointer).Add(256);
        module.GetKernel("add_one").Launch(1, 256, stream, ref args);
        stream.Synchronize();
        Assert.All(buffer.ToArray(), v => Assert.Equal(1f, v));
    }
}
