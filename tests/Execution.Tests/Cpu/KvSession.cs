using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Memory;

namespace Execution.Tests.Cpu;

/// <summary>
/// Builds ForwardBatches the way the scheduler does (Scheduler.Prefill / Scheduler.Decode): a ReqToTokenPool row per
/// sequence, KV slots from a TokenToKvPoolAllocator (or given explicitly, to interleave requests), extend requests
/// first, then decode requests, and logits rows for the tokens asked for.
/// </summary>
internal sealed class KvSession
{
    private readonly CpuModelRunner _runner;
    private readonly ForwardBatch _batch;

    public KvSession(CpuModelRunner runner, int maxRequests = 8)
    {
        _runner = runner;
        Pool = new ReqToTokenPool(maxRequests, runner.MaxTotalTokens);
        Allocator = new TokenToKvPoolAllocator(runner.MaxTotalTokens);
        _batch = new ForwardBatch(Pool);
    }

    public ReqToTokenPool Pool { get; }
    public TokenToKvPoolAllocator Allocator { get; }

    public sealed class Seq
    {
        public required int ReqPoolIdx { get; init; }
        public List<int> Tokens { get; } = [];
        public int KvLen { get; set; }
    }

    /// <summary>One request's part of a step: its new tokens, whether all their logits are wanted (else only the last),
    /// and optionally the exact KV slots to use.</summary>
    public sealed record Part(Seq Seq, int[] Tokens, bool AllLogits = false, int[]? Slots = null);

    public Seq NewSeq() => new() { ReqPoolIdx = Pool.Alloc() };

    /// <summary>Runs one forward; returns each part's logits rows ([rows][vocab]).</summary>
    public float[][][] Step(ForwardMode mode, params Part[] parts)
    {
        var fb = _batch;
        var tokens = parts.Sum(p => p.Tokens.Length);
        fb.Reset(mode, tokens, parts.Length);
        fb.NumExtendReqs = mode == ForwardMode.Decode ? 0 : parts.Count(p => p.Tokens.Length > 1 || mode == ForwardMode.Extend);
        var t = 0;
        var rowsOf = new List<(int Part, int Count)>();
        for (var b = 0; b < parts.Length; b++)
        {
            var (seq, ids) = (parts[b].Seq, parts[b].Tokens);
            var slots = parts[b].Slots ?? new int[ids.Length];
            if (parts[b].Slots is null && !Allocator.TryAlloc(slots)) throw new InvalidOperationException("test KV pool exhausted");
            var row = Pool.Row(seq.ReqPoolIdx);
            var start = seq.KvLen;
            for (var j = 0; j < ids.Length; j++, t++)
            {
                fb.InputIds[t] = ids[j];
                fb.Positions[t] = start + j;
                fb.OutCacheLoc[t] = slots[j];
                row[start + j] = slots[j];
                if (parts[b].AllLogits || j == ids.Length - 1) fb.AddLogitsRow(t);
            }
            seq.Tokens.AddRange(ids);
            seq.KvLen = start + ids.Length;
            fb.ReqPoolIndices[b] = seq.ReqPoolIdx;
            fb.ExtendPrefixLens[b] = start;
            fb.ExtendSeqLens[b] = ids.Length;
            fb.SeqLens[b] = seq.KvLen;
            rowsOf.Add((b, parts[b].AllLogits ? ids.Length : 1));
        }
        var vocab = _runner.VocabSize;
        var logits = new float[fb.NumLogitsRows * vocab];
        _runner.Forward(fb, logits);
        var result = new float[parts.Length][][];
        var r = 0;
        foreach (var (part, count) in rowsOf)
        {
            result[part] = new float[count][];
            for (var i = 0; i < count; i++, r++) result[part][i] = logits.AsSpan(r * vocab, vocab).ToArray();
        }
        return result;
    }
}
