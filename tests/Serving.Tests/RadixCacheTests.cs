using Compiler.Runtime.Cache;
using Compiler.Runtime.Memory;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

public sealed class RadixCacheTests
{
    private static (RadixCache Cache, TokenToKvPoolAllocator Alloc) Make(int size = 256)
    {
        var alloc = new TokenToKvPoolAllocator(size);
        return (new RadixCache(new ReqToTokenPool(4, 64), alloc), alloc);
    }

    private static int[] Slots(TokenToKvPoolAllocator a, int n)
    {
        var s = new int[n];
        Assert.True(a.TryAlloc(s));
        return s;
    }

    private static int[] Indices(RadixCache c, MatchResult m)
    {
        var dst = new int[m.PrefixLen];
        c.CopyPrefixIndices(m.LastNode, m.PrefixLen, dst);
        return dst;
    }

    [Fact]
    public void Match_returns_the_longest_cached_prefix_and_its_slots()
    {
        var (c, a) = Make();
        int[] v1 = Slots(a, 5);
        Assert.Equal(0, c.Insert([1, 2, 3, 4, 5], v1));
        var m = c.MatchPrefix([1, 2, 3, 9, 9]);
        Assert.Equal(3, m.PrefixLen);
        Assert.Equal(v1[..3], Indices(c, m));
        // The match split the edge, so the last node ends exactly at the prefix.
        Assert.Equal([1, 2, 3], m.LastNode.Key);
        Assert.Equal(0, c.MatchPrefix([7]).PrefixLen);
        Assert.Equal(5, c.EvictableSize);
        c.CheckIntegrity();
    }

    [Fact]
    public void Insert_reports_already_cached_length_and_keeps_first_values()
    {
        var (c, a) = Make();
        int[] v1 = Slots(a, 4);
        c.Insert([1, 2, 3, 4], v1);
        int[] v2 = Slots(a, 6);
        Assert.Equal(3, c.Insert([1, 2, 3, 7, 8, 9], v2));
        a.Free(v2[..3]); // duplicates: caller frees them, as CacheFinishedReq does
        var m = c.MatchPrefix([1, 2, 3, 7, 8, 9]);
        Assert.Equal(6, m.PrefixLen);
        Assert.Equal(v1[..3].Concat(v2[3..]), Indices(c, m));
        Assert.Equal(7, c.EvictableSize);
        c.CheckIntegrity();
    }

    [Fact]
    public void Lock_protects_a_path_and_sizes_move_between_evictable_and_protected()
    {
        var (c, a) = Make();
        c.Insert([1, 2, 3, 4], Slots(a, 4));
        int[] v2 = Slots(a, 4);
        Assert.Equal(2, c.Insert([1, 2, 5, 6], v2));
        a.Free(v2[..2]);
        var m = c.MatchPrefix([1, 2, 3, 4]);
        c.IncLockRef(m.LastNode);
        Assert.Equal(new SizeInfo(2, 4), c.Sizes); // [1,2] + [3,4] locked; [5,6] evictable
        c.CheckIntegrity();
        int freedBefore = a.AvailableSize;
        Assert.Equal(2, c.Evict(100));
        Assert.Equal(freedBefore + 2, a.AvailableSize);
        Assert.Equal(4, c.MatchPrefix([1, 2, 3, 4]).PrefixLen);
        Assert.Equal(2, c.MatchPrefix([1, 2, 5, 6]).PrefixLen);
        c.DecLockRef(m.LastNode);
        Assert.Equal(new SizeInfo(4, 0), c.Sizes);
        Assert.Throws<InvalidOperationException>(() => c.DecLockRef(m.LastNode));
    }

    [Fact]
    public void Evict_removes_least_recently_used_leaves_first()
    {
        var (c, a) = Make();
        c.Insert([1, 1, 1], Slots(a, 3));
        c.Insert([2, 2, 2], Slots(a, 3));
        c.Insert([3, 3, 3], Slots(a, 3));
        c.MatchPrefix([1, 1, 1]); // touch: [2,2,2] is now the oldest
        Assert.Equal(3, c.Evict(1));
        Assert.Equal(0, c.MatchPrefix([2, 2, 2]).PrefixLen);
        Assert.Equal(3, c.MatchPrefix([1, 1, 1]).PrefixLen);
        Assert.Equal(3, c.MatchPrefix([3, 3, 3]).PrefixLen);
        c.CheckIntegrity();
    }

    [Fact]
    public void Evict_cascades_to_parent_once_its_children_are_gone()
    {
        var (c, a) = Make(16);
        c.Insert([1, 2, 3], Slots(a, 3));
        int[] v = Slots(a, 5);
        c.Insert([1, 2, 3, 4, 5], v);
        a.Free(v[..3]);
        Assert.Equal(5, c.Evict(5));
        Assert.Equal(0, c.EvictableSize);
        Assert.Equal(16, a.AvailableSize);
        Assert.Empty(c.Root.Children);
        c.CheckIntegrity();
    }

    [Fact]
    public void Finished_requests_that_computed_the_same_tokens_keep_one_copy_and_free_the_duplicate()
    {
        var pool = new ReqToTokenPool(2, 32);
        var alloc = new TokenToKvPoolAllocator(64);
        var c = new RadixCache(pool, alloc);
        Req Running(string id, int[] tokens)
        {
            var r = new Req(id, tokens, new Sampling.SamplingParams(), 1);
            var m = c.MatchPrefix(tokens);
            c.IncLockRef(m.LastNode);
            r.ReqPoolIdx = pool.Alloc();
            r.LastNode = m.LastNode;
            r.PrefixLen = m.PrefixLen;
            var slots = new int[tokens.Length - m.PrefixLen];
            Assert.True(alloc.TryAlloc(slots));
            c.CopyPrefixIndices(m.LastNode, m.PrefixLen, pool.Row(r.ReqPoolIdx));
            pool.Write(r.ReqPoolIdx, m.PrefixLen, slots);
            r.KvLen = tokens.Length;
            return r;
        }
        var a = Running("a", [1, 2, 3, 4, 5]);
        var b = Running("b", [1, 2, 3, 4, 9]); // started before a was cached: computes 1..4 again
        int[] aSlots = pool.ReadRow(a.ReqPoolIdx, 5).ToArray();
        c.CacheFinishedReq(a);
        Assert.Equal(64 - 10, alloc.AvailableSize); // a's slots now belong to the tree
        c.CacheFinishedReq(b);
        // b's copies of 1..4 went back to the allocator; only its token 9 joined the tree.
        Assert.Equal(64 - 6, alloc.AvailableSize);  // tree holds 1..5 (a) + 9 (b)
        Assert.Equal(6, c.EvictableSize);
        var m = c.MatchPrefix([1, 2, 3, 4, 9]);
        var got = new int[5];
        c.CopyPrefixIndices(m.LastNode, 5, got);
        Assert.Equal(aSlots[..4], got[..4]);
        Assert.Equal(2, pool.AvailableSize);
        c.CheckIntegrity();
        alloc.CheckIntegrity();
    }

    [Fact]
    public void Chunk_cache_shares_nothing_and_frees_everything()
    {
        var pool = new ReqToTokenPool(2, 32);
        var alloc = new TokenToKvPoolAllocator(16);
        var c = new ChunkCache(pool, alloc);
        Assert.Equal(0, c.MatchPrefix([1, 2, 3]).PrefixLen);
        var r = new Req("a", [1, 2, 3], new Sampling.SamplingParams(), 1) { ReqPoolIdx = pool.Alloc(), KvLen = 3 };
        var slots = new int[3];
        alloc.TryAlloc(slots);
        pool.Write(r.ReqPoolIdx, 0, slots);
        c.CacheUnfinishedReq(r);
        Assert.Equal(3, r.PrefixLen); // its own KV becomes the prefix of the next chunk
        c.CacheFinishedReq(r);
        Assert.Equal(16, alloc.AvailableSize);
        Assert.Equal(2, pool.AvailableSize);
        Assert.Throws<NotSupportedException>(() => c.Insert([1], [1]));
    }

    /// <summary>
    /// Random insert / match / lock / unlock / evict against a per-token shadow trie of the slots each token was
    /// first cached with; integrity checked after every operation and every match compared with the shadow.
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Randomized_operations_keep_the_tree_consistent(int seed)
    {
        var rng = new Random(seed);
        const int poolSize = 400;
        var (c, a) = Make(poolSize);
        var shadow = new ShadowNode();
        var locks = new List<(TreeNode Node, int[] Key, int Len)>();

        int[] RandomKey()
        {
            int len = rng.Next(1, 24);
            var k = new int[len];
            // A small alphabet and shared stems make splits and shared prefixes common.
            int stem = rng.Next(4);
            for (int i = 0; i < len; i++) k[i] = i < 3 ? stem * 3 + i : rng.Next(4);
            return k;
        }

        for (int step = 0; step < 1500; step++)
        {
            int op = rng.Next(10);
            if (op < 4)
            {
                int[] key = RandomKey();
                if (a.AvailableSize < key.Length) c.Evict(key.Length - a.AvailableSize);
                PruneEvicted(shadow, a);
                if (a.AvailableSize < key.Length) continue;
                int[] val = Slots(a, key.Length);
                int already = c.Insert(key, val);
                a.Free(val[..already]);
                // Shadow: tokens up to `already` keep their old slots, the rest take the new ones.
                var n = shadow;
                for (int i = 0; i < key.Length; i++)
                {
                    if (!n.Children.TryGetValue(key[i], out var child))
                    {
                        Assert.True(i >= already, $"shadow has no node at {i} but the tree said {already} were cached");
                        n.Children[key[i]] = child = new ShadowNode { Slot = val[i] };
                    }
                    else Assert.True(i < already, $"token {i} was cached already but Insert said only {already}");
                    n = child;
                }
            }
            else if (op < 7)
            {
                int[] key = RandomKey();
                var m = c.MatchPrefix(key);
                int[] got = Indices(c, m);
                var n = shadow;
                int expectLen = 0;
                while (expectLen < key.Length && n.Children.TryGetValue(key[expectLen], out var ch)) { n = ch; expectLen++; }
                Assert.Equal(expectLen, m.PrefixLen);
                n = shadow;
                for (int i = 0; i < got.Length; i++) { n = n.Children[key[i]]; Assert.Equal(n.Slot, got[i]); }
                if (m.PrefixLen > 0 && rng.Next(2) == 0)
                {
                    c.IncLockRef(m.LastNode);
                    locks.Add((m.LastNode, key, m.PrefixLen));
                }
            }
            else if (op < 9 && locks.Count > 0)
            {
                int i = rng.Next(locks.Count);
                c.DecLockRef(locks[i].Node);
                locks.RemoveAt(i);
            }
            else
            {
                int want = rng.Next(1, 60);
                int before = a.AvailableSize;
                int evicted = c.Evict(want);
                Assert.Equal(before + evicted, a.AvailableSize);
                PruneEvicted(shadow, a);
            }

            c.CheckIntegrity();
            a.CheckIntegrity();
            // Locked prefixes survive any eviction.
            foreach (var (_, key, len) in locks) Assert.True(c.MatchPrefix(key).PrefixLen >= len);
            // Every slot is either free or in the tree (this test holds no other slots).
            Assert.Equal(poolSize, a.AvailableSize + c.EvictableSize + c.ProtectedSize);
        }
        foreach (var l in locks) c.DecLockRef(l.Node);
        Assert.Equal(0, c.ProtectedSize);
        c.Evict(int.MaxValue);
        Assert.Equal(poolSize, a.AvailableSize);
        c.CheckIntegrity();
    }

    private sealed class ShadowNode
    {
        public int Slot;
        public Dictionary<int, ShadowNode> Children { get; } = new();
    }

    private static void PruneEvicted(ShadowNode n, TokenToKvPoolAllocator a)
    {
        foreach (var (tok, ch) in n.Children.ToArray())
        {
            if (a.IsFree(ch.Slot)) { n.Children.Remove(tok); continue; }
            PruneEvicted(ch, a);
        }
    }
}
