using Compiler.Generator.Syntax;

namespace Compiler.Generator.Ir;

/// <summary>
/// One operation of the graph. Values are per-token rows of <see cref="Length"/> elements (a batch of tokens is the
/// implicit leading dimension); weights carry their full <see cref="WeightShape"/>. Nodes are immutable: passes
/// return new graphs.
/// </summary>
internal sealed record Node(int Id, OpKind Op, EquatableArray<int> Inputs, Section Section, SourceSpan Span)
{
    /// <summary>The source name the value was bound to (for readable kernel and buffer names).</summary>
    public string Name { get; init; } = "";

    /// <summary>Elements per token row, filled in by shape inference.</summary>
    public Dim? Length { get; init; }

    public DType DType { get; init; } = DType.Float32;

    // Weight nodes
    public string? WeightName { get; init; }
    public EquatableArray<Dim> WeightShape { get; init; } = EquatableArray<Dim>.Empty;
    public string? TiedTo { get; init; }
    public string? TiedIf { get; init; }
    /// <summary>For a merged weight: the checkpoint tensors concatenated along dim 0, in order.</summary>
    public EquatableArray<string> MergedFrom { get; init; } = EquatableArray<string>.Empty;
    /// <summary>For a merged weight: the rows each part contributes.</summary>
    public EquatableArray<Dim> MergedRows { get; init; } = EquatableArray<Dim>.Empty;

    // Op attributes
    /// <summary>RmsNorm: the config constant holding epsilon.</summary>
    public string? Epsilon { get; init; }
    /// <summary>RmsNorm over groups (per-head norm), Rope and Attention: the head size.</summary>
    public Dim? Group { get; init; }
    /// <summary>Slice: the first column taken from the input row.</summary>
    public Dim? Offset { get; init; }
    /// <summary>KvStore: "k" or "v".</summary>
    public string? Cache { get; init; }
    /// <summary>LoopIn: the prologue node that gives the first layer its value, and the layer node that feeds the next layer.</summary>
    public int CarriedFrom { get; init; } = -1;
    public int CarriedBack { get; init; } = -1;
}
