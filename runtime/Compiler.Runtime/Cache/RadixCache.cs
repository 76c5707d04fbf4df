using System.Runtime.InteropServices;
using Compiler.Runtime.Memory;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Cache;

/// <summary>
/// Radix tree over token ids whose edges carry KV slot indices (SGLang's RadixCache, page size 1). Requests that
/// share a prompt prefix share its KV slots; unreferenced leaves are evicted LRU when the pool runs short.
/// Ownership rule: a KV slot is owned by exactly one of {allocator free list, a tree node, one request's
/// private tail}. A running request's first PrefixLen positions point at tree slots locked via LastNode.
/// </summary>
internal sealed class RadixCache : IPrefixCache
{
    private readonly ReqToTokenPool? _reqToToken;
    private readonly TokenToKvPoolAllocator? _allocator;
    private readonly PriorityQueue<TreeNode, long> _evictHeap = new();
    private readonly Stack<TreeNode> _walk = new(); // reused: eviction runs on the allocation path
    private long _clock;

    /// <param name="reqToTokenPool">The request table; null only for a key-only tree (used for in-queue prefix checks).</param>
    /// <param name="allocator">The KV allocator evicted slots go back to; null only for a key-only tree.</param>
    public RadixCache(ReqToTokenPool? reqToTokenPool, TokenToKvPoolAllocator? allocator)
    {
        _reqToToken = reqToTokenPool;
        _allocator = allocator;
        Root = NewRoot();
    }

    public bool IsDisabled => false;
    public bool OwnsPrefix => true;
    public TreeNode Root { get; private set; }
    public int EvictableSize { get; private set; }
    public int ProtectedSize { get; private set; }
    public SizeInfo Sizes => new(EvictableSize, ProtectedSize);
    /// <summary>Tokens evicted so far (cache churn metric).</summary>
    public long EvictedTokens { get; private set; }
    public PrefixHitStats HitStats { get; } = new();

    private static TreeNode NewRoot() => new(null, [], []) { LockRef = 1 }; // the root is never evicted

    public void Reset()
    {
        Root = NewRoot();
        EvictableSize = 0;
        ProtectedSize = 0;
        HitStats.Reset();
    }

    public MatchResult MatchPrefix(ReadOnlySpan<int> key)
    {
        TreeNode node = Root;
        long now = ++_clock;
        node.LastAccessTime = now;
        int matched = 0;
        while (key.Length > 0 && node.Children.TryGetValue(key[0], out TreeNode? child))
        {
            child.LastAccessTime = now;
            int n = key.CommonPrefixLength(child.Key);
            if (n < child.Key.Length)
            {
                node = SplitNode(child, n);
                matched += n;
                break;
            }
            matched += n;
            node = child;
            key = key[n..];
        }
        return new MatchResult(matched, node);
    }

    public void CopyPrefixIndices(TreeNode lastNode, int prefixLen, Span<int> dst)
    {
        int pos = prefixLen;
        for (TreeNode? n = lastNode; n != null && n != Root; n = n.Parent)
        {
            pos -= n.Value.Length;
            if (pos < 0) break;
            n.Value.CopyTo(dst[pos..]);
        }
        if (pos != 0)
            throw new InvalidOperationException($"RadixCache.CopyPrefixIndices: the path to {lastNode} does not hold {prefixLen} tokens (left {pos}); the node was evicted or re-parented while unlocked.");
    }

    public int Insert(ReadOnlySpan<int> key, ReadOnlySpan<int> value)
    {
        if (key.Length != value.Length) throw new ArgumentException($"RadixCache.Insert: key has {key.Length} tokens but value has {value.Length} KV indices.");
        TreeNode node = Root;
        long now = ++_clock;
        node.LastAccessTime = now;
        int total = 0;
        while (key.Length > 0)
        {
            if (!node.Children.TryGetValue(key[0], out TreeNode? child))
            {
                var leaf = new TreeNode(node, key.ToArray(), value.ToArray()) { LastAccessTime = now };
                node.Children.Add(leaf.Key[0], leaf);
                EvictableSize += leaf.Key.Length;
                break;
            }
            child.LastAccessTime = now;
            int n = key.CommonPrefixLength(child.Key);
            total += n;
            if (n < child.Key.Length) child = SplitNode(child, n);
            node = child;
            key = key[n..];
            value = value[n..];
        }
        return total;
    }

    /// <summary>Cuts child's edge after n tokens: returns the new upper node (holding the first n), child keeps the rest.</summary>
    private static TreeNode SplitNode(TreeNode child, int n)
    {
        TreeNode parent = child.Parent!;
        var upper = new TreeNode(parent, child.Key[..n], child.Value[..n])
        {
            LockRef = child.LockRef, // every lock through child also passes through its new parent
            LastAccessTime = child.LastAccessTime,
            HitCount = child.HitCount,
        };
        child.Key = child.Key[n..];
        child.Value = child.Value[n..];
        child.Parent = upper;
        upper.Children.Add(child.Key[0], child);
        parent.Children[upper.Key[0]] = upper;
        return upper;
    }

    public void CacheFinishedReq(Req req)
    {
        var pool = RequirePool();
        if (req.ReqPoolIdx < 0) return; // never got KV, nothing to hand over
        int kvLen = req.KvLen;
        ReadOnlySpan<int> tokens = CollectionsMarshal.AsSpan(req.Tokens)[..kvLen];
        ReadOnlySpan<int> kv = pool.ReadRow(req.ReqPoolIdx, kvLen);
        int newPrefixLen = Insert(tokens, kv);
        // [PrefixLen, newPrefixLen) were computed by this request but another request cached them first: ours are duplicates.
        if (newPrefixLen > req.PrefixLen) _allocator!.Free(kv[req.PrefixLen..newPrefixLen]);
        pool.Free(req.ReqPoolIdx);
        DecLockRef(req.LastNode!);
        req.ReqPoolIdx = -1;
        req.LastNode = null;
        req.PrefixLen = 0;
        req.KvLen = 0;
    }

    public void CacheUnfinishedReq(Req req)
    {
        var pool = RequirePool();
        int fillLen = req.KvLen;
        ReadOnlySpan<int> tokens = CollectionsMarshal.AsSpan(req.Tokens)[..fillLen];
        Span<int> row = pool.Row(req.ReqPoolIdx);
        int newPrefixLen = Insert(tokens, row[..fillLen]);
        if (newPrefixLen > req.PrefixLen) _allocator!.Free(row[req.PrefixLen..newPrefixLen]);
        MatchResult m = MatchPrefix(tokens);
        if (m.PrefixLen != fillLen)
            throw new InvalidOperationException($"RadixCache.CacheUnfinishedReq: after inserting {fillLen} tokens only {m.PrefixLen} match; the tree is inconsistent.");
        // Point the request's row at the tree's slots (the duplicates just freed must not be read again).
        CopyPrefixIndices(m.LastNode, fillLen, row);
        IncLockRef(m.LastNode);
        DecLockRef(req.LastNode!);
        req.LastNode = m.LastNode;
        req.PrefixLen = fillLen;
    }

    public int Evict(int numTokens)
    {
        if (numTokens <= 0) return 0;
        if (_allocator == null) throw new InvalidOperationException("RadixCache.Evict: this is a key-only tree with no KV allocator.");
        _evictHeap.Clear();
        CollectEvictableLeaves(Root);
        int evicted = 0;
        while (evicted < numTokens && _evictHeap.TryDequeue(out TreeNode? x, out _))
        {
            if (x == Root || x.LockRef > 0 || x.Children.Count > 0) continue;
            _allocator.Free(x.Value);
            evicted += x.Value.Length;
            EvictedTokens += x.Value.Length;
            TreeNode parent = x.Parent!;
            parent.Children.Remove(x.Key[0]);
            x.Parent = null;
            EvictableSize -= x.Key.Length;
            if (parent != Root && parent.Children.Count == 0 && parent.LockRef == 0)
                _evictHeap.Enqueue(parent, parent.LastAccessTime);
        }
        return evicted;
    }

    private void CollectEvictableLeaves(TreeNode root)
    {
        // Iterative DFS: trees can be deep (one node per diverging turn of a long conversation).
        var stack = _walk;
        stack.Clear();
        stack.Push(root);
        while (stack.TryPop(out TreeNode? n))
        {
            if (n.Children.Count == 0)
            {
                if (n != Root && n.LockRef == 0) _evictHeap.Enqueue(n, n.LastAccessTime);
                continue;
            }
            foreach (TreeNode c in n.Children.Values) stack.Push(c);
        }
    }

    public void IncLockRef(TreeNode node)
    {
        for (TreeNode? n = node; n != null && n != Root; n = n.Parent)
        {
            if (n.LockRef == 0)
            {
                EvictableSize -= n.Key.Length;
                ProtectedSize += n.Key.Length;
            }
            n.LockRef++;
        }
    }

    public void DecLockRef(TreeNode node)
    {
        for (TreeNode? n = node; n != null && n != Root; n = n.Parent)
        {
            if (n.LockRef <= 0) throw new InvalidOperationException($"RadixCache.DecLockRef: {n} is not locked (unbalanced IncLockRef/DecLockRef).");
            if (n.LockRef == 1)
            {
                EvictableSize += n.Key.Length;
                ProtectedSize -= n.Key.Length;
            }
            n.LockRef--;
        }
    }

    public void CollectOwnedSlots(List<int> slots)
    {
        var stack = new Stack<TreeNode>();
        stack.Push(Root);
        while (stack.TryPop(out TreeNode? n))
        {
            slots.AddRange(n.Value);
            foreach (TreeNode c in n.Children.Values) stack.Push(c);
        }
    }

    /// <summary>
    /// Sizes add up, keys are non-empty and keyed by their first token, parents are right, lock refs are monotone
    /// (a node is locked at least as often as its children together), no KV slot appears twice or is free.
    /// </summary>
    public void CheckIntegrity()
    {
        int evictable = 0, protectedSize = 0;
        var seen = new HashSet<int>();
        var stack = new Stack<TreeNode>();
        stack.Push(Root);
        while (stack.TryPop(out TreeNode? n))
        {
            int childLocks = 0;
            foreach (var (first, c) in n.Children)
            {
                if (c.Parent != n) throw new InvalidOperationException($"RadixCache: {c} has a wrong parent pointer.");
                if (c.Key.Length == 0) throw new InvalidOperationException($"RadixCache: {c} has an empty key.");
                if (c.Key[0] != first) throw new InvalidOperationException($"RadixCache: {c} is keyed by {first} but its key starts with {c.Key[0]}.");
                if (c.Key.Length != c.Value.Length) throw new InvalidOperationException($"RadixCache: {c} has {c.Key.Length} tokens but {c.Value.Length} KV slots.");
                if (c.LockRef < 0) throw new InvalidOperationException($"RadixCache: {c} has a negative lock ref.");
                childLocks += c.LockRef;
                if (c.LockRef == 0) evictable += c.Key.Length; else protectedSize += c.Key.Length;
                foreach (int s in c.Value)
                {
                    if (s <= 0) throw new InvalidOperationException($"RadixCache: {c} holds invalid KV slot {s}.");
                    if (!seen.Add(s)) throw new InvalidOperationException($"RadixCache: KV slot {s} is held by two tree nodes.");
                    if (_allocator != null && _allocator.IsFree(s)) throw new InvalidOperationException($"RadixCache: KV slot {s} in {c} is on the allocator's free list.");
                }
                stack.Push(c);
            }
            if (n != Root && n.LockRef < childLocks)
                throw new InvalidOperationException($"RadixCache: {n} has lock ref {n.LockRef} but its children hold {childLocks}.");
        }
        if (evictable != EvictableSize || protectedSize != ProtectedSize)
            throw new InvalidOperationException($"RadixCache: counted evictable {evictable} / protected {protectedSize} but the counters say {EvictableSize} / {ProtectedSize}.");
    }

    private ReqToTokenPool RequirePool() =>
        _reqToToken ?? throw new InvalidOperationException("RadixCache: this is a key-only tree; it cannot cache requests.");
}
