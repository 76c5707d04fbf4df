namespace Compiler.Runtime.Plan;

// The compiled form of a model, as emitted by the model compiler (generator/) into each model's C# class and read
// by the CUDA and CPU backends. Dimensions are expressions over the model's constants, e.g. "HEADS*HEAD_DIM";
// DimExpression evaluates them once the constants are read from config.json.

public enum ConstantKind { Int, Float, Bool }

public enum ElementType { Int32, BFloat16, Float32 }

/// <summary>Which token rows a launch processes: every token of the batch, or only the rows whose logits are needed.</summary>
public enum RowSet { AllTokens, OutputRows }

public enum StepKind { Kernel, Gemm, ExtendAttention, DecodeAttention }

public enum PrimOp { LoadRow, LoadWeight, Gather, Add, Mul, Silu, RmsNorm, Rope, StoreRow, StoreKv }

public enum ParamKind { InputBuffer, OutputBuffer, Weight, InputIds, Positions, InvFreq, OutCacheLoc, KCache, VCache, RowIndex }

/// <summary>A model constant: its kernel name (HIDDEN), type, and the model-file expression it is read with.</summary>
public sealed record ConstantSpec(string Name, ConstantKind Kind, string Source);

/// <summary>
/// A tensor the model reads. Per-layer names contain "{i}". A merged tensor (e.g. qkv_proj) is the concatenation
/// along dim 0 of <see cref="MergedFrom"/>; a tied tensor may be absent from the checkpoint when the config flag
/// <see cref="TiedIf"/> is true, and <see cref="TiedTo"/> is used instead. <see cref="MergedRows"/> gives each part's rows.
/// </summary>
public sealed record WeightSpec(string Name, string[] Shape, bool PerLayer, string? TiedTo, string? TiedIf, string[] MergedFrom, string[] MergedRows);

/// <summary>One primitive op of a fused kernel on one token row; <see cref="Result"/> numbers its value (-1 for stores).</summary>
public sealed record KernelOp(PrimOp Op, int Result, int[] Args, string Length)
{
    public int Value { get; init; } = -1;
    public string? Offset { get; init; }
    public string? RowLength { get; init; }
    public string? Weight { get; init; }
    public int LayerOffset { get; init; }
    public string? Epsilon { get; init; }
    public string? Group { get; init; }
    public string? Cache { get; init; }
    public string Label { get; init; } = "";
}

/// <summary>A pointer argument of a generated kernel, in launch order.</summary>
public sealed record KernelParam(ParamKind Kind, string Name)
{
    public int Value { get; init; } = -1;
    public string? Weight { get; init; }
    public int LayerOffset { get; init; }
}

/// <summary>A generated kernel: one thread block per row, <see cref="BlockSize"/> threads.</summary>
public sealed record FusedKernel(string Name, RowSet Rows, string Fuses, KernelOp[] Ops, KernelParam[] Params)
{
    public const int BlockSize = 256;

    /// <summary>A row's columns may also be split over gridDim.y blocks: the kernel is element-wise, or its reductions
    /// are per head and each block takes whole heads (the generator's KernelSpec says which).</summary>
    public bool SplitsColumns { get; init; }
}

/// <summary>
/// A generated kernel <see cref="Name"/>_p4 / _p8 (the GEMV's prefetch depth, as gemv_bf16_p4/p8) that runs kernel
/// <see cref="Kernel"/> as the prologue of the next GEMM's decode GEMV: each block computes the rows of value
/// <see cref="Input"/> it multiplies into dynamic shared memory (rows x K bf16), block 0 stores the kernel's other
/// outputs. Arguments: <see cref="Params"/> (the kernel's, without <see cref="Input"/>), then w, y, M, N, K, ksplit.
/// </summary>
public sealed record GemvPrologueKernel(string Name, string Kernel, int Input, KernelParam[] Params);

/// <summary>
/// A generated kernel with entry points <see cref="Name"/> and <see cref="Name"/>_wide (as decode_attention and
/// decode_attention_wide, and launched as they are) that runs kernel <see cref="Kernel"/> inside decode attention: each
/// CTA computes its kv head's q heads of value <see cref="Input"/> into shared memory, and the CTA whose split holds the
/// new token stores its K/V. Arguments: <see cref="Params"/> (the kernel's, without <see cref="Input"/>), then
/// decode_attention's after k_cache and v_cache (req_to_token ... prefix_partials).
/// </summary>
public sealed record AttentionPrologueKernel(string Name, string Kernel, int Input, KernelParam[] Params);

/// <summary>
/// A residual add + RMS norm kernel between two GEMMs (h = rms_norm(x + y) * weight, x the fp32 residual), which the
/// CUDA runner splits over the GEMMs' epilogues at decode where gemm_tiled runs both: the GEMM before adds its product
/// to value <see cref="Residual"/>, stores the sum as <see cref="ResidualOut"/> and the sum times <see cref="Weight"/>
/// (layer plus <see cref="LayerOffset"/>) as <see cref="Normed"/>, with each row's sum of squares; the GEMM after scales
/// each row of its product by rsqrt(mean square + <see cref="Epsilon"/>, a constant's name).
/// </summary>
public sealed record NormEpilogue(int Residual, int ResidualOut, string Weight, int LayerOffset, string Epsilon, int Normed);

/// <summary>One launch of a forward step.</summary>
public sealed record Step(StepKind Kind, string Name, RowSet Rows)
{
    /// <summary>Kernel: the generated kernel; in the layer's last step, <see cref="LastLayerKernel"/> replaces it in the last layer.</summary>
    public string? Kernel { get; init; }
    public string? LastLayerKernel { get; init; }
    /// <summary>Kernel, decode: a <see cref="GemvPrologueKernel"/> that runs this kernel inside the next GEMM's GEMV;
    /// launched instead of the pair when the GEMV serves that GEMM (not in the last layer, whose kernel differs).</summary>
    public string? GemvPrologue { get; init; }
    /// <summary>Kernel, decode: an <see cref="AttentionPrologueKernel"/> that runs this kernel inside the decode attention
    /// after it; launched instead of the pair unless the step runs cascade attention (whose shared half reads q).</summary>
    public string? AttentionPrologue { get; init; }
    /// <summary>Gemm: the value the kernel step after it stores when that kernel is only the SiLU gate of this GEMM's
    /// product (silu of its first half times its second); a GEMM kernel with the gate in its epilogue (gemm_tiled_silu, the bulk GEMV)
    /// writes it instead, and that kernel step is skipped. -1: none.</summary>
    public int SiluGate { get; init; } = -1;
    /// <summary>Kernel, decode: this residual add + RMS norm kernel split over the epilogues of the GEMMs before and after
    /// it (not in the last layer, whose kernel differs); launched as it is unless gemm_tiled runs both.</summary>
    public NormEpilogue? NormEpilogue { get; init; }
    /// <summary>Gemm and attention: the values (buffers) read and written.</summary>
    public int Input { get; init; } = -1;
    public int Output { get; init; } = -1;
    /// <summary>Gemm: output[rows, N] = input[rows, K] @ Weight[N, K]^T.</summary>
    public string? Weight { get; init; }
    public string? N { get; init; }
    public string? K { get; init; }
    public string? Heads { get; init; }
    public string? KvHeads { get; init; }
    public string? HeadDim { get; init; }
}

/// <summary>Where a value between launches lives: buffer slot, element type, elements per row.</summary>
public sealed record ValueBuffer(int Value, string Name, int Slot, ElementType Type, string Length);
