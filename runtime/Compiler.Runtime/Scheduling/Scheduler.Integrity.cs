using Compiler.Runtime.Cache;

namespace Compiler.Runtime.Scheduling;

internal sealed partial class Scheduler
{
    /// <summary>
    /// Cross-checks pools, cache and requests (tests call it after every step): every KV slot 1..Size has exactly
    /// one owner (free list, a tree node, or one running request's private tail); each running request's prefix
    /// in its ReqToTokenPool row equals the tree path it locks; every node's lock ref equals the number of running
    /// requests whose prefix ends at or below it; request slots in use equal running requests (and those of a launched
    /// step not processed yet).
    /// </summary>
    public void CheckIntegrity()
    {
        ReqToTokenPool.CheckIntegrity();
        Allocator.CheckIntegrity();
        Cache.CheckIntegrity();

        var holders = new List<Req>(Running);
        if (ChunkedReq != null && !holders.Contains(ChunkedReq)) holders.Add(ChunkedReq);
        // Overlap: a launched, unprocessed prefill step's requests hold KV but join Running only when it is processed.
        foreach (Req r in _live.Values)
            if (r.PendingSteps > 0 && !holders.Contains(r)) holders.Add(r);
        foreach (Req r in Waiting)
            if (r.ReqPoolIdx >= 0 || r.KvLen != 0) throw new InvalidOperationException($"Integrity: waiting {r} still holds a request slot or KV.");

        int size = Allocator.Size;
        var owners = new int[size + 1];
        for (int s = 1; s <= size; s++) if (Allocator.IsFree(s)) owners[s]++;
        var cached = new List<int>();
        Cache.CollectOwnedSlots(cached);
        foreach (int s in cached) owners[s]++;

        var directLocks = new Dictionary<TreeNode, int>();
        int slotsInUse = 0;
        foreach (Req r in holders)
        {
            if (r.ReqPoolIdx < 0 || !ReqToTokenPool.IsInUse(r.ReqPoolIdx)) throw new InvalidOperationException($"Integrity: running {r} has no allocated request slot.");
            slotsInUse++;
            ReadOnlySpan<int> row = ReqToTokenPool.ReadRow(r.ReqPoolIdx, r.KvLen);
            int privateStart = Cache.OwnsPrefix ? r.PrefixLen : 0;
            for (int p = privateStart; p < r.KvLen; p++)
            {
                int s = row[p];
                if (s <= 0 || s > size) throw new InvalidOperationException($"Integrity: {r} position {p} points at invalid KV slot {s}.");
                owners[s]++;
            }
            if (Cache.OwnsPrefix)
            {
                if (r.LastNode == null) throw new InvalidOperationException($"Integrity: running {r} has no LastNode.");
                var expected = new int[r.PrefixLen];
                Cache.CopyPrefixIndices(r.LastNode, r.PrefixLen, expected);
                if (!row[..r.PrefixLen].SequenceEqual(expected)) throw new InvalidOperationException($"Integrity: {r}'s row prefix differs from the tree path it locks.");
                directLocks[r.LastNode] = directLocks.GetValueOrDefault(r.LastNode) + 1;
            }
        }
        for (int s = 1; s <= size; s++)
            if (owners[s] != 1) throw new InvalidOperationException($"Integrity: KV slot {s} has {owners[s]} owners (free list / tree / requests); expected exactly 1 ({(owners[s] == 0 ? "leaked" : "double-owned")}).");
        if (ReqToTokenPool.Size - ReqToTokenPool.AvailableSize != slotsInUse)
            throw new InvalidOperationException($"Integrity: {ReqToTokenPool.Size - ReqToTokenPool.AvailableSize} request slots in use but {slotsInUse} requests hold one.");
        if (Cache.OwnsPrefix) CheckLockRefs(Cache.Root, directLocks);
    }

    private int CheckLockRefs(TreeNode node, Dictionary<TreeNode, int> directLocks)
    {
        int sum = directLocks.GetValueOrDefault(node);
        foreach (TreeNode c in node.Children.Values) sum += CheckLockRefs(c, directLocks);
        if (node != Cache.Root && node.LockRef != sum)
            throw new InvalidOperationException($"Integrity: {node} has lock ref {node.LockRef} but {sum} running requests lock it or a descendant.");
        return sum;
    }
}
