using System.Numerics.Tensors;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Memory;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// Tokenizer-free greedy decoding of one sequence on a model runner, for the CLI and for checking a backend against
/// transformers: the prompt is prefilled in chunks of at most max batch tokens, then one decode step per new token,
/// with KV slots from its own <see cref="TokenToKvPoolAllocator"/> and <see cref="ReqToTokenPool"/> (as the scheduler
/// would fill a batch). Everything is freed after each call, so calls are independent. Not thread-safe.
/// </summary>
internal sealed class GreedyGenerator
{
    private readonly IModelRunner _runner;
    private readonly int _maxBatchTokens;
    private readonly ReqToTokenPool _reqToToken;
    private readonly TokenToKvPoolAllocator _allocator;
    private readonly ForwardBatch _batch;
    private readonly List<int> _slots = [];
    private float[] _logits = [];

    public GreedyGenerator(CpuModelRunner runner) : this(runner, runner.MaxTotalTokens, runner.MaxBatchTokens) { }

    /// <param name="maxTotalTokens">KV slots the runner holds (prompt + generated tokens must fit).</param>
    /// <param name="maxBatchTokens">The most tokens the runner accepts per forward.</param>
    public GreedyGenerator(IModelRunner runner, int maxTotalTokens, int maxBatchTokens)
    {
        _runner = runner;
        _maxBatchTokens = maxBatchTokens;
        _reqToToken = new ReqToTokenPool(1, maxTotalTokens);
        _allocator = new TokenToKvPoolAllocator(maxTotalTokens);
        _batch = new ForwardBatch(_reqToToken);
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/>: up to <paramref name="maxNewTokens"/> tokens, ending
    /// early on an eos id when <paramref name="stopAtEos"/> (the eos token is included, as transformers returns it).</summary>
    public int[] Generate(ReadOnlySpan<int> prompt, int maxNewTokens, bool stopAtEos = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxNewTokens);
        if (prompt.IsEmpty) throw new ArgumentException("Generation needs at least one prompt token.", nameof(prompt));
        Reserve(prompt.Length + maxNewTokens);
        var output = new List<int>(maxNewTokens);
        var req = _reqToToken.Alloc();
        try
        {
            if (maxNewTokens == 0) return [];
            Prefill(req, prompt, allLogits: false);
            var vocab = _runner.VocabSize;
            var next = TensorPrimitives.IndexOfMax(_logits.AsSpan(0, vocab));
            for (var kvLen = prompt.Length; ; kvLen++)
            {
                output.Add(next);
                if (output.Count == maxNewTokens || (stopAtEos && _runner.EosTokenIds.Contains(next))) break;
                Decode(req, next, kvLen);
                next = TensorPrimitives.IndexOfMax(_logits.AsSpan(0, vocab));
            }
            return [.. output];
        }
        finally
        {
            Release(req);
        }
    }

    /// <summary>The logits of every prompt position, [prompt.Length, vocab] row-major, from a (chunked) prefill.</summary>
    public float[] PromptLogits(ReadOnlySpan<int> prompt)
    {
        if (prompt.IsEmpty) throw new ArgumentException("Needs at least one token.", nameof(prompt));
        Reserve(prompt.Length);
        var vocab = _runner.VocabSize;
        var result = new float[prompt.Length * vocab];
        var req = _reqToToken.Alloc();
        try
        {
            for (var start = 0; start < prompt.Length; start += _maxBatchTokens)
            {
                var len = Math.Min(_maxBatchTokens, prompt.Length - start);
                Extend(req, prompt, start, len, allLogits: true);
                _logits.AsSpan(0, len * vocab).CopyTo(result.AsSpan(start * vocab));
            }
            return result;
        }
        finally
        {
            Release(req);
        }
    }

    private void Reserve(int tokens)
    {
        if (tokens > _allocator.Size)
            throw new ArgumentException($"{tokens} tokens do not fit the runner's KV cache of {_allocator.Size} tokens; raise max total tokens.");
    }

    private void Prefill(int req, ReadOnlySpan<int> prompt, bool allLogits)
    {
        for (var start = 0; start < prompt.Length; start += _maxBatchTokens)
            Extend(req, prompt, start, Math.Min(_maxBatchTokens, prompt.Length - start), allLogits);
    }

    // One extend step of prompt[start, start + len) on top of the first `start` tokens already in KV. Only the
    // last prompt token's logits are asked for unless allLogits (a prefill chunk that is not last asks for none).
    private void Extend(int req, ReadOnlySpan<int> prompt, int start, int len, bool allLogits)
    {
        var fb = _batch;
        fb.Reset(ForwardMode.Extend, len, 1);
        AllocSlots(fb.OutCacheLoc);
        var row = _reqToToken.Row(req);
        for (var j = 0; j < len; j++)
        {
            fb.InputIds[j] = prompt[start + j];
            fb.Positions[j] = start + j;
            row[start + j] = fb.OutCacheLoc[j];
        }
        fb.ReqPoolIndices[0] = req;
        fb.ExtendPrefixLens[0] = start;
        fb.ExtendSeqLens[0] = len;
        fb.SeqLens[0] = start + len;
        if (allLogits)
            for (var j = 0; j < len; j++) fb.AddLogitsRow(j);
        else if (start + len == prompt.Length)
            fb.AddLogitsRow(len - 1);
        RunForward();
    }

    private void Decode(int req, int token, int position)
    {
        var fb = _batch;
        fb.Reset(ForwardMode.Decode, 1, 1);
        AllocSlots(fb.OutCacheLoc);
        fb.InputIds[0] = token;
        fb.Positions[0] = position;
        _reqToToken.Row(req)[position] = fb.OutCacheLoc[0];
        fb.ReqPoolIndices[0] = req;
        fb.ExtendPrefixLens[0] = position;
        fb.ExtendSeqLens[0] = 1;
        fb.SeqLens[0] = position + 1;
        fb.AddLogitsRow(0);
        RunForward();
    }

    private void AllocSlots(Span<int> slots)
    {
        if (!_allocator.TryAlloc(slots)) throw new InvalidOperationException("GreedyGenerator: the KV cache is full (checked up front; a bug).");
        foreach (var s in slots) _slots.Add(s);
    }

    private void RunForward()
    {
        var need = _batch.NumLogitsRows * _runner.VocabSize;
        if (_logits.Length < need) _logits = new float[need];
        _runner.Forward(_batch, _logits.AsSpan(0, need));
    }

    private void Release(int req)
    {
        _allocator.Free(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_slots));
        _slots.Clear();
        _reqToToken.Free(req);
    }
}
