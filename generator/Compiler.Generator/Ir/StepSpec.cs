namespace Compiler.Generator.Ir;

internal enum StepKind { Kernel, Gemm, Attention }

/// <summary>
/// One launch of a forward step. Kernel: a generated kernel (for the layer's last step, <see cref="LastLayerKernel"/>
/// replaces it in the last layer). Gemm: output = input @ weight^T. Attention: over the KV cache of the layer.
/// </summary>
internal sealed record StepSpec(StepKind Kind, string Name, RowSet Rows)
{
    public string? Kernel { get; init; }
    public string? LastLayerKernel { get; init; }
    /// <summary>Kernel: the GemvPrologueSpec that runs this kernel inside the next GEMM's decode GEMV (not in the last layer).</summary>
    public string? GemvPrologue { get; init; }
    /// <summary>Kernel: the AttentionPrologueSpec that runs this kernel inside the next step's decode attention.</summary>
    public string? AttentionPrologue { get; init; }
    /// <summary>Gemm: the value the SiLU gate kernel after it stores, where that kernel only gates this GEMM's product
    /// (SiluGatePass): a GEMM kernel with the gate in its epilogue writes it and the gate kernel is skipped.</summary>
    public int SiluGate { get; init; } = -1;
    /// <summary>Kernel: the split of this residual add + RMS norm kernel over the epilogues of the GEMMs around it
    /// (NormEpiloguePass), where their kernels can take it; not in the last layer, whose exit kernel differs.</summary>
    public NormEpilogueSpec? NormEpilogue { get; init; }
    /// <summary>Gemm/Attention: the graph values read and written (their buffers).</summary>
    public int Input { get; init; } = -1;
    public int Output { get; init; } = -1;
    public string? Weight { get; init; }
    public Dim? N { get; init; }
    public Dim? K { get; init; }
    public Dim? Heads { get; init; }
    public Dim? KvHeads { get; init; }
    public Dim? HeadDim { get; init; }
}
