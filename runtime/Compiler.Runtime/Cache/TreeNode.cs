namespace Compiler.Runtime.Cache;

/// <summary>
/// A radix tree node: an edge of tokens (<see cref="Key"/>) and the KV slots holding them (<see cref="Value"/>),
/// children keyed by their first token (page size 1). LockRef counts running requests whose matched prefix ends at
/// or below this node; only nodes with LockRef == 0 can be evicted.
/// </summary>
internal sealed class TreeNode
{
    private static long s_nextId;

    public TreeNode(TreeNode? parent, int[] key, int[] value)
    {
        Parent = parent;
        Key = key;
        Value = value;
        Id = Interlocked.Increment(ref s_nextId);
    }

    public long Id { get; }
    public TreeNode? Parent { get; set; }
    public int[] Key { get; set; }
    public int[] Value { get; set; }
    public Dictionary<int, TreeNode> Children { get; } = new();
    public int LockRef { get; set; }
    /// <summary>Logical clock of the last match/insert that touched this node (LRU eviction order).</summary>
    public long LastAccessTime { get; set; }
    public int HitCount { get; set; }
    public bool IsLeaf => Children.Count == 0;

    public override string ToString() => $"TreeNode#{Id}(len={Key.Length}, lock={LockRef}, children={Children.Count})";
}
