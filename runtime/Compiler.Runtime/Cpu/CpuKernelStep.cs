using System.Numerics.Tensors;
using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// A fused kernel of the plan run on the CPU: its ops in order on every row (all tokens, or the logits rows, where
/// loads read token row src = LogitsTokenIndices[row] and stores write row `row`), the same arithmetic as the
/// generated CUDA C in fp32. Rows are split across the worker pool.
/// </summary>
internal sealed unsafe class CpuKernelStep : ICpuStep, ICpuParallelWork
{
    private readonly string _name;
    private readonly CpuOp[] _ops;
    private readonly bool _outputRows;
    private readonly CpuWorkerPool _pool;
    private readonly NativeFloats[] _scratch;
    private CpuForwardState _state = null!;
    private int _rows, _rowsPerItem;

    public CpuKernelStep(string name, RowSet rows, CpuOp[] ops, CpuWorkerPool pool, NativeFloats[] scratch)
    {
        _name = name;
        _outputRows = rows == RowSet.OutputRows;
        _ops = ops;
        _pool = pool;
        _scratch = scratch;
    }

    public void Run(CpuForwardState state)
    {
        _state = state;
        _rows = _outputRows ? state.NumLogitsRows : state.NumTokens;
        if (_rows == 0) return;
        // About four items per worker balances uneven rows without paying a dispatch per row.
        _rowsPerItem = Math.Max(1, (_rows + 4 * _pool.Workers - 1) / (4 * _pool.Workers));
        _pool.Run(this, (_rows + _rowsPerItem - 1) / _rowsPerItem);
    }

    public void Execute(int item, int worker)
    {
        var scratch = _scratch[worker].Pointer;
        var end = Math.Min(_rows, (item + 1) * _rowsPerItem);
        for (var row = item * _rowsPerItem; row < end; row++)
            RunRow(row, _outputRows ? _state.Batch.LogitsTokenIndices[row] : row, scratch);
    }

    private void RunRow(int row, int src, float* s)
    {
        var ops = _ops;
        for (var i = 0; i < ops.Length; i++)
        {
            ref readonly var op = ref ops[i];
            var n = op.Length;
            switch (op.Op)
            {
                case PrimOp.LoadRow:
                    Copy(op.Data + (long)src * op.Stride + op.Offset, s + op.Out, n);
                    break;
                case PrimOp.LoadWeight:
                    Copy(op.Data, s + op.Out, n);
                    break;
                case PrimOp.Gather:
                    var token = _state.Batch.InputIds[src];
                    if ((uint)token >= (uint)op.Rows)
                        throw new InvalidOperationException($"{_name}: input token id {token} (batch row {src}) is outside the embedding's {op.Rows} rows; the tokenizer and the model disagree on the vocabulary.");
                    Copy(op.Data + (long)token * n, s + op.Out, n);
                    break;
                case PrimOp.Add:
                    TensorPrimitives.Add(Span(s + op.A, n), Span(s + op.B, n), Span(s + op.Out, n));
                    break;
                case PrimOp.Mul:
                    TensorPrimitives.Multiply(Span(s + op.A, n), Span(s + op.B, n), Span(s + op.Out, n));
                    break;
                case PrimOp.Silu:
                    Silu(s + op.A, s + op.Out, n);
                    break;
                case PrimOp.RmsNorm:
                    RmsNorm(s + op.A, s + op.Out, n, op.Group, op.Epsilon, op.Data);
                    break;
                case PrimOp.Rope:
                    Rope(s + op.A, s + op.Out, n, op.Group, _state.RopeCos + (long)src * _state.RopeHalf, _state.RopeSin + (long)src * _state.RopeHalf);
                    break;
                case PrimOp.StoreRow:
                    Copy(s + op.A, op.Data + (long)row * op.Stride, n);
                    break;
                case PrimOp.StoreKv:
                    var slot = _state.Batch.OutCacheLoc[src];
                    if ((uint)slot >= (uint)op.Rows)
                        throw new InvalidOperationException($"{_name}: out_cache_loc[{src}] = {slot} is outside the KV cache's {op.Rows} slots (max total tokens + 1).");
                    Copy(s + op.A, op.Data + (long)slot * op.Stride, n);
                    break;
                default:
                    throw new NotSupportedException($"{_name}: primitive op {op.Op} has no CPU implementation.");
            }
        }
    }

    private static Span<float> Span(float* p, int n) => new(p, n);

    private static void Copy(float* from, float* to, int n) => new ReadOnlySpan<float>(from, n).CopyTo(new Span<float>(to, n));

    private static void Silu(float* x, float* y, int n)
    {
        for (var i = 0; i < n; i++) y[i] = x[i] / (1f + MathF.Exp(-x[i]));
    }

    // Per group of `group` elements: x / sqrt(mean(x^2) + eps) * w[j % group], as transformers' RMSNorm in fp32.
    private static void RmsNorm(float* x, float* y, int n, int group, float eps, float* w)
    {
        var weight = new ReadOnlySpan<float>(w, group);
        for (var g = 0; g < n; g += group)
        {
            var xs = new ReadOnlySpan<float>(x + g, group);
            var ys = new Span<float>(y + g, group);
            var rstd = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xs) / group + eps);
            TensorPrimitives.Multiply(xs, rstd, ys);
            TensorPrimitives.Multiply(ys, weight, ys);
        }
    }

    // Rotate-half RoPE per head of d: out[j] = x[j] cos - x[j + d/2] sin, out[j + d/2] = x[j + d/2] cos + x[j] sin.
    private static void Rope(float* x, float* y, int n, int d, float* cos, float* sin)
    {
        var half = d / 2;
        for (var h = 0; h < n; h += d)
        {
            float* xh = x + h, yh = y + h;
            for (var f = 0; f < half; f++)
            {
                float a = xh[f], b = xh[f + half], c = cos[f], s = sin[f];
                yh[f] = a * c - b * s;
                yh[f + half] = b * c + a * s;
            }
        }
    }
}
