using System.Numerics;
using System.Numerics.Tensors;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// fp32 C[rows, n] = A[rows, k] @ W[n, k]^T (a linear layer: W row-major as checkpoints store it). The output is tiled
/// into blocks of up to <see cref="RowBlock"/> rows x a column block of W, run in parallel; inside a block a 2x4
/// register tile (two input rows against four weight rows, eight SIMD accumulators) reads each loaded vector
/// several times, so a decode step streams W once and a prefill reuses each cached W panel across 64 rows.
/// One instance per runner: it holds the operands of the call in flight.
/// </summary>
internal sealed unsafe class CpuGemm : ICpuParallelWork
{
    private const int RowBlock = 64;
    // Below this many multiply-adds a dispatch to the workers costs more than it saves.
    private const long ParallelThreshold = 1 << 16;

    private readonly CpuWorkerPool _pool;
    private float* _a, _w, _c;
    private int _rows, _n, _k, _colBlock, _colBlocks, _rowBlocks;

    public CpuGemm(CpuWorkerPool pool) => _pool = pool;

    public void Run(float* a, int rows, int k, float* w, int n, float* c)
    {
        if (rows <= 0 || n <= 0) return;
        _a = a; _w = w; _c = c; _rows = rows; _n = n; _k = k;
        var workers = _pool.Workers;
        if (workers == 1 || (long)rows * n * k < ParallelThreshold)
        {
            Block(0, rows, 0, n);
            return;
        }
        // Enough column blocks for every worker to get several even in decode (rows = 1); multiples of 4 keep the
        // 2x4 tile whole; at most 256 columns so a block's W panel stays in L2 for typical k.
        var target = (n + workers * 4 - 1) / (workers * 4);
        _colBlock = Math.Clamp((target + 3) & ~3, 16, 256);
        _colBlocks = (n + _colBlock - 1) / _colBlock;
        _rowBlocks = (rows + RowBlock - 1) / RowBlock;
        _pool.Run(this, _colBlocks * _rowBlocks);
    }

    public void Execute(int item, int worker)
    {
        // Consecutive items share a column block, so workers running them hit the same W panel in L3.
        var cb = item / _rowBlocks;
        var rb = item - cb * _rowBlocks;
        var r0 = rb * RowBlock;
        var c0 = cb * _colBlock;
        Block(r0, Math.Min(_rows, r0 + RowBlock), c0, Math.Min(_n, c0 + _colBlock));
    }

    private void Block(int r0, int r1, int c0, int c1)
    {
        int k = _k, n = _n;
        var r = r0;
        for (; r + 2 <= r1; r += 2)
        {
            var x0 = _a + (long)r * k;
            var x1 = x0 + k;
            var c = c0;
            for (; c + 4 <= c1; c += 4)
                Tile2x4(x0, x1, _w + (long)c * k, k, _c + (long)r * n + c, n);
            for (; c < c1; c++)
            {
                var wc = new ReadOnlySpan<float>(_w + (long)c * k, k);
                _c[(long)r * n + c] = TensorPrimitives.Dot(new ReadOnlySpan<float>(x0, k), wc);
                _c[(long)(r + 1) * n + c] = TensorPrimitives.Dot(new ReadOnlySpan<float>(x1, k), wc);
            }
        }
        if (r < r1)
        {
            var x0 = _a + (long)r * k;
            var c = c0;
            for (; c + 4 <= c1; c += 4)
                Tile1x4(x0, _w + (long)c * k, k, _c + (long)r * n + c);
            for (; c < c1; c++)
                _c[(long)r * n + c] = TensorPrimitives.Dot(new ReadOnlySpan<float>(x0, k), new ReadOnlySpan<float>(_w + (long)c * k, k));
        }
    }

    private static void Tile2x4(float* x0, float* x1, float* w, int k, float* c, int ldc)
    {
        float* w0 = w, w1 = w + k, w2 = w + 2L * k, w3 = w + 3L * k;
        Vector<float> s00 = default, s01 = default, s02 = default, s03 = default;
        Vector<float> s10 = default, s11 = default, s12 = default, s13 = default;
        var width = Vector<float>.Count;
        var i = 0;
        for (; i <= k - width; i += width)
        {
            var a0 = Vector.Load(x0 + i);
            var a1 = Vector.Load(x1 + i);
            var b = Vector.Load(w0 + i);
            s00 = Vector.FusedMultiplyAdd(a0, b, s00);
            s10 = Vector.FusedMultiplyAdd(a1, b, s10);
            b = Vector.Load(w1 + i);
            s01 = Vector.FusedMultiplyAdd(a0, b, s01);
            s11 = Vector.FusedMultiplyAdd(a1, b, s11);
            b = Vector.Load(w2 + i);
            s02 = Vector.FusedMultiplyAdd(a0, b, s02);
            s12 = Vector.FusedMultiplyAdd(a1, b, s12);
            b = Vector.Load(w3 + i);
            s03 = Vector.FusedMultiplyAdd(a0, b, s03);
            s13 = Vector.FusedMultiplyAdd(a1, b, s13);
        }
        float t00 = Vector.Sum(s00), t01 = Vector.Sum(s01), t02 = Vector.Sum(s02), t03 = Vector.Sum(s03);
        float t10 = Vector.Sum(s10), t11 = Vector.Sum(s11), t12 = Vector.Sum(s12), t13 = Vector.Sum(s13);
        for (; i < k; i++)
        {
            float a0 = x0[i], a1 = x1[i];
            t00 += a0 * w0[i]; t01 += a0 * w1[i]; t02 += a0 * w2[i]; t03 += a0 * w3[i];
            t10 += a1 * w0[i]; t11 += a1 * w1[i]; t12 += a1 * w2[i]; t13 += a1 * w3[i];
        }
        c[0] = t00; c[1] = t01; c[2] = t02; c[3] = t03;
        c[ldc] = t10; c[ldc + 1] = t11; c[ldc + 2] = t12; c[ldc + 3] = t13;
    }

    private static void Tile1x4(float* x0, float* w, int k, float* c)
    {
        float* w0 = w, w1 = w + k, w2 = w + 2L * k, w3 = w + 3L * k;
        Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
        var width = Vector<float>.Count;
        var i = 0;
        for (; i <= k - width; i += width)
        {
            var a = Vector.Load(x0 + i);
            s0 = Vector.FusedMultiplyAdd(a, Vector.Load(w0 + i), s0);
            s1 = Vector.FusedMultiplyAdd(a, Vector.Load(w1 + i), s1);
            s2 = Vector.FusedMultiplyAdd(a, Vector.Load(w2 + i), s2);
            s3 = Vector.FusedMultiplyAdd(a, Vector.Load(w3 + i), s3);
        }
        float t0 = Vector.Sum(s0), t1 = Vector.Sum(s1), t2 = Vector.Sum(s2), t3 = Vector.Sum(s3);
        for (; i < k; i++)
        {
            var a = x0[i];
            t0 += a * w0[i]; t1 += a * w1[i]; t2 += a * w2[i]; t3 += a * w3[i];
        }
        c[0] = t0; c[1] = t1; c[2] = t2; c[3] = t3;
    }
}
