using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Cache;

/// <summary>
/// SGLang's BasePrefixCache: what the scheduler needs from a KV prefix cache. Implemented by <see cref="RadixCache"/>
/// and, for --disable-radix-cache, by <see cref="ChunkCache"/> (no sharing, same calls).
/// </summary>
internal interface IPrefixCache
{
    /// <summary>True for the no-sharing cache: cache-aware scheduling policies fall back to FCFS.</summary>
    bool IsDisabled { get; }
    TreeNode Root { get; }
    int EvictableSize { get; }
    int ProtectedSize { get; }
    SizeInfo Sizes { get; }

    /// <summary>Longest cached prefix of <paramref name="key"/>; splits a node so the match ends on a node boundary.</summary>
    MatchResult MatchPrefix(ReadOnlySpan<int> key);
    /// <summary>Writes the KV indices of the prefix ending at <paramref name="lastNode"/> (prefixLen tokens) into dst.</summary>
    void CopyPrefixIndices(TreeNode lastNode, int prefixLen, Span<int> dst);
    /// <summary>Inserts key -> value; returns how many leading tokens were already cached (their given values are duplicates).</summary>
    int Insert(ReadOnlySpan<int> key, ReadOnlySpan<int> value);
    /// <summary>A request finished (or was aborted/retracted): hand its computed KV to the cache, free the rest and its request slot.</summary>
    void CacheFinishedReq(Req req);
    /// <summary>A chunked prefill stopped mid-prompt: insert the computed part so the next chunk (and other requests) reuse it.</summary>
    void CacheUnfinishedReq(Req req);
    /// <summary>Frees up to numTokens cached tokens, least recently used unlocked leaves first; returns how many were freed.</summary>
    int Evict(int numTokens);
    void IncLockRef(TreeNode node);
    void DecLockRef(TreeNode node);
    /// <summary>Whether KV slots of a request's matched prefix belong to the cache (true) or to the request (false).</summary>
    bool OwnsPrefix { get; }
    /// <summary>Adds every KV slot the cache owns to <paramref name="slots"/> (integrity checks only).</summary>
    void CollectOwnedSlots(List<int> slots);
    void CheckIntegrity();
    void Reset();

    /// <summary>Prompt tokens served from cache / prompt tokens admitted, cumulative; <see cref="Reset"/> clears them.</summary>
    PrefixHitStats HitStats { get; }
}
