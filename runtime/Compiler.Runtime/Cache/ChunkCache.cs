using Compiler.Runtime.Memory;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Cache;

/// <summary>
/// The --disable-radix-cache cache (SGLang's ChunkCache): nothing is shared; a request owns all its KV slots and a
/// chunked prefill simply keeps what it computed as its own prefix for the next chunk.
/// </summary>
internal sealed class ChunkCache : IPrefixCache
{
    private readonly ReqToTokenPool _reqToToken;
    private readonly TokenToKvPoolAllocator _allocator;

    public ChunkCache(ReqToTokenPool reqToTokenPool, TokenToKvPoolAllocator allocator)
    {
        _reqToToken = reqToTokenPool;
        _allocator = allocator;
    }

    public bool IsDisabled => true;
    public bool OwnsPrefix => false;
    public TreeNode Root { get; } = new(null, [], []) { LockRef = 1 };
    public int EvictableSize => 0;
    public int ProtectedSize => 0;
    public SizeInfo Sizes => default;
    public PrefixHitStats HitStats { get; } = new();

    public MatchResult MatchPrefix(ReadOnlySpan<int> key) => new(0, Root);

    public void CopyPrefixIndices(TreeNode lastNode, int prefixLen, Span<int> dst)
    {
        if (prefixLen != 0) throw new InvalidOperationException("ChunkCache.CopyPrefixIndices: the chunk cache never matches a prefix.");
    }

    public int Insert(ReadOnlySpan<int> key, ReadOnlySpan<int> value) =>
        throw new NotSupportedException("ChunkCache.Insert: the radix cache is disabled; nothing is shared between requests.");

    public void CacheFinishedReq(Req req)
    {
        if (req.ReqPoolIdx < 0) return;
        _allocator.Free(_reqToToken.ReadRow(req.ReqPoolIdx, req.KvLen));
        _reqToToken.Free(req.ReqPoolIdx);
        req.ReqPoolIdx = -1;
        req.LastNode = null;
        req.PrefixLen = 0;
        req.KvLen = 0;
    }

    public void CacheUnfinishedReq(Req req) => req.PrefixLen = req.KvLen;

    public int Evict(int numTokens) => 0;
    public void IncLockRef(TreeNode node) { }
    public void DecLockRef(TreeNode node) { }
    public void CollectOwnedSlots(List<int> slots) { }
    public void CheckIntegrity() { }

    public void Reset() => HitStats.Reset();
}
