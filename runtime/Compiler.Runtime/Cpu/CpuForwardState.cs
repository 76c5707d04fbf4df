using Compiler.Runtime.Engine;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// What every step of one forward reads besides its own bindings: the batch, the RoPE cos/sin of each token's
/// position (computed once per forward instead of once per layer), the logits destination, and the attention work
/// split into items. Sized for max batch tokens at load, so a forward allocates nothing.
/// </summary>
internal sealed unsafe class CpuForwardState : IDisposable
{
    // An extend attention item covers at most this many query rows of one request.
    private const int AttentionRowsPerItem = 16;

    private readonly float[] _invFreq;
    private readonly NativeFloats? _cos, _sin;
    private int[] _attentionItems = new int[4 * 64];

    public CpuForwardState(int maxBatchTokens, float[] invFreq)
    {
        MaxBatchTokens = maxBatchTokens;
        _invFreq = invFreq;
        RopeHalf = invFreq.Length;
        if (RopeHalf > 0)
        {
            _cos = new NativeFloats((long)maxBatchTokens * RopeHalf);
            _sin = new NativeFloats((long)maxBatchTokens * RopeHalf);
        }
    }

    public int MaxBatchTokens { get; }
    public ForwardBatch Batch { get; private set; } = null!;
    public int NumTokens { get; private set; }
    public int NumLogitsRows { get; private set; }
    /// <summary>Rotary pairs per head (head_dim / 2), 0 for a model without RoPE.</summary>
    public int RopeHalf { get; }
    /// <summary>cos / sin of positions[t] * inv_freq[f] at [t * RopeHalf + f].</summary>
    public float* RopeCos => _cos!.Pointer;
    public float* RopeSin => _sin!.Pointer;
    public float* Logits { get; set; }

    /// <summary>Attention items, 4 ints each: request, first query row, rows, KV length before the first row.</summary>
    public ReadOnlySpan<int> AttentionItems => _attentionItems.AsSpan(0, 4 * AttentionItemCount);
    public int AttentionItemCount { get; private set; }

    public void Begin(ForwardBatch batch)
    {
        Batch = batch;
        NumTokens = batch.NumTokens;
        NumLogitsRows = batch.NumLogitsRows;
        ComputeRope(batch.Positions);
        SplitAttention(batch);
    }

    private void ComputeRope(ReadOnlySpan<int> positions)
    {
        if (RopeHalf == 0) return;
        float* cos = RopeCos, sin = RopeSin;
        for (var t = 0; t < positions.Length; t++)
        {
            var pos = (float)positions[t];
            var row = (long)t * RopeHalf;
            for (var f = 0; f < RopeHalf; f++)
            {
                // fp32 angle as transformers (inv_freq @ position_ids in float32), then fp32 cos/sin of it.
                var angle = pos * _invFreq[f];
                (sin[row + f], cos[row + f]) = MathF.SinCos(angle);
            }
        }
    }

    private void SplitAttention(ForwardBatch batch)
    {
        var count = 0;
        var extendLens = batch.ExtendSeqLens;
        var prefixLens = batch.ExtendPrefixLens;
        var firstRow = 0;
        for (var b = 0; b < batch.BatchSize; b++)
        {
            var len = extendLens[b];
            if (batch.SeqLens[b] != prefixLens[b] + len)
                throw new InvalidOperationException($"ForwardBatch request {b}: seq_len {batch.SeqLens[b]} != prefix {prefixLens[b]} + extend {len}; the KV length after the step must count the cached prefix and the new tokens.");
            for (var r = 0; r < len; r += AttentionRowsPerItem)
            {
                if (4 * (count + 1) > _attentionItems.Length) Array.Resize(ref _attentionItems, _attentionItems.Length * 2);
                var i = 4 * count++;
                _attentionItems[i] = b;
                _attentionItems[i + 1] = firstRow + r;
                _attentionItems[i + 2] = Math.Min(AttentionRowsPerItem, len - r);
                _attentionItems[i + 3] = prefixLens[b] + r;
            }
            firstRow += len;
        }
        if (firstRow != batch.NumTokens)
            throw new InvalidOperationException($"ForwardBatch: extend lengths sum to {firstRow} but the batch has {batch.NumTokens} tokens; each request's input tokens must be listed in ExtendSeqLens (1 for a decode request).");
        AttentionItemCount = count;
    }

    public void Dispose()
    {
        _cos?.Dispose();
        _sin?.Dispose();
    }
}
