using Compiler.Runtime.Cpu;

namespace Execution.Tests.Cpu;

public sealed unsafe class CpuGemmTests
{
    [Theory]
    // rows x n x k: single row (decode), odd rows (the 1-row tail of the 2x4 tile), n not a multiple of 4, k below
    // and not a multiple of the SIMD width, and sizes large enough to split into many parallel blocks.
    [InlineData(1, 1, 1, 1)]
    [InlineData(1, 7, 3, 2)]
    [InlineData(3, 5, 17, 2)]
    [InlineData(2, 64, 64, 1)]
    [InlineData(65, 301, 72, 3)]
    [InlineData(130, 517, 100, 4)]
    [InlineData(1, 1030, 257, 4)]
    [InlineData(200, 9, 1024, 2)]
    public void Matches_a_double_precision_matmul(int rows, int n, int k, int threads)
    {
        var rng = new Random(rows * 7919 + n * 31 + k);
        var a = Enumerable.Range(0, rows * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var w = Enumerable.Range(0, n * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var c = new float[rows * n + 1];
        c[^1] = 12345f; // guard: nothing past rows x n is written

        using var pool = new CpuWorkerPool(threads);
        fixed (float* pa = a, pw = w, pc = c)
            new CpuGemm(pool).Run(pa, rows, k, pw, n, pc);

        for (var r = 0; r < rows; r++)
            for (var j = 0; j < n; j++)
            {
                var expected = 0.0;
                for (var i = 0; i < k; i++) expected += (double)a[r * k + i] * w[j * k + i];
                Assert.True(Math.Abs(c[r * n + j] - expected) <= 1e-5 * Math.Sqrt(k) + 1e-6, $"C[{r},{j}] = {c[r * n + j]}, expected {expected}");
            }
        Assert.Equal(12345f, c[^1]);
    }

    [Fact]
    public void Zero_rows_write_nothing()
    {
        var c = new float[] { 7f };
        using var pool = new CpuWorkerPool(2);
        fixed (float* pc = c)
            new CpuGemm(pool).Run(null, 0, 4, null, 4, pc);
        Assert.Equal(7f, c[0]);
    }

    private sealed class Work(int failAt) : ICpuParallelWork
    {
        public int[] Seen = new int[1000];

        public void Execute(int item, int worker)
        {
            if (item == failAt) throw new InvalidOperationException($"item {item} failed");
            Interlocked.Increment(ref Seen[item]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Pool_runs_every_item_once_and_is_reusable(int threads)
    {
        using var pool = new CpuWorkerPool(threads);
        for (var round = 1; round <= 50; round++)
        {
            var work = new Work(failAt: -1);
            pool.Run(work, round * 7);
            Assert.All(work.Seen.Take(round * 7), s => Assert.Equal(1, s));
            Assert.All(work.Seen.Skip(round * 7), s => Assert.Equal(0, s));
        }
    }

    [Fact]
    public void Pool_rethrows_an_item_failure_and_keeps_working()
    {
        using var pool = new CpuWorkerPool(3);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(new Work(failAt: 37), 100));
        Assert.Equal("item 37 failed", e.Message);
        var work = new Work(failAt: -1);
        pool.Run(work, 100);
        Assert.Equal(100, work.Seen.Sum());
    }
}
