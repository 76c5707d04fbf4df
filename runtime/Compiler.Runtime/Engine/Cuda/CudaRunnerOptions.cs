namespace Compiler.Runtime.Engine.Cuda;

/// <summary>Sizes and switches of the CUDA model runner (SGLang's server arguments of the same names).</summary>
internal sealed record CudaRunnerOptions
{
    /// <summary>KV pool size in tokens; 0 sizes it from <see cref="MemFractionStatic"/> of the GPU's memory.</summary>
    public int MaxTotalTokens { get; init; }
    /// <summary>Fraction of GPU memory for weights, activations and the KV pool.</summary>
    public double MemFractionStatic { get; init; } = 0.88;
    /// <summary>Most tokens in one forward step (the chunked-prefill size).</summary>
    public int MaxBatchTokens { get; init; } = 8192;
    public int MaxRunningRequests { get; init; } = 256;
    public int MaxContextLen { get; init; } = 4096;
    /// <summary>Most rows of logits one step returns (at least MaxRunningRequests; more for prompt log-probabilities).</summary>
    public int MaxLogitsRows { get; init; }
    public bool DisableCudaGraph { get; init; }
    /// <summary>Launch every kernel only after the previous one has finished, instead of letting it start early and
    /// load its weights meanwhile (programmatic dependent launch, sm_90+). For measuring what the overlap buys.</summary>
    public bool DisableProgrammaticLaunch { get; init; }
    /// <summary>Launch each residual add + RMS norm kernel on its own at decode instead of inside the next GEMM's GEMV
    /// (the plan's GEMV prologue kernels). For measuring what the fusion buys, and for tests comparing the two.</summary>
    public bool DisableGemvPrologues { get; init; }
    /// <summary>Launch the kernel before decode attention (q/k norm, RoPE, KV store) on its own instead of inside the
    /// attention (the plan's attention prologue kernels). For measuring what the fusion buys, and for tests comparing
    /// the two.</summary>
    public bool DisableAttentionPrologues { get; init; }
    /// <summary>Launch the SiLU gate after gate_up_proj on its own instead of in the GEMM's epilogue where gemm_tiled or
    /// the bulk GEMV runs that GEMM (the plan's SiluGate steps). For measuring what the fusion buys, and for tests comparing the two.</summary>
    public bool DisableGemmEpilogues { get; init; }
    /// <summary>Launch each residual add + RMS norm kernel between two GEMMs on its own at decode instead of splitting it
    /// over their epilogues where gemm_tiled runs both (the plan's NormEpilogue steps). For measuring what the fusion
    /// buys, and for tests comparing the two (the split rounds to bf16 before the row's scale, so not bit for bit).</summary>
    public bool DisableNormEpilogues { get; init; }
    /// <summary>Attend every decode request to its whole context itself, instead of letting requests that share a cached
    /// prefix attend to it together (cascade attention: shared_prefix_attention + decode_attention), vLLM's
    /// --disable-cascade-attn. For measuring what cascade attention buys, and for tests comparing the two.</summary>
    public bool DisableCascadeAttention { get; init; }
    /// <summary>Run every GEMM of up to 64 rows with this kernel where it can (cuBLASLt elsewhere) instead of timing the
    /// candidates at load and taking the fastest. For tests of each kernel.</summary>
    public SmallGemmKernel? SmallGemmKernel { get; init; }
    /// <summary>Decode batch sizes captured as CUDA graphs; default 1, 2, 4, 8, then steps of 8 up to MaxRunningRequests.</summary>
    public IReadOnlyList<int>? CudaGraphBatchSizes { get; init; }
    /// <summary>Kernel binary cache folder; null = the default (~/.cache/compiler/kernels), "" = no cache.</summary>
    public string? KernelCacheDirectory { get; init; }
    public Action<string>? Log { get; init; }

    public IReadOnlyList<int> GraphBatchSizes() => CudaGraphBatchSizes ??
        new[] { 1, 2, 4, 8 }.Concat(Enumerable.Range(2, Math.Max(0, MaxRunningRequests / 8 - 1)).Select(i => i * 8))
            .Where(b => b <= MaxRunningRequests).ToArray();
}
