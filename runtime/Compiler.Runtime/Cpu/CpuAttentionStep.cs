namespace Compiler.Runtime.Cpu;

/// <summary>
/// Extend or decode attention of one layer over its K/V cache with <see cref="AttentionCpu"/>, split into items of
/// up to 16 query rows of one request (see <see cref="CpuForwardState.AttentionItems"/>) across the workers. A
/// row range of a request is an extend of its own: rows r0.. attend causally with prefix length prefix + (r0 - first).
/// </summary>
internal sealed unsafe class CpuAttentionStep : ICpuStep, ICpuParallelWork
{
    private readonly bool _decode;
    private readonly float* _q, _o;
    private readonly int _rowSize;
    private readonly NativeFloats _kCache, _vCache;
    private readonly AttentionCpu[] _attention;
    private readonly int[][] _indices;
    private readonly CpuWorkerPool _pool;
    private CpuForwardState _state = null!;

    public CpuAttentionStep(bool decode, float* q, float* o, int rowSize, NativeFloats kCache, NativeFloats vCache, AttentionCpu[] attention, int[][] workerIndices, CpuWorkerPool pool)
    {
        _decode = decode;
        _q = q;
        _o = o;
        _rowSize = rowSize;
        _kCache = kCache;
        _vCache = vCache;
        _attention = attention;
        _indices = workerIndices;
        _pool = pool;
    }

    public void Run(CpuForwardState state)
    {
        _state = state;
        _pool.Run(this, state.AttentionItemCount);
    }

    public void Execute(int item, int worker)
    {
        var items = _state.AttentionItems.Slice(4 * item, 4);
        int b = items[0], row = items[1], rows = items[2], prefix = items[3];
        var batch = _state.Batch;
        var pool = batch.ReqToTokenPool;
        var k = new ReadOnlySpan<float>(_kCache.Pointer, (int)_kCache.Length);
        var v = new ReadOnlySpan<float>(_vCache.Pointer, (int)_vCache.Length);
        var q = new ReadOnlySpan<float>(_q + (long)row * _rowSize, rows * _rowSize);
        var o = new Span<float>(_o + (long)row * _rowSize, rows * _rowSize);
        var attention = _attention[worker];
        if (_decode)
        {
            attention.Decode(q, k, v, pool.Table, pool.MaxContextLen, batch.ReqPoolIndices.Slice(b, 1), batch.SeqLens.Slice(b, 1), o);
            return;
        }
        // Per-worker [qo_indptr 0, qo_indptr 1, prefix_len] so a forward allocates nothing.
        var ints = _indices[worker];
        ints[0] = 0;
        ints[1] = rows;
        ints[2] = prefix;
        attention.Extend(q, k, v, pool.Table, pool.MaxContextLen, ints.AsSpan(0, 2), batch.ReqPoolIndices.Slice(b, 1), ints.AsSpan(2, 1), o);
    }
}
