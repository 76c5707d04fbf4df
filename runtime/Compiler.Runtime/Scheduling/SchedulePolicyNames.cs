namespace Compiler.Runtime.Scheduling;

/// <summary>Maps --schedule-policy strings (SGLang spelling) to <see cref="SchedulePolicyKind"/> and back.</summary>
internal static class SchedulePolicyNames
{
    public static IReadOnlyList<string> All { get; } = ["fcfs", "lpm", "dfs-weight", "lof", "random"];

    public static SchedulePolicyKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fcfs" => SchedulePolicyKind.Fcfs,
        "lpm" => SchedulePolicyKind.Lpm,
        "dfs-weight" => SchedulePolicyKind.DfsWeight,
        "lof" => SchedulePolicyKind.Lof,
        "random" => SchedulePolicyKind.Random,
        _ => throw new ArgumentException($"Unknown --schedule-policy '{name}'; expected one of: {string.Join(", ", All)}."),
    };

    public static string ToArg(SchedulePolicyKind kind) => kind switch
    {
        SchedulePolicyKind.Fcfs => "fcfs",
        SchedulePolicyKind.Lpm => "lpm",
        SchedulePolicyKind.DfsWeight => "dfs-weight",
        SchedulePolicyKind.Lof => "lof",
        SchedulePolicyKind.Random => "random",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}
