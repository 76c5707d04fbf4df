using Compiler.Runtime.Cache;
using Compiler.Runtime.Memory;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>Each policy orders the waiting queue as SGLang's SchedulePolicy.calc_priority would.</summary>
public sealed class SchedulePolicyTests
{
    private static (RadixCache Cache, TokenToKvPoolAllocator Alloc) Cache()
    {
        var alloc = new TokenToKvPoolAllocator(4096);
        return (new RadixCache(new ReqToTokenPool(4, 512), alloc), alloc);
    }

    private static void Cached(RadixCache c, TokenToKvPoolAllocator a, int[] key)
    {
        var v = new int[key.Length];
        Assert.True(a.TryAlloc(v));
        int dup = c.Insert(key, v);
        a.Free(v[..dup]);
    }

    private static Req R(string id, int[] prompt, int maxNew = 16) =>
        new(id, prompt, new SamplingParams { MaxNewTokens = maxNew }, 1) { MaxNewTokens = maxNew };

    private static int[] Seq(int start, int len) => Enumerable.Range(start, len).ToArray();
    private static int[] Cat(params int[][] parts) => parts.SelectMany(p => p).ToArray();
    private static string[] Ids(List<Req> q) => q.Select(r => r.Rid).ToArray();

    [Fact]
    public void Fcfs_keeps_arrival_order()
    {
        var (c, a) = Cache();
        Cached(c, a, Seq(100, 50));
        var q = new List<Req> { R("a", Seq(1, 10)), R("b", Seq(100, 60)), R("c", Seq(5, 3)) };
        Assert.Equal(SchedulePolicyKind.Fcfs, new SchedulePolicy(SchedulePolicyKind.Fcfs, c).CalcPriority(q));
        Assert.Equal(["a", "b", "c"], Ids(q));
    }

    [Fact]
    public void Lpm_orders_by_cached_prefix_length_stably()
    {
        var (c, a) = Cache();
        Cached(c, a, Seq(100, 40));
        Cached(c, a, Seq(200, 10));
        var q = new List<Req>
        {
            R("none", Seq(1, 20)),
            R("short", Cat(Seq(200, 10), Seq(7, 5))),
            R("long", Cat(Seq(100, 40), Seq(7, 5))),
            R("none2", Seq(50, 20)),
            R("short2", Cat(Seq(200, 10), Seq(9, 5))),
        };
        new SchedulePolicy(SchedulePolicyKind.Lpm, c).CalcPriority(q);
        Assert.Equal(["long", "short", "short2", "none", "none2"], Ids(q));
        Assert.Equal(40, q[0].PrefixLen);
    }

    [Fact]
    public void Lpm_deprioritizes_a_request_sharing_a_long_uncached_prefix_with_an_earlier_one()
    {
        var (c, _) = Cache();
        int[] shared = Seq(300, 40); // not cached yet: the first request will compute it
        var q = new List<Req> { R("first", Cat(shared, [1])), R("twin", Cat(shared, [2])), R("other", Seq(1, 20)) };
        new SchedulePolicy(SchedulePolicyKind.Lpm, c).CalcPriority(q);
        Assert.Equal(["first", "other", "twin"], Ids(q));
    }

    [Fact]
    public void Lpm_falls_back_to_fcfs_beyond_128_waiting_requests()
    {
        var (c, a) = Cache();
        Cached(c, a, Seq(1000, 30));
        var q = Enumerable.Range(0, SchedulePolicy.LpmFallbackQueueLength + 1).Select(i => R($"r{i}", Seq(i * 3 + 1, 5))).ToList();
        q.Add(R("hit", Cat(Seq(1000, 30), [1])));
        var before = Ids(q);
        Assert.Equal(SchedulePolicyKind.Fcfs, new SchedulePolicy(SchedulePolicyKind.Lpm, c).CalcPriority(q));
        Assert.Equal(before, Ids(q));
        // At exactly 128 it still sorts.
        q.RemoveRange(0, 2);
        Assert.Equal(SchedulePolicyKind.Lpm, new SchedulePolicy(SchedulePolicyKind.Lpm, c).CalcPriority(q));
        Assert.Equal("hit", q[0].Rid);
    }

    [Fact]
    public void Cache_aware_policies_fall_back_to_fcfs_without_the_radix_cache()
    {
        var alloc = new TokenToKvPoolAllocator(64);
        var chunk = new ChunkCache(new ReqToTokenPool(2, 64), alloc);
        Assert.Equal(SchedulePolicyKind.Fcfs, new SchedulePolicy(SchedulePolicyKind.Lpm, chunk).EffectiveKind);
        Assert.Equal(SchedulePolicyKind.Fcfs, new SchedulePolicy(SchedulePolicyKind.DfsWeight, chunk).EffectiveKind);
        Assert.Equal(SchedulePolicyKind.Lof, new SchedulePolicy(SchedulePolicyKind.Lof, chunk).EffectiveKind);
    }

    [Fact]
    public void Dfs_weight_visits_heavier_subtrees_first_and_groups_requests_by_subtree()
    {
        var (c, a) = Cache();
        int[] x = Seq(100, 20), y = Seq(200, 20);
        Cached(c, a, x);
        Cached(c, a, y);
        // Subtree y has 3 waiting requests, x has 2, one request matches nothing (root).
        var q = new List<Req>
        {
            R("x1", Cat(x, [1])), R("root", Seq(1, 8)), R("y1", Cat(y, [1])), R("x2", Cat(x, [2])), R("y2", Cat(y, [2])), R("y3", Cat(y, [3])),
        };
        new SchedulePolicy(SchedulePolicyKind.DfsWeight, c).CalcPriority(q);
        Assert.Equal(["y1", "y2", "y3", "x1", "x2", "root"], Ids(q));
    }

    [Fact]
    public void Lof_puts_the_longest_max_new_tokens_first()
    {
        var (c, _) = Cache();
        var q = new List<Req> { R("s", Seq(1, 4), 8), R("l", Seq(1, 4), 512), R("m", Seq(1, 4), 64), R("l2", Seq(1, 4), 512) };
        new SchedulePolicy(SchedulePolicyKind.Lof, c).CalcPriority(q);
        Assert.Equal(["l", "l2", "m", "s"], Ids(q));
    }

    [Fact]
    public void Random_is_a_seeded_permutation()
    {
        var (c, _) = Cache();
        List<Req> Make() => Enumerable.Range(0, 20).Select(i => R($"r{i}", Seq(i + 1, 3))).ToList();
        var q1 = Make();
        var q2 = Make();
        new SchedulePolicy(SchedulePolicyKind.Random, c, randomSeed: 3).CalcPriority(q1);
        new SchedulePolicy(SchedulePolicyKind.Random, c, randomSeed: 3).CalcPriority(q2);
        Assert.Equal(Ids(q1), Ids(q2));
        Assert.NotEqual(Ids(Make()), Ids(q1));
        Assert.Equal(Ids(Make()).Order(), Ids(q1).Order());
    }

    [Fact]
    public void Policy_names_round_trip_in_sglang_spelling()
    {
        foreach (string name in SchedulePolicyNames.All) Assert.Equal(name, SchedulePolicyNames.ToArg(SchedulePolicyNames.Parse(name)));
        Assert.Equal(SchedulePolicyKind.DfsWeight, SchedulePolicyNames.Parse("DFS-Weight"));
        Assert.Contains("dfs-weight", Assert.Throws<ArgumentException>(() => SchedulePolicyNames.Parse("longest")).Message);
    }
}
