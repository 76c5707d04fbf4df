using Compiler.Runtime.Cuda;

namespace Gpu.Tests;

public sealed class CublasLtGemmTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1024, 4096 },
        { 7, 3072, 1024 },
        { 64, 4096, 3072 },
        { 512, 1024, 4096 },
        { 512, 4096, 4096 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Bf16_linear_matches_the_cpu_reference(int m, int n, int k) => Check(m, n, k, withBias: false);

    [Fact]
    public void Bias_epilogue_adds_the_bias_per_output_feature() => Check(7, 1024, 1024, withBias: true);

    [Fact]
    public void A_shape_is_planned_once_and_reused()
    {
        _ = Gpu.Device;
        using var gemm = new CublasLtGemm();
        using var stream = CudaStream.Create();
        using var x = DeviceBuffer<ushort>.From(Bf16.Random(8 * 256, 1));
        using var w = DeviceBuffer<ushort>.From(Bf16.Random(512 * 256, 2));
        using var y = DeviceBuffer<ushort>.Allocate(8 * 512);

        gemm.Linear(y, x, w, 8, 512, 256, stream);
        gemm.Linear(y, x, w, 8, 512, 256, stream);
        Assert.Equal(1, gemm.PlanCount);
        gemm.Linear(y, x, w, 4, 512, 256, stream);
        stream.Synchronize();
        Assert.Equal(2, gemm.PlanCount);
    }

    [Fact]
    public void A_gemm_captured_in_a_graph_replays_the_eager_result()
    {
        _ = Gpu.Device;
        const int m = 16, n = 1024, k = 1024;
        using var gemm = new CublasLtGemm();
        using var stream = CudaStream.Create();
        using var x = DeviceBuffer<ushort>.From(Bf16.Random(m * k, 3));
        using var w = DeviceBuffer<ushort>.From(Bf16.Random(n * k, 4));
        using var eager = DeviceBuffer<ushort>.Allocate(m * n);
        using var graphed = DeviceBuffer<ushort>.Allocate(m * n);

        gemm.Linear(eager, x, w, m, n, k, stream); // plans outside the capture
        using var graph = CudaGraph.Capture(stream, s => gemm.Linear(graphed, x, w, m, n, k, s));
        graph.Launch(stream);
        stream.Synchronize();

        Assert.Equal(eager.ToArray(), graphed.ToArray());
    }

    [Fact]
    public void Undersized_buffers_are_refused_with_the_shape()
    {
        _ = Gpu.Device;
        using var gemm = new CublasLtGemm();
        using var stream = CudaStream.Create();
        using var x = DeviceBuffer<ushort>.Allocate(4 * 64);
        using var w = DeviceBuffer<ushort>.Allocate(64 * 64);
        using var y = DeviceBuffer<ushort>.Allocate(10);

        var error = Assert.Throws<ArgumentException>(() => gemm.Linear(y, x, w, 4, 64, 64, stream));
        Assert.Contains("M=4 N=64 K=64", error.Message);
        Assert.Contains("Y needs 256", error.Message);
    }

    private static void Check(int m, int n, int k, bool withBias)
    {
        _ = Gpu.Device;
        var xBits = Bf16.Random(m * k, seed: m * 31 + k);
        var wBits = Bf16.Random(n * k, seed: n * 17 + k, scale: 0.5f);
        var biasBits = withBias ? Bf16.Random(n, seed: 5, scale: 4f) : null;
        using var gemm = new CublasLtGemm();
        using var stream = CudaStream.Create();
        using var x = DeviceBuffer<ushort>.From(xBits);
        using var w = DeviceBuffer<ushort>.From(wBits);
        using var bias = biasBits is null ? null : DeviceBuffer<ushort>.From(biasBits);
        using var y = DeviceBuffer<ushort>.Allocate((long)m * n);
        y.FillBytesAsync(0xFF, stream); // NaN everywhere, so an unwritten element fails

        gemm.Linear(y, x, w, m, n, k, stream, bias);
        stream.Synchronize();

        var result = y.ToArray();
        var xf = GemmReference.ToFloats(xBits);
        var wf = GemmReference.ToFloats(wBits);
        var bf = biasBits is null ? null : GemmReference.ToFloats(biasBits);
        // Every row for small M; 16 rows spread over the matrix (first and last included) for large M.
        var rows = m <= 64 ? Enumerable.Range(0, m) : Enumerable.Range(0, 16).Select(i => i * (m - 1) / 15).Distinct();
        var worst = 0.0;
        foreach (var row in rows)
        {
            var expected = GemmReference.Row(xf, wf, row, n, k, bf);
            for (var j = 0; j < n; j++)
            {
                var actual = Bf16.ToFloat(result[(long)row * n + j]);
                // bf16 output keeps 8 significant bits (relative error <= 2^-9); fp32 accumulation order differs a little.
                var tolerance = 0.01 * Math.Abs(expected[j]) + 0.05;
                var difference = Math.Abs(actual - expected[j]);
                worst = Math.Max(worst, difference / tolerance);
                Assert.True(difference <= tolerance, $"M={m} N={n} K={k}: y[{row},{j}] = {actual}, expected {expected[j]} (bias: {withBias})");
            }
        }

        var plan = gemm.PlanFor(new GemmShape(m, n, k, withBias, 256));
        Gpu.Report($"GEMM M={m} N={n} K={k} bias={withBias}: worst error {worst:P0} of tolerance; workspace {plan?.WorkspaceBytes} B, waves {plan?.Waves:F2}");
    }
}
