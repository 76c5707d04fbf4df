using System.Runtime.InteropServices;
using Compiler.Runtime.Cache;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// Orders the waiting queue before each prefill batch, as SGLang's SchedulePolicy: lpm and dfs-weight match every
/// waiting request against the radix tree; lpm falls back to fcfs when more than 128 requests wait (matching them
/// all would cost more than it saves); cache-aware policies become fcfs when the radix cache is disabled.
/// </summary>
internal sealed class SchedulePolicy
{
    /// <summary>Above this queue length LPM is too expensive and FCFS is used instead.</summary>
    public const int LpmFallbackQueueLength = 128;
    /// <summary>Only requests whose tree match is at most this long are checked against the other waiting requests.</summary>
    public const int InBatchPrefixCheckThreshold = 32;
    /// <summary>A request sharing at least this many tokens with an earlier waiting request is scheduled after it.</summary>
    public const int InBatchPrefixDeprioritizeThreshold = 32;

    private readonly IPrefixCache _cache;
    private readonly Random _random;

    public SchedulePolicy(SchedulePolicyKind kind, IPrefixCache cache, int randomSeed = 42)
    {
        _cache = cache;
        Kind = kind;
        _random = new Random(randomSeed);
        // Cache-aware policies need the tree; without it they degrade to FCFS (SGLang _validate_and_adjust_policy).
        EffectiveKind = cache.IsDisabled && IsCacheAware(kind) ? SchedulePolicyKind.Fcfs : kind;
    }

    public SchedulePolicyKind Kind { get; }
    public SchedulePolicyKind EffectiveKind { get; }

    public static bool IsCacheAware(SchedulePolicyKind kind) => kind is SchedulePolicyKind.Lpm or SchedulePolicyKind.DfsWeight;

    /// <summary>Reorders <paramref name="waiting"/> in place; returns the policy actually applied this time.</summary>
    public SchedulePolicyKind CalcPriority(List<Req> waiting)
    {
        SchedulePolicyKind active = EffectiveKind;
        if (active == SchedulePolicyKind.Lpm && waiting.Count > LpmFallbackQueueLength) active = SchedulePolicyKind.Fcfs;

        switch (active)
        {
            case SchedulePolicyKind.Fcfs:
                break;
            case SchedulePolicyKind.Lof:
                SortStable(waiting, static r => -(long)r.MaxNewTokens);
                break;
            case SchedulePolicyKind.Random:
                Span<Req> span = CollectionsMarshal.AsSpan(waiting);
                _random.Shuffle(span);
                break;
            case SchedulePolicyKind.Lpm:
                var deprioritized = ComputePrefixMatches(waiting, checkInBatch: true);
                SortStable(waiting, r => deprioritized != null && deprioritized.Contains(r) ? long.MaxValue / 2 : -(long)r.PrefixLen);
                break;
            case SchedulePolicyKind.DfsWeight:
                ComputePrefixMatches(waiting, checkInBatch: false);
                SortByDfsWeight(waiting);
                break;
        }
        return active;
    }

    /// <summary>
    /// Matches each waiting request against the tree (PrefixLen / LastNode, not locked). With checkInBatch, a request
    /// with a short tree match that shares a long prefix with an earlier waiting request is deprioritized, so the
    /// earlier one computes the shared prefix first and this one hits it in the cache afterwards.
    /// </summary>
    private HashSet<Req>? ComputePrefixMatches(List<Req> waiting, bool checkInBatch)
    {
        RadixCache? inQueue = null;
        HashSet<Req>? deprioritized = null;
        foreach (Req r in waiting)
        {
            ReadOnlySpan<int> key = CollectionsMarshal.AsSpan(r.Tokens)[..^1];
            MatchResult m = _cache.MatchPrefix(key);
            r.PrefixLen = m.PrefixLen;
            r.LastNode = m.LastNode;
            if (!checkInBatch || m.PrefixLen > InBatchPrefixCheckThreshold) continue;
            inQueue ??= new RadixCache(null, null);
            if (inQueue.MatchPrefix(key).PrefixLen >= InBatchPrefixDeprioritizeThreshold)
                (deprioritized ??= []).Add(r);
            else
                inQueue.Insert(key, key); // key-only tree: the "value" is never read
        }
        return deprioritized;
    }

    private void SortByDfsWeight(List<Req> waiting)
    {
        var reqsAt = new Dictionary<TreeNode, List<Req>>();
        foreach (Req r in waiting)
        {
            TreeNode node = r.LastNode ?? _cache.Root;
            if (!reqsAt.TryGetValue(node, out var list)) reqsAt[node] = list = [];
            list.Add(r);
        }
        var weight = new Dictionary<TreeNode, int>();
        CalcWeight(_cache.Root, reqsAt, weight);
        waiting.Clear();
        DfsPriority(_cache.Root, reqsAt, weight, waiting);
    }

    private static int CalcWeight(TreeNode node, Dictionary<TreeNode, List<Req>> reqsAt, Dictionary<TreeNode, int> weight)
    {
        int w = reqsAt.TryGetValue(node, out var here) ? here.Count : 0;
        foreach (TreeNode c in node.Children.Values) w += CalcWeight(c, reqsAt, weight);
        weight[node] = w;
        return w;
    }

    private static void DfsPriority(TreeNode node, Dictionary<TreeNode, List<Req>> reqsAt, Dictionary<TreeNode, int> weight, List<Req> output)
    {
        if (weight[node] == 0) return;
        var children = new List<TreeNode>(node.Children.Values);
        // Heaviest subtree first; stable on the children's order so equal weights keep a deterministic order.
        var order = new int[children.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        Array.Sort(order, (a, b) =>
        {
            int c = weight[children[b]].CompareTo(weight[children[a]]);
            return c != 0 ? c : a.CompareTo(b);
        });
        foreach (int i in order) DfsPriority(children[i], reqsAt, weight, output);
        if (reqsAt.TryGetValue(node, out var here)) output.AddRange(here);
    }

    private static void SortStable(List<Req> waiting, Func<Req, long> key)
    {
        // Sort positions by (key, current position): stable like Python's list.sort. Runs once per prefill
        // scheduling over the waiting queue, not per decode step.
        int n = waiting.Count;
        var items = waiting.ToArray();
        var idx = new int[n];
        var keys = new long[n];
        for (int i = 0; i < n; i++) { idx[i] = i; keys[i] = key(items[i]); }
        Array.Sort(idx, (a, b) => keys[a] != keys[b] ? keys[a].CompareTo(keys[b]) : a.CompareTo(b));
        for (int i = 0; i < n; i++) waiting[i] = items[idx[i]];
    }
}
