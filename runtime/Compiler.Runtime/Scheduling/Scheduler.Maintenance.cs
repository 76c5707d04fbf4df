namespace Compiler.Runtime.Scheduling;

internal sealed partial class Scheduler
{
    /// <summary>No request queued, waiting, prefilling or decoding (scheduler thread only).</summary>
    public bool IsIdle => Waiting.Count == 0 && Running.Count == 0 && ChunkedReq == null && _incoming.IsEmpty;

    /// <summary>
    /// SGLang's flush_cache: drops every cached prefix and returns its KV to the pool. Only when idle (a running
    /// request may lock cached prefixes); returns false, changing nothing, otherwise.
    /// </summary>
    public bool FlushCache()
    {
        if (!IsIdle) return false;
        Cache.Evict(int.MaxValue);
        Cache.Reset();
        if (Allocator.AvailableSize != Allocator.Size || ReqToTokenPool.AvailableSize != ReqToTokenPool.Size)
            throw new InvalidOperationException(
                $"Scheduler.FlushCache: idle, yet after evicting everything {Allocator.Size - Allocator.AvailableSize} KV slots and " +
                $"{ReqToTokenPool.Size - ReqToTokenPool.AvailableSize} request slots are still in use (a leak).");
        _batchIsFull = false;
        return true;
    }

    /// <summary>
    /// Recovery after a failed step: ends every request (queued ones included) with <paramref name="reason"/>,
    /// emitting its final event, then flushes the cache, whose newest entries may point at KV the failed forward
    /// never wrote. Returns how many requests were ended.
    /// </summary>
    public int AbortAll(FinishReason reason)
    {
        DrainIncoming();
        // Every unfinished request, including those of the failed batch that are neither waiting nor running yet.
        var victims = new List<Req>(_live.Values);
        Running.Clear();
        Waiting.Clear();
        ChunkedReq = null;
        foreach (Req r in victims) ForgetLaunchedSteps(r);
        foreach (Req r in victims) Finish(r, reason, emit: true);
        FlushCache();
        return victims.Count;
    }
}
