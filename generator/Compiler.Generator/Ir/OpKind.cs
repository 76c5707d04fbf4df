namespace Compiler.Generator.Ir;

/// <summary>The operations of the graph IR. Anchors (GEMMs, attention) are launched as library kernels; every other op is
/// point-wise or row-local and is fused into generated kernels.</summary>
internal enum OpKind
{
    /// <summary>A per-token model input: <c>input_ids</c> or <c>positions</c>.</summary>
    Input,
    /// <summary>A checkpoint tensor.</summary>
    Weight,
    /// <summary>A value carried from one layer to the next (e.g. the residual stream).</summary>
    LoopIn,
    /// <summary>Embedding lookup: the weight row of each token id.</summary>
    Embed,
    RmsNorm,
    Add,
    Mul,
    Silu,
    Rope,
    /// <summary>A column range of a merged projection's output.</summary>
    Slice,
    /// <summary>Writes K or V rows of the new tokens into the layer's KV cache.</summary>
    KvStore,
    Linear,
    Attention,
    LmHead,
}

internal static class OpKindExtensions
{
    public static bool IsAnchor(this OpKind op) => op is OpKind.Linear or OpKind.Attention or OpKind.LmHead;

    /// <summary>Sources have no computation of their own: they are read where they are used.</summary>
    public static bool IsSource(this OpKind op) => op is OpKind.Input or OpKind.Weight or OpKind.LoopIn;
}
