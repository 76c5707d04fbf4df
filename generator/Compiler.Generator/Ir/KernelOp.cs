namespace Compiler.Generator.Ir;

/// <summary>The primitive operations inside a fused kernel. Each works on one token row; the CUDA renderer turns them
/// into C and the CPU backend interprets the same list.</summary>
internal enum PrimOp
{
    /// <summary>Reads <c>Length</c> elements at column <c>Offset</c> of a row of the activation buffer holding <c>Value</c>.</summary>
    LoadRow,
    /// <summary>Reads a weight vector (a bias), the same for every row.</summary>
    LoadWeight,
    /// <summary>Reads the weight row selected by the token id (embedding lookup).</summary>
    Gather,
    Add,
    Mul,
    Silu,
    /// <summary>RMS norm of the argument over groups of <c>Group</c> elements (the whole row when Group = Length), times the weight.</summary>
    RmsNorm,
    /// <summary>Rotary embedding of each head of <c>Group</c> elements at the token's position (rotate-half layout).</summary>
    Rope,
    /// <summary>Writes the argument as a row of the buffer holding <c>Value</c>.</summary>
    StoreRow,
    /// <summary>Writes the argument into the K or V cache of the layer at the token's KV slot.</summary>
    StoreKv,
}

/// <summary>One primitive op of a fused kernel. <see cref="Result"/> is a kernel-local value number (-1 for stores).</summary>
internal sealed record KernelOp(PrimOp Op, int Result, EquatableArray<int> Args, Dim Length)
{
    /// <summary>LoadRow/StoreRow: the graph value (its buffer); the column offset and the full row length of that buffer.</summary>
    public int Value { get; init; } = -1;
    public Dim? Offset { get; init; }
    public Dim? RowLength { get; init; }
    /// <summary>LoadWeight/Gather/RmsNorm: the checkpoint tensor, <c>{i}</c> standing for the layer index plus <see cref="LayerOffset"/>.</summary>
    public string? Weight { get; init; }
    public int LayerOffset { get; init; }
    public string? Epsilon { get; init; }
    public Dim? Group { get; init; }
    /// <summary>StoreKv: "k" or "v".</summary>
    public string? Cache { get; init; }
    /// <summary>A readable name for the value (the model file's name for it).</summary>
    public string Label { get; init; } = "";
}
