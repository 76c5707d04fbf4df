using Compiler.Runtime.Engine;
using Compiler.Runtime.Memory;

namespace Compiler.Host;

/// <summary>
/// A fixed set of requests run without the scheduler, as sglang.bench_one_batch does: request b owns request slot b
/// and a contiguous range of KV slots, prefilled in one extend step and then decoded one token per step.
/// </summary>
internal sealed class FixedBatch
{
    private readonly int[][] _prompts;
    private readonly int _maxLength;
    private readonly int[] _lengths;
    public ReqToTokenPool Table { get; }
    public ForwardBatch Batch { get; }

    public FixedBatch(int[][] prompts, int maxNewTokens)
    {
        _prompts = prompts;
        _maxLength = prompts.Max(p => p.Length) + maxNewTokens;
        Table = new ReqToTokenPool(prompts.Length, _maxLength);
        for (var b = 0; b < prompts.Length; b++)
        {
            Table.Alloc();
            var slots = Enumerable.Range(1 + b * _maxLength, _maxLength).ToArray(); // slot 0 is the padding slot
            Table.Write(b, 0, slots);
        }
        _lengths = prompts.Select(p => p.Length).ToArray();
        Batch = new ForwardBatch(Table);
    }

    /// <summary>KV slots the batch needs in the pool.</summary>
    public int KvSlots => _prompts.Length * _maxLength + 1;

    /// <summary>One extend step over every prompt; logits for each prompt's last token, or for every position.</summary>
    public void Prefill(bool everyPosition = false)
    {
        var tokens = _prompts.Sum(p => p.Length);
        Batch.Reset(ForwardMode.Extend, tokens, _prompts.Length);
        var t = 0;
        for (var b = 0; b < _prompts.Length; b++)
        {
            var prompt = _prompts[b];
            for (var i = 0; i < prompt.Length; i++, t++)
            {
                Batch.InputIds[t] = prompt[i];
                Batch.Positions[t] = i;
                Batch.OutCacheLoc[t] = Table.ReadRow(b, prompt.Length)[i];
                if (everyPosition) Batch.AddLogitsRow(t);
            }
            Batch.ReqPoolIndices[b] = b;
            Batch.SeqLens[b] = prompt.Length;
            Batch.ExtendPrefixLens[b] = 0;
            Batch.ExtendSeqLens[b] = prompt.Length;
            if (!everyPosition) Batch.AddLogitsRow(t - 1);
        }
        Batch.NumExtendReqs = _prompts.Length;
    }

    /// <summary>One decode step feeding each request's last token.</summary>
    public void Decode(ReadOnlySpan<int> lastTokens)
    {
        Batch.Reset(ForwardMode.Decode, _prompts.Length, _prompts.Length);
        for (var b = 0; b < _prompts.Length; b++)
        {
            var position = _lengths[b]++;
            Batch.InputIds[b] = lastTokens[b];
            Batch.Positions[b] = position;
            Batch.OutCacheLoc[b] = Table.ReadRow(b, position + 1)[position];
            Batch.ReqPoolIndices[b] = b;
            Batch.SeqLens[b] = position + 1;
            Batch.ExtendPrefixLens[b] = position;
            Batch.ExtendSeqLens[b] = 1;
            Batch.AddLogitsRow(b);
        }
    }
}
