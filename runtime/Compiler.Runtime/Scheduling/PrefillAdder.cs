using Compiler.Runtime.Cache;
using Compiler.Runtime.Memory;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// Builds one prefill batch under three budgets, as SGLang's PrefillAdder: KV tokens (free + evictable, minus what
/// running requests are still expected to generate: remaining max_new_tokens x new_token_ratio), input tokens
/// (--max-prefill-tokens) and the chunk size (--chunked-prefill-size). A request that does not fit the chunk is
/// truncated and becomes the chunked request, continued in the next prefill batch. A fourth budget, logits rows,
/// cuts prompt-logprob requests the same way when the runner's logits buffer is bounded.
/// </summary>
internal sealed class PrefillAdder
{
    /// <summary>Cap on the max_new_tokens a request is assumed to reserve (SGLang's CLIP_MAX_NEW_TOKENS_ESTIMATION).</summary>
    public const int ClipMaxNewTokensEstimation = 4096;

    private readonly IPrefixCache _cache;
    private readonly TokenToKvPoolAllocator _allocator;
    private double _remTotalTokenOffset;
    private int _curRemTokenOffset;
    private bool _rowsCut;

    public PrefillAdder(IPrefixCache cache, TokenToKvPoolAllocator allocator)
    {
        _cache = cache;
        _allocator = allocator;
    }

    /// <summary>Starts a new batch (one adder is reused across steps: scheduling runs every step).</summary>
    /// <param name="maxLogitsRows">Logits rows one forward may return; 0 = unlimited.</param>
    public void Reset(IReadOnlyList<Req> running, double newTokenRatio, int maxPrefillTokens, int chunkedPrefillSize, int mixedWithDecodeTokens, int maxLogitsRows = 0)
    {
        CanRunList.Clear();
        NewChunkedReq = null;
        _rowsCut = false;
        // Mixed decode requests each sample from one row.
        RemLogitsRows = maxLogitsRows > 0 ? maxLogitsRows - mixedWithDecodeTokens : null;
        LogHitTokens = 0;
        LogInputTokens = 0;
        RemInputTokens = maxPrefillTokens - mixedWithDecodeTokens;
        RemChunkTokens = chunkedPrefillSize > 0 ? chunkedPrefillSize - mixedWithDecodeTokens : null;
        _remTotalTokenOffset = mixedWithDecodeTokens;
        _curRemTokenOffset = mixedWithDecodeTokens;
        for (int i = 0; i < running.Count; i++)
        {
            Req r = running[i];
            _remTotalTokenOffset += Math.Min(r.MaxNewTokens - r.OutputLen, ClipMaxNewTokensEstimation) * newTokenRatio;
        }
    }

    public List<Req> CanRunList { get; } = [];
    public Req? NewChunkedReq { get; private set; }
    public int RemInputTokens { get; private set; }
    public int? RemChunkTokens { get; private set; }
    /// <summary>Logits rows left in this batch (sampling rows + prompt-scoring rows); null = unlimited.</summary>
    public int? RemLogitsRows { get; private set; }
    /// <summary>Prompt tokens served from the cache / computed, for the prefill log line.</summary>
    public int LogHitTokens { get; private set; }
    public int LogInputTokens { get; private set; }

    private int AvailableAndEvictable => _allocator.AvailableSize + _cache.EvictableSize;
    public double RemTotalTokens => AvailableAndEvictable - _remTotalTokenOffset;
    public int CurRemTokens => AvailableAndEvictable - _curRemTokenOffset;

    public AddReqResult BudgetState()
    {
        if (RemTotalTokens <= 0 || CurRemTokens <= 0) return AddReqResult.NoToken;
        if (RemInputTokens <= 0 || RemChunkTokens is <= 0 || RemLogitsRows is <= 0 || _rowsCut) return AddReqResult.Other;
        return AddReqResult.Continue;
    }

    private void UpdatePrefillBudget(int prefixLen, int extendInputLen, int maxNewTokens, int logitsRows)
    {
        if (RemLogitsRows != null) RemLogitsRows -= logitsRows;
        _remTotalTokenOffset += extendInputLen + maxNewTokens;
        _curRemTokenOffset += extendInputLen;
        RemInputTokens -= extendInputLen;
        if (RemChunkTokens != null) RemChunkTokens -= extendInputLen;
        LogHitTokens += prefixLen;
        LogInputTokens += extendInputLen;
    }

    /// <summary>Continues the chunked request: its next chunk, truncated again if it still does not fit.</summary>
    public Req? AddChunkedReq(Req req)
    {
        int rem = (int)Math.Min(RemChunkTokens ?? int.MaxValue, Math.Floor(RemTotalTokens));
        if (rem <= 0) return req; // no room this round; it stays the chunked request
        int ext = Math.Min(req.ExtendInputLen, rem);
        if (RemLogitsRows is { } rows)
        {
            int fit = req.MaxExtendForRows(req.PrefixLen, ext, rows);
            // It stays the chunked request: nobody else may be cut (become the chunked request) in this batch.
            if (fit < ext) _rowsCut = true;
            if (fit == 0) return req;
            ext = fit;
        }
        bool truncated = req.ExtendInputLen > ext;
        req.ExtendInputLen = ext;
        CanRunList.Add(req);
        UpdatePrefillBudget(0, ext, truncated ? 0 : Math.Min(req.MaxNewTokens - req.OutputLen, ClipMaxNewTokensEstimation), req.LogitsRowsFor(req.PrefixLen, ext));
        return truncated ? req : null;
    }

    /// <summary>
    /// Offers a waiting request whose PrefixLen / LastNode / ExtendInputLen were just set by MatchPrefix. On success
    /// its LastNode is locked (the caller owns that lock from now on).
    /// </summary>
    public AddReqResult AddOneReq(Req req)
    {
        int remainingNew = Math.Min(req.MaxNewTokens - req.OutputLen, ClipMaxNewTokensEstimation);
        int totalTokens = req.ExtendInputLen + remainingNew;
        int inputTokens = req.ExtendInputLen;
        int prefixLen = req.PrefixLen;
        TreeNode lastNode = req.LastNode ?? _cache.Root;

        if (totalTokens >= RemTotalTokens) return AddReqResult.NoToken;
        if (inputTokens >= RemInputTokens && CanRunList.Count != 0) return AddReqResult.Other;
        if (_rowsCut || RemLogitsRows is <= 0) return AddReqResult.Other;

        // Lock first: the matched prefix stops being evictable, which may shrink the budget.
        _cache.IncLockRef(lastNode);
        if (totalTokens >= RemTotalTokens)
        {
            _cache.DecLockRef(lastNode);
            return AddReqResult.NoToken;
        }
        int extend = RemChunkTokens is { } chunk ? Math.Min(inputTokens, chunk) : inputTokens;
        if (RemLogitsRows is { } rows)
        {
            // Prompt-logprob rows beyond the row budget: cut the prompt there, as chunked prefill cuts at the chunk size.
            int fit = req.MaxExtendForRows(prefixLen, extend, rows);
            if (fit < extend) _rowsCut = true;
            extend = fit;
        }
        if (extend <= 0)
        {
            _cache.DecLockRef(lastNode);
            return AddReqResult.Other;
        }
        req.ExtendInputLen = extend;
        CanRunList.Add(req);
        if (extend < inputTokens)
        {
            NewChunkedReq = req;
            UpdatePrefillBudget(prefixLen, extend, 0, req.LogitsRowsFor(prefixLen, extend));
        }
        else UpdatePrefillBudget(prefixLen, extend, remainingNew, req.LogitsRowsFor(prefixLen, extend));
        return BudgetState();
    }
}
