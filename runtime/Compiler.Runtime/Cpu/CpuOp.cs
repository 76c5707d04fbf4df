using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Cpu;

/// <summary>One primitive op of a fused kernel, bound to concrete memory: values live in per-worker scratch at
/// float offsets <see cref="Out"/>, <see cref="A"/>, <see cref="B"/>.</summary>
internal unsafe struct CpuOp
{
    public PrimOp Op;
    public int Out, A, B;
    public int Length;
    /// <summary>LoadRow / StoreRow: the value's buffer; LoadWeight, Gather, RmsNorm: the weight; StoreKv: the cache.</summary>
    public float* Data;
    /// <summary>LoadRow: first column read.</summary>
    public int Offset;
    /// <summary>LoadRow / StoreRow: the buffer's row stride; StoreKv: the cache's row stride (KV length).</summary>
    public int Stride;
    /// <summary>Gather: rows of the embedding (vocab); StoreKv: slots of the cache. For bounds checks.</summary>
    public int Rows;
    public int Group;
    public float Epsilon;
}
