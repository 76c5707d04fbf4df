namespace Compiler.Runtime.Scheduling;

/// <summary>--schedule-policy values (SGLang names: lpm, fcfs, dfs-weight, lof, random).</summary>
internal enum SchedulePolicyKind
{
    /// <summary>First come, first served.</summary>
    Fcfs,
    /// <summary>Longest prefix match first (cache-aware).</summary>
    Lpm,
    /// <summary>Depth-first over the radix tree, heaviest subtrees first (cache-aware).</summary>
    DfsWeight,
    /// <summary>Longest output (max_new_tokens) first.</summary>
    Lof,
    Random,
}
