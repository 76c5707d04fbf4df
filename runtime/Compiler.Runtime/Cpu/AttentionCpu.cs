using System.Numerics.Tensors;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// CPU twin of the decode / extend attention kernels: the same operations and layouts in fp32.
/// <list type="bullet">
/// <item>q, o: [num_tokens][num_heads][head_dim]</item>
/// <item>k_cache, v_cache: [num_slots][num_kv_heads][head_dim] (one layer; row = one token's slot)</item>
/// <item>req_to_token: slots of request r at req_to_token[r * reqToTokenStride + pos]</item>
/// </list>
/// q head h reads kv head h / (num_heads / num_kv_heads). One instance owns a score buffer, so it is not
/// thread-safe: use one per worker.
/// </summary>
internal sealed class AttentionCpu
{
    private float[] _scores = new float[256];

    public AttentionCpu(int numHeads, int numKvHeads, int headDim, float? softmaxScale = null)
    {
        if (numHeads <= 0 || numKvHeads <= 0 || headDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numHeads),
                $"Attention heads must be positive (got num_heads={numHeads}, num_kv_heads={numKvHeads}, head_dim={headDim}).");
        if (numHeads % numKvHeads != 0)
            throw new ArgumentException(
                $"num_heads ({numHeads}) must be a multiple of num_kv_heads ({numKvHeads}) for grouped-query attention.",
                nameof(numKvHeads));
        NumHeads = numHeads;
        NumKvHeads = numKvHeads;
        HeadDim = headDim;
        SoftmaxScale = softmaxScale ?? 1f / MathF.Sqrt(headDim);
    }

    public int NumHeads { get; }
    public int NumKvHeads { get; }
    public int HeadDim { get; }
    public float SoftmaxScale { get; }

    private int GroupSize => NumHeads / NumKvHeads;

    /// <summary>
    /// Decode: q row b (one new token of request b) attends to all seqLens[b] cached tokens of its request.
    /// A request with seqLens[b] == 0 gets a zero output.
    /// </summary>
    public void Decode(
        ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache,
        ReadOnlySpan<int> reqToToken, int reqToTokenStride,
        ReadOnlySpan<int> reqPoolIndices, ReadOnlySpan<int> seqLens, Span<float> o)
    {
        var batch = reqPoolIndices.Length;
        if (seqLens.Length != batch)
            throw new ArgumentException($"seqLens has {seqLens.Length} entries but reqPoolIndices has {batch}.", nameof(seqLens));
        var rowSize = NumHeads * HeadDim;
        CheckRows(q, o, batch, rowSize, "decode");
        var numSlots = CheckCache(kCache, vCache);
        for (var b = 0; b < batch; b++)
        {
            var slots = RequestSlots(reqToToken, reqToTokenStride, reqPoolIndices[b], seqLens[b], b);
            AttendRow(q.Slice(b * rowSize, rowSize), slots, slots.Length, kCache, vCache, numSlots, o.Slice(b * rowSize, rowSize));
        }
    }

    /// <summary>
    /// Extend: request b's new tokens are q rows qoIndptr[b] .. qoIndptr[b+1]-1 at positions prefixLens[b] ..;
    /// new token i attends to positions 0 .. prefixLens[b] + i (whole prefix, causal among the new tokens).
    /// </summary>
    public void Extend(
        ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache,
        ReadOnlySpan<int> reqToToken, int reqToTokenStride,
        ReadOnlySpan<int> qoIndptr, ReadOnlySpan<int> reqPoolIndices, ReadOnlySpan<int> prefixLens, Span<float> o)
    {
        var batch = reqPoolIndices.Length;
        if (qoIndptr.Length != batch + 1)
            throw new ArgumentException($"qoIndptr must have batch + 1 = {batch + 1} entries (got {qoIndptr.Length}).", nameof(qoIndptr));
        if (prefixLens.Length != batch)
            throw new ArgumentException($"prefixLens has {prefixLens.Length} entries but reqPoolIndices has {batch}.", nameof(prefixLens));
        if (batch > 0 && qoIndptr[0] != 0)
            throw new ArgumentException($"qoIndptr[0] must be 0 (got {qoIndptr[0]}).", nameof(qoIndptr));
        var rowSize = NumHeads * HeadDim;
        var totalRows = batch == 0 ? 0 : qoIndptr[batch];
        CheckRows(q, o, totalRows, rowSize, "extend");
        var numSlots = CheckCache(kCache, vCache);
        for (var b = 0; b < batch; b++)
        {
            var begin = qoIndptr[b];
            var extendLen = qoIndptr[b + 1] - begin;
            if (extendLen < 0)
                throw new ArgumentException($"qoIndptr must be non-decreasing (request {b}: {qoIndptr[b]} > {qoIndptr[b + 1]}).", nameof(qoIndptr));
            if (prefixLens[b] < 0)
                throw new ArgumentException($"prefixLens[{b}] is negative ({prefixLens[b]}).", nameof(prefixLens));
            var slots = RequestSlots(reqToToken, reqToTokenStride, reqPoolIndices[b], prefixLens[b] + extendLen, b);
            for (var i = 0; i < extendLen; i++)
            {
                var row = begin + i;
                AttendRow(q.Slice(row * rowSize, rowSize), slots, prefixLens[b] + i + 1, kCache, vCache, numSlots,
                    o.Slice(row * rowSize, rowSize));
            }
        }
    }

    /// <summary>All heads of one query row against the first kvLen tokens of its request.</summary>
    private void AttendRow(
        ReadOnlySpan<float> qRow, ReadOnlySpan<int> slots, int kvLen,
        ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache, int numSlots, Span<float> oRow)
    {
        oRow.Clear();
        if (kvLen == 0)
            return;
        if (_scores.Length < kvLen)
            _scores = new float[Math.Max(kvLen, _scores.Length * 2)];
        var scores = _scores.AsSpan(0, kvLen);
        var d = HeadDim;
        var kvRow = NumKvHeads * d;
        for (var h = 0; h < NumHeads; h++)
        {
            var kvh = h / GroupSize;
            var qh = qRow.Slice(h * d, d);
            for (var j = 0; j < kvLen; j++)
            {
                var slot = slots[j];
                if ((uint)slot >= (uint)numSlots)
                    throw new ArgumentOutOfRangeException(nameof(slots),
                        $"req_to_token maps position {j} to slot {slot}, outside the KV cache's {numSlots} slots.");
                scores[j] = TensorPrimitives.Dot(qh, kCache.Slice(slot * kvRow + kvh * d, d)) * SoftmaxScale;
            }
            // Max-subtracted softmax (overflow-safe for any logit range); normalise once at the end.
            TensorPrimitives.Subtract(scores, TensorPrimitives.Max(scores), scores);
            TensorPrimitives.Exp(scores, scores);
            var oh = oRow.Slice(h * d, d);
            for (var j = 0; j < kvLen; j++)
                TensorPrimitives.MultiplyAdd(vCache.Slice(slots[j] * kvRow + kvh * d, d), scores[j], oh, oh);
            TensorPrimitives.Multiply(oh, 1f / TensorPrimitives.Sum(scores), oh);
        }
    }

    private static ReadOnlySpan<int> RequestSlots(ReadOnlySpan<int> reqToToken, int stride, int poolIndex, int length, int b)
    {
        if (length < 0)
            throw new ArgumentException($"Request {b} has a negative KV length ({length}).");
        if (length > stride)
            throw new ArgumentException(
                $"Request {b} needs {length} positions but req_to_token rows hold {stride} (reqToTokenStride).");
        if (poolIndex < 0 || (long)(poolIndex + 1) * stride > reqToToken.Length)
            throw new ArgumentOutOfRangeException(nameof(poolIndex),
                $"Request {b} uses req pool row {poolIndex}, outside req_to_token ({reqToToken.Length / Math.Max(1, stride)} rows of {stride}).");
        return reqToToken.Slice(poolIndex * stride, length);
    }

    private static void CheckRows(ReadOnlySpan<float> q, Span<float> o, int rows, int rowSize, string op)
    {
        if (q.Length < (long)rows * rowSize)
            throw new ArgumentException($"{op}: q holds {q.Length} floats, needs {rows} rows x {rowSize}.", nameof(q));
        if (o.Length < (long)rows * rowSize)
            throw new ArgumentException($"{op}: o holds {o.Length} floats, needs {rows} rows x {rowSize}.", nameof(o));
    }

    private int CheckCache(ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache)
    {
        var kvRow = NumKvHeads * HeadDim;
        if (kCache.Length != vCache.Length || kCache.Length % kvRow != 0)
            throw new ArgumentException(
                $"k_cache ({kCache.Length} floats) and v_cache ({vCache.Length}) must be equal multiples of num_kv_heads * head_dim = {kvRow}.");
        return kCache.Length / kvRow;
    }
}
