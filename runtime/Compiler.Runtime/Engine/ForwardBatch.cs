using Compiler.Runtime.Memory;

namespace Compiler.Runtime.Engine;

/// <summary>
/// The batch handed to the model (SGLang's ForwardBatch). Flattened token arrays (one entry per input token of the
/// step) and per-request arrays (one entry per request, extend requests first in Mixed mode). Buffers are reused
/// step after step; only the leading NumTokens / BatchSize / NumLogitsRows entries are meaningful.
/// </summary>
internal sealed class ForwardBatch
{
    private int[] _inputIds = new int[256], _positions = new int[256], _outCacheLoc = new int[256];
    private int[] _reqPoolIndices = new int[64], _seqLens = new int[64], _prefixLens = new int[64], _extendLens = new int[64];
    private int[] _logitsTokenIndices = new int[64];

    public ForwardBatch(ReqToTokenPool reqToTokenPool) => ReqToTokenPool = reqToTokenPool;

    public ForwardMode Mode { get; internal set; }
    public int NumTokens { get; private set; }
    public int BatchSize { get; private set; }
    public int NumLogitsRows { get; private set; }
    /// <summary>
    /// Rows [0, NumSampleRows) sample a token (one per sampling request, in ScheduleBatch.SampleReqs order); the rows
    /// after them only score prompt tokens (input log-probabilities): a sampler samples the first NumSampleRows rows only.
    /// </summary>
    public int NumSampleRows { get; private set; }
    /// <summary>Requests [0, NumExtendReqs) extend; the rest (Mixed mode) decode one token each.</summary>
    public int NumExtendReqs { get; internal set; }
    /// <summary>The request-to-token table the attention reads KV slot lists from.</summary>
    public ReqToTokenPool ReqToTokenPool { get; }

    public Span<int> InputIds => _inputIds.AsSpan(0, NumTokens);
    public Span<int> Positions => _positions.AsSpan(0, NumTokens);
    /// <summary>KV slot each input token's K/V is written to.</summary>
    public Span<int> OutCacheLoc => _outCacheLoc.AsSpan(0, NumTokens);
    public Span<int> ReqPoolIndices => _reqPoolIndices.AsSpan(0, BatchSize);
    /// <summary>Tokens with KV after this step (prefix + extend).</summary>
    public Span<int> SeqLens => _seqLens.AsSpan(0, BatchSize);
    /// <summary>Tokens already in KV before this step.</summary>
    public Span<int> ExtendPrefixLens => _prefixLens.AsSpan(0, BatchSize);
    /// <summary>Input tokens this step (1 for decode requests).</summary>
    public Span<int> ExtendSeqLens => _extendLens.AsSpan(0, BatchSize);
    /// <summary>For each logits row: the index into InputIds of the token whose logits are needed.</summary>
    public Span<int> LogitsTokenIndices => _logitsTokenIndices.AsSpan(0, NumLogitsRows);

    /// <summary>Sizes the batch, growing buffers only when a step is larger than any before (no per-step allocation).</summary>
    internal void Reset(ForwardMode mode, int numTokens, int batchSize)
    {
        Mode = mode;
        Grow(ref _inputIds, numTokens);
        Grow(ref _positions, numTokens);
        Grow(ref _outCacheLoc, numTokens);
        Grow(ref _reqPoolIndices, batchSize);
        Grow(ref _seqLens, batchSize);
        Grow(ref _prefixLens, batchSize);
        Grow(ref _extendLens, batchSize);
        // Logits rows: one per request normally, up to one per token when every prompt position is scored
        // (the scheduler never asks for two rows of one token, so rows <= max(requests, tokens)).
        var rows = Math.Max(batchSize, numTokens);
        Grow(ref _logitsTokenIndices, rows);
        NumTokens = numTokens;
        BatchSize = batchSize;
        NumLogitsRows = 0;
        NumSampleRows = 0;
        NumExtendReqs = 0;
    }

    /// <summary>A sampling row; all of them come before any scoring row. How the row samples is the request's
    /// SamplingParams (ScheduleBatch.SampleReqs, same order).</summary>
    internal void AddLogitsRow(int tokenIndex)
    {
        if (NumSampleRows != NumLogitsRows)
            throw new InvalidOperationException("ForwardBatch: sampling rows must all precede the prompt-scoring rows.");
        NumSampleRows++;
        _logitsTokenIndices[NumLogitsRows++] = tokenIndex;
    }

    /// <summary>A row whose logits only score the next prompt token (prompt logprobs); nothing is sampled from it.</summary>
    internal void AddScoringRow(int tokenIndex) => _logitsTokenIndices[NumLogitsRows++] = tokenIndex;

    private static void Grow<T>(ref T[] a, int n)
    {
        if (a.Length < n) Array.Resize(ref a, Math.Max(n, a.Length * 2));
    }
}
