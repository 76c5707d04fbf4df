using Compiler.Runtime.Cache;
using Compiler.Runtime.Memory;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// Builds one prefill batch under three budgets, as SGLang's PrefillAdder: KV tokens (free + evictable, minus what
/// running requests are still expected to generate: remaining max_new_tokens x new_token_ratio), input tokens
/// (--max-prefill-tokens) and the chunk size (--chunked-prefill-size). A request that does not fit the chunk is
/// truncated and becomes the chunked request, continued in the next prefill batch.
/// </summary>
internal sealed class PrefillAdder
{
    /// <summary>Cap on the max_new_tokens a request is assumed to reserve (SGLang's CLIP_MAX_NEW_TOKENS_ESTIMATION).</summary>
    public const int ClipMaxNewTokensEstimation = 4096;

    private readonly IPrefixCache _cache;
    private readonly TokenToKvPoolAllocator _allocator;
    private double _remTotalTokenOffset;
    private int _curRemTokenOffset;

    public PrefillAdder(IPrefixCache cache, TokenToKvPoolAllocator allocator)
    {
        _cache = cache;
        _allocator = allocator;
    }

    /// <summary>Starts a new batch (one adder is reused across steps: scheduling runs every step).</summary>
    public void Reset(IReadOnlyList<Req> running, double newTokenRatio, int maxPrefillTokens, int chunkedPrefillSize, int mixedWithDecodeTokens)
    {
        CanRunList.Clear();
        NewChunkedReq = null;
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
    /// <summary>Prompt tokens served from the cache / computed, for the prefill log line.</summary>
    public int LogHitTokens { get; private set; }
    public int LogInputTokens { get; private set; }

    private int AvailableAndEvictable => _allocator.AvailableSize + _cache.EvictableSize;
    public double RemTotalTokens => AvailableAndEvictable - _remTotalTokenOffset;
    public int CurRemTokens => AvailableAndEvictable - _curRemTokenOffset;

    public AddReqResult BudgetState()
    {
        if (RemTotalTokens <= 0 || CurRemTokens <= 0) return AddReqResult.NoToken;
        if (RemInputTokens <= 0 || RemChunkTokens is <= 0) return AddReqResult.Other;
        return AddReqResult.Continue;
    }

    private void UpdatePrefillBudget(int prefixLen, int extendInputLen, int maxNewTokens)
    {
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
        bool truncated = req.ExtendInputLen > rem;
        req.ExtendInputLen = Math.Min(req.ExtendInputLen, rem);
        CanRunList.Add(req);
        UpdatePrefillBudget(0, req.ExtendInputLen, truncated ? 0 : Math.Min(req.MaxNewTokens - req.OutputLen, ClipMaxNewTokensEstimation));
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

        // Lock first: the matched prefix stops being evictable, which may shrink the budget.
        _cache.IncLockRef(lastNode);
        if (totalTokens >= RemTotalTokens)
        {
            _cache.DecLockRef(lastNode);
            return AddReqResult.NoToken;
        }
        if (RemChunkTokens == null || inputTokens <= RemChunkTokens)
        {
            CanRunList.Add(req);
            UpdatePrefillBudget(prefixLen, inputTokens, remainingNew);
        }
        else
        {
            int truncLen = RemChunkTokens.Value;
            if (truncLen <= 0)
            {
                _cache.DecLockRef(lastNode);
                return AddReqResult.Other;
            }
            req.ExtendInputLen = truncLen;
            CanRunList.Add(req);
            NewChunkedReq = req;
            UpdatePrefillBudget(prefixLen, truncLen, 0);
        }
        return BudgetState();
    }
}
