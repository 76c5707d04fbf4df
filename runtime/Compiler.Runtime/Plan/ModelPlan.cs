namespace Compiler.Runtime.Plan;

/// <summary>
/// Everything the runtime needs to run one architecture, generated from its model file: constants and how to read
/// them from config.json, the checkpoint tensors, the fused kernels (CUDA C source and, for the CPU backend, their
/// primitive ops), the buffer plan, and the launch sequence of a forward step.
/// </summary>
public sealed class ModelPlan
{
    public required string Architecture { get; init; }
    public required ConstantSpec[] Constants { get; init; }
    /// <summary>Reads every constant from a model's config.json (ints and bools as 0/1 doubles).</summary>
    public required Func<IModelConfig, IReadOnlyDictionary<string, double>> ReadConstants { get; init; }
    public required WeightSpec[] Weights { get; init; }
    public required FusedKernel[] Kernels { get; init; }
    /// <summary>Decode variants of (kernel, GEMM) step pairs; steps name theirs in <see cref="Step.GemvPrologue"/>.</summary>
    public GemvPrologueKernel[] GemvPrologues { get; init; } = [];
    /// <summary>Decode variants of (kernel, attention) step pairs; steps name theirs in <see cref="Step.AttentionPrologue"/>.</summary>
    public AttentionPrologueKernel[] AttentionPrologues { get; init; } = [];
    public required Step[] Prologue { get; init; }
    public required Step[] ExtendLayer { get; init; }
    public required Step[] DecodeLayer { get; init; }
    public required Step[] Epilogue { get; init; }
    public required ValueBuffer[] Buffers { get; init; }
    public required int SlotCount { get; init; }
    /// <summary>The constant counting layers, and the tensor-name prefix of a layer ("model.layers.{i}").</summary>
    public required string LayerCount { get; init; }
    public required string LayerPrefix { get; init; }
    /// <summary>Elements per token of K (and of V) in one layer's cache, e.g. "KV_HEADS*HEAD_DIM".</summary>
    public required string KvLength { get; init; }
    /// <summary>The head size RoPE rotates, or null when the model has no rotary embedding.</summary>
    public string? RopeHeadDim { get; init; }
    /// <summary>CUDA C of every fused kernel; dimensions are -D constants.</summary>
    public required string CudaSource { get; init; }
    /// <summary>A readable listing of the launches, kernels and buffers.</summary>
    public required string Description { get; init; }

    public FusedKernel Kernel(string name) => Array.Find(Kernels, k => k.Name == name)
        ?? throw new InvalidOperationException($"{Architecture} has no kernel '{name}'");
}
