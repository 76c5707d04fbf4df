using Compiler.Runtime.Engine;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>
/// A model whose next-token logits are a hash of the request's whole token sequence -- read back from its own
/// "KV cache" (token id + position per slot) through req_to_token, exactly the way attention reads K/V. If the
/// scheduler or the prefix cache hands it a wrong slot, a stale slot, or another request's prefix, the hash (and so
/// the output) changes or a check here throws.
/// </summary>
internal sealed class FakeModelRunner : IModelRunner
{
    private readonly int[] _kvToken;
    private readonly int[] _kvPos;
    private readonly bool[] _written;
    private readonly int _maxBatchTokens;

    public FakeModelRunner(int poolSize, int vocabSize = 50, IReadOnlyList<int>? eos = null, int maxBatchTokens = int.MaxValue)
    {
        _maxBatchTokens = maxBatchTokens;
        VocabSize = vocabSize;
        EosTokenIds = eos ?? [0];
        _kvToken = new int[poolSize + 1];
        _kvPos = new int[poolSize + 1];
        _written = new bool[poolSize + 1];
    }

    public int VocabSize { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public List<BatchRecord> Batches { get; } = [];
    public int ForwardCalls { get; private set; }
    /// <summary>Off for allocation measurements: recording copies the batch.</summary>
    public bool Record { get; set; } = true;

    public sealed record BatchRecord(ForwardMode Mode, int NumTokens, int BatchSize, int NumLogitsRows, int NumExtendReqs, int[] ExtendLens, int[] PrefixLens);

    public void Forward(ForwardBatch b, Span<float> logits)
    {
        ForwardCalls++;
        if (Record) Batches.Add(new BatchRecord(b.Mode, b.NumTokens, b.BatchSize, b.NumLogitsRows, b.NumExtendReqs, b.ExtendSeqLens.ToArray(), b.ExtendPrefixLens.ToArray()));
        if (b.NumTokens > _maxBatchTokens) throw new InvalidOperationException($"batch of {b.NumTokens} tokens exceeds MaxBatchTokens {_maxBatchTokens}");
        if (logits.Length != b.NumLogitsRows * VocabSize) throw new InvalidOperationException("logits buffer has the wrong size");
        var table = b.ReqToTokenPool;

        // 1) "Write K/V": every input token goes to its out_cache_loc slot, which must be the slot its row names.
        int t = 0;
        for (int i = 0; i < b.BatchSize; i++)
        {
            int prefix = b.ExtendPrefixLens[i], ext = b.ExtendSeqLens[i];
            if (b.SeqLens[i] != prefix + ext) throw new InvalidOperationException($"seq_len {b.SeqLens[i]} != prefix {prefix} + extend {ext}");
            var row = table.ReadRow(b.ReqPoolIndices[i], prefix + ext);
            for (int j = 0; j < ext; j++, t++)
            {
                int slot = b.OutCacheLoc[t];
                if (slot <= 0 || slot >= _kvToken.Length) throw new InvalidOperationException($"out_cache_loc {slot} is not a usable slot");
                if (b.Positions[t] != prefix + j) throw new InvalidOperationException($"position {b.Positions[t]} != {prefix + j}");
                if (row[prefix + j] != slot) throw new InvalidOperationException($"req_to_token[{b.ReqPoolIndices[i]}, {prefix + j}] = {row[prefix + j]} but the token is written to slot {slot}");
                _kvToken[slot] = b.InputIds[t];
                _kvPos[slot] = prefix + j;
                _written[slot] = true;
            }
        }
        if (t != b.NumTokens) throw new InvalidOperationException($"extend lens sum to {t}, batch has {b.NumTokens} tokens");

        // 2) "Attend": for each logits row, read the whole sequence back through req_to_token.
        for (int r = 0; r < b.NumLogitsRows; r++)
        {
            int ti = b.LogitsTokenIndices[r];
            int req = 0, start = 0;
            while (start + b.ExtendSeqLens[req] <= ti) start += b.ExtendSeqLens[req++];
            int len = b.Positions[ti] + 1;
            var row = table.ReadRow(b.ReqPoolIndices[req], len);
            ulong h = HashSeed;
            for (int p = 0; p < len; p++)
            {
                int slot = row[p];
                if (slot <= 0 || !_written[slot]) throw new InvalidOperationException($"position {p} reads KV slot {slot} that was never written");
                if (_kvPos[slot] != p) throw new InvalidOperationException($"position {p} reads KV slot {slot} holding position {_kvPos[slot]} (stale or foreign KV)");
                h = Step(h, _kvToken[slot]);
            }
            FillLogits(h, logits.Slice(r * VocabSize, VocabSize));
        }
    }

    public const ulong HashSeed = 1469598103934665603UL;
    public static ulong Step(ulong h, int token) => (h ^ (uint)token) * 1099511628211UL;

    public static void FillLogits(ulong h, Span<float> dst)
    {
        for (int v = 0; v < dst.Length; v++)
        {
            ulong z = h + (ulong)v * 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            dst[v] = (float)((z % 10_000) / 10_000.0 * 8 - 4);
        }
    }

    /// <summary>Logits for a sequence computed directly (no KV): the reference the engine must reproduce.</summary>
    public void LogitsFor(IReadOnlyList<int> tokens, Span<float> dst)
    {
        ulong h = HashSeed;
        foreach (int tok in tokens) h = Step(h, tok);
        FillLogits(h, dst);
    }
}
