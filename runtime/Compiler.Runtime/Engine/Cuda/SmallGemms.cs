namespace Compiler.Runtime.Engine.Cuda;

/// <summary>The kernels that can run a GEMM of few rows (runtime_kernels.cu, or cuBLASLt).</summary>
internal enum SmallGemmKernel
{
    /// <summary>cuBLASLt's tensor-core GEMM: its heuristics tile for throughput, and stream large weights well.</summary>
    CublasLt,
    /// <summary>gemv_bf16_p{4,8} (gemv.cuh): CUDA cores, up to <see cref="SmallGemms.GemvMaxRows"/> rows.</summary>
    Gemv,
    /// <summary>gemv_bf16_bulk (gemv.cuh's gemv_bulk, sm_90): each of a block or two per SM copies its whole run of
    /// weight rows into shared memory before waiting on the previous kernel; where that run fits.</summary>
    GemvBulk,
    /// <summary>gemm_skinny_m16: mma.sync with every operand one 16-byte global load, up to <see cref="SmallGemms.SkinnyMaxRows"/> rows.</summary>
    Skinny,
    /// <summary>gemm_tiled_s{split}: mma.sync on x and w tiles staged in shared memory, K split over a thread-block
    /// cluster, up to <see cref="SmallGemms.TiledMaxRows"/> rows.</summary>
    Tiled,
}

/// <summary>gemm_tiled's part of a residual add + RMS norm split over two GEMMs' epilogues (GtEpilogue of runtime_kernels.cu):
/// the GEMM before adds its product to the residual and stores it times the norm's weight with the rows' sums of squares
/// (AddNorm); the GEMM after scales its rows by their rsqrt (RowScale, or with the SiLU gate after it SiluGateRowScale).</summary>
internal enum TiledNormEpilogue { AddNorm, RowScale, SiluGateRowScale }

/// <summary>A kernel and its K split (warps per output feature tile of gemv and gemm_skinny, CTAs per cluster of
/// gemm_tiled; 1 for cuBLASLt), or for the bulk GEMV its blocks per SM.</summary>
internal readonly record struct SmallGemmChoice(SmallGemmKernel Kernel, int KSplit)
{
    public static readonly SmallGemmChoice CublasLt = new(SmallGemmKernel.CublasLt, 1);

    public override string ToString() => Kernel switch
    {
        SmallGemmKernel.Gemv => $"gemv/{KSplit}",
        SmallGemmKernel.GemvBulk => $"gemv_bulk/{KSplit}",
        SmallGemmKernel.Skinny => $"skinny/{KSplit}",
        SmallGemmKernel.Tiled => $"tiled/{KSplit}",
        _ => "cublasLt",
    };
}

/// <summary>
/// GEMMs of few rows (decode batches, short prefill chunks) are bound by streaming the weight, and which kernel
/// streams it fastest depends on its shape, the row count and the GPU. Measured on the H100 (scripts/kernels/
/// gemm_check.cu): gemv wins at 1-2 rows of a small model's weights and loses 2-4x to the others at 8 rows;
/// gemm_skinny wins at 4-16 rows of Qwen3-0.6B's weights; gemm_tiled at 16-64 rows of them (its x tiles are shared
/// by a CTA's 64 features, where gemm_skinny's warps each load x for 8); cuBLAS on most of Llama-3.1-8B's large
/// weights. So the runner times the candidates once, at load, per weight shape and row bucket, on the model's own
/// weights, and launches the fastest. gemm_skinny stops at 16 rows: at 32 and 64 it timed faster than cuBLAS alone on
/// some weights, yet decode steps were slower with it (Qwen3-0.6B, GPU time per step: 32 requests 1.63-1.65 ms where
/// the tuner took it for three of five shapes, 1.58 ms with cuBLASLt throughout; 64 requests 5-15 % slower).
/// </summary>
internal static class SmallGemms
{
    /// <summary>Row buckets: a GEMM of r rows takes the choice of the first bucket of at least r rows, timed at that
    /// bucket's row count (the bucket's slowest case). More rows than the last bucket always take cuBLASLt.</summary>
    public static readonly int[] BucketRows = [1, 2, 4, 8, 16, 32, 64];

    public static int MaxRows => BucketRows[^1];

    /// <summary>The most rows gemm_skinny takes (its entry point gemm_skinny_m16).</summary>
    public const int SkinnyMaxRows = 16;

    /// <summary>GEMV_MAX_M of gemv.cuh.</summary>
    public const int GemvMaxRows = 8;

    /// <summary>GEMV_WARPS of gemv.cuh and SK_WARPS of runtime_kernels.cu: warps per CTA, split among a feature's K slices.</summary>
    public const int WarpsPerBlock = 8;

    /// <summary>GT_ROWS of runtime_kernels.cu: the rows one gemm_tiled CTA computes, the most it takes.</summary>
    public const int TiledMaxRows = 64;

    /// <summary>GT_FEATURES of runtime_kernels.cu: output features per gemm_tiled CTA.</summary>
    public const int TiledFeaturesPerBlock = 64;

    /// <summary>GT_BK of runtime_kernels.cu: each CTA's K slice is whole steps of this many.</summary>
    public const int TiledStepK = 64;

    /// <summary>GT_THREADS of runtime_kernels.cu.</summary>
    public const int TiledThreads = 128;

    /// <summary>GT_STAGES of runtime_kernels.cu, which the host defines: gemm_tiled's pipeline depth. On compute
    /// capability 9.0 (H100, where it multiplies with wgmma) 8 stages, 128 KB, one CTA per SM: in a graph of
    /// Qwen3-0.6B's 112 layer GEMMs at 64 rows (gemm_check --chain, best K splits), 649 us at 8 stages against 747 at
    /// 4 (819 with mma.sync), the weight bytes in flight per SM being what bounds them. Elsewhere the 4 measured
    /// with mma.sync.</summary>
    public static int TiledStages(int computeCapabilityMajor, int computeCapabilityMinor) =>
        computeCapabilityMajor == 9 && computeCapabilityMinor == 0 ? 8 : 4;

    /// <summary>gt_shared_bytes(GT_FEATURES, stages) of runtime_kernels.cu: the stages of 64 rows of x and
    /// GT_FEATURES rows of w, 64 bf16 each.</summary>
    public static int TiledSharedBytes(int stages) => stages * (TiledMaxRows + TiledFeaturesPerBlock) * TiledStepK * 2;

    /// <summary>The largest K split of gemm_tiled (its cluster size), on sm_90 and later; 1 before.</summary>
    public const int TiledMaxSplit = 8;

    /// <summary>The gemm_tiled entry point for a K split.</summary>
    public static string TiledKernelName(int split) => $"gemm_tiled_s{split}";

    /// <summary>The gemm_tiled entry point with the SiLU gate in its epilogue (y = silu(gate) * up of w = [gate; up]), for a K split.</summary>
    public static string TiledSiluGateKernelName(int split) => $"gemm_tiled_silu_s{split}";

    /// <summary>The gemm_tiled entry point for a K split with a norm epilogue (GEMM_TILED_NORM_ARGS): the residual add + RMS
    /// norm kernel after the GEMM split over it and the GEMM after (Step.NormEpilogue).</summary>
    public static string TiledNormKernelName(TiledNormEpilogue epilogue, int split) => epilogue switch
    {
        TiledNormEpilogue.AddNorm => $"gemm_tiled_add_norm_s{split}",
        TiledNormEpilogue.RowScale => $"gemm_tiled_row_scale_s{split}",
        _ => $"gemm_tiled_silu_row_scale_s{split}",
    };

    /// <summary>The bucket for a GEMM of <paramref name="rows"/> rows, or -1 past the last one.</summary>
    public static int Bucket(int rows)
    {
        if (rows <= 0) throw new ArgumentOutOfRangeException(nameof(rows), $"A GEMM needs at least one row (got {rows}).");
        for (var i = 0; i < BucketRows.Length; i++)
            if (rows <= BucketRows[i]) return i;
        return -1;
    }

    /// <summary>The gemm_skinny entry point (one 16-row tile and one 8-feature tile per warp).</summary>
    public const string SkinnyKernelName = "gemm_skinny_m16";

    /// <summary>Output features one gemm_skinny CTA computes: its warps / ksplit feature tiles of 8 features.</summary>
    public static int SkinnyFeaturesPerBlock(int ksplit) => WarpsPerBlock / ksplit * 8;

    /// <summary>Output features one gemv CTA computes.</summary>
    public static int GemvFeaturesPerBlock(int ksplit) => WarpsPerBlock / ksplit;

    /// <summary>Blocks of a GEMV (or GEMV prologue kernel) over <paramref name="n"/> output features.</summary>
    public static int GemvBlocks(int n, int ksplit) => (n + GemvFeaturesPerBlock(ksplit) - 1) / GemvFeaturesPerBlock(ksplit);

    /// <summary>Blocks per SM the bulk GEMV is tried at: one holds a whole SM's share of the weight; two let the GEMM
    /// after it start beside it sooner. gemm_check --chain 1 on the H100, each of Qwen3-0.6B's layer GEMMs 28 times:
    /// gate_up_proj 142 us at two blocks per SM, 183 at one, 189 with gemv_bf16_p4; qkv_proj, o_proj, down_proj
    /// 108 / 70 / 90 us at one (about the same at two) against 129 / 93 / 114.</summary>
    public static readonly int[] GemvBulkBlocksPerSm = [1, 2];

    /// <summary>Dynamic shared memory of a bulk GEMV block (gemv_bulk): <paramref name="rows"/> rows of x, then at the
    /// next 128 bytes its run of ceil(n / blocks) weight rows of k; with <paramref name="siluGate"/> (w is [gate; up], the
    /// output n / 2 wide) ceil(n / 2 / blocks) gate rows and as many up rows.</summary>
    public static long GemvBulkSharedBytes(int rows, int n, int k, int blocks, bool siluGate = false) =>
        ((long)rows * k * 2 + 127) / 128 * 128 + (siluGate ? 2L * ((n / 2 + blocks - 1) / blocks) : (n + blocks - 1) / blocks) * k * 2;

    /// <summary>Whether a GEMM on <paramref name="choice"/> applies the SiLU gate after it in its epilogue: gemm_tiled and
    /// the bulk GEMV (gemv.cuh says why the streamed GEMV does not).</summary>
    public static bool FusesSiluGate(SmallGemmChoice choice) => choice.Kernel is SmallGemmKernel.Tiled or SmallGemmKernel.GemvBulk;

    /// <summary>What may run a GEMM of <paramref name="rows"/> rows and reduction length <paramref name="k"/>:
    /// cuBLASLt always; gemv at its one K split (<paramref name="gemvSplit"/>, from the feature count) up to
    /// <see cref="GemvMaxRows"/> rows; gemm_skinny up to <see cref="SkinnyMaxRows"/> rows at every K split whose slices
    /// are whole 32-element blocks; gemm_tiled up to <see cref="TiledMaxRows"/> rows at every K split up to
    /// <paramref name="tiledMaxSplit"/> whose slices are whole steps. In this order (gemm_tiled first past
    /// <see cref="SkinnyMaxRows"/> rows), which the tuner prefers at near-ties; with <paramref name="gemvFirst"/> (the
    /// GEMV of this shape also runs the kernel before it, a GEMV prologue, so it saves a launch that timing the GEMM
    /// alone does not see) the GEMV comes first. The bulk GEMV at each of <paramref name="gemvBulkBlocksPerSm"/> (where
    /// its shared memory fits: the caller's to decide) up to <see cref="GemvMaxRows"/> rows, after the GEMV.</summary>
    public static IEnumerable<SmallGemmChoice> Candidates(int rows, int k, int gemvSplit, bool gemvFirst = false, int tiledMaxSplit = TiledMaxSplit,
                                                         IEnumerable<int>? gemvBulkBlocksPerSm = null)
    {
        var gemv = rows <= GemvMaxRows && k % (8 * gemvSplit) == 0;
        var bulk = rows <= GemvMaxRows && k % 8 == 0
            ? (gemvBulkBlocksPerSm ?? []).Select(perSm => new SmallGemmChoice(SmallGemmKernel.GemvBulk, perSm)).ToList() : [];
        var tiled = new List<SmallGemmChoice>();
        if (rows <= TiledMaxRows)
            for (var split = 1; split <= tiledMaxSplit; split *= 2)
                if (k % (TiledStepK * split) == 0) tiled.Add(new(SmallGemmKernel.Tiled, split));
        // Past gemm_skinny's rows, gemm_tiled goes before cuBLASLt: measured in the decode graph, it was worth more
        // than timed alone (Qwen3-0.6B, batch 64 on the H100: 1.74 ms per step where the tuner took it for three of
        // the four layer GEMMs, 1.84-1.87 where cuBLASLt won two of them by the margin).
        var tiledFirst = rows > SkinnyMaxRows;
        if (gemv && gemvFirst) yield return new(SmallGemmKernel.Gemv, gemvSplit);
        if (gemvFirst) foreach (var choice in bulk) yield return choice;
        if (tiledFirst) foreach (var choice in tiled) yield return choice;
        yield return SmallGemmChoice.CublasLt;
        if (gemv && !gemvFirst) yield return new(SmallGemmKernel.Gemv, gemvSplit);
        if (!gemvFirst) foreach (var choice in bulk) yield return choice;
        if (rows <= SkinnyMaxRows)
            for (var split = 1; split <= WarpsPerBlock; split *= 2)
                if (k % (32 * split) == 0) yield return new(SmallGemmKernel.Skinny, split);
        if (!tiledFirst) foreach (var choice in tiled) yield return choice;
    }

    /// <summary>The choice a forced kernel (tests, <see cref="CudaRunnerOptions.SmallGemmKernel"/>) makes where it is a
    /// candidate: its largest K split; cuBLASLt where it is not.</summary>
    public static SmallGemmChoice Forced(SmallGemmKernel kernel, int rows, int k, int gemvSplit, int tiledMaxSplit = TiledMaxSplit,
                                         IEnumerable<int>? gemvBulkBlocksPerSm = null) =>
        Candidates(rows, k, gemvSplit, tiledMaxSplit: tiledMaxSplit, gemvBulkBlocksPerSm: gemvBulkBlocksPerSm)
            .Where(c => c.Kernel == kernel).DefaultIfEmpty(SmallGemmChoice.CublasLt).MaxBy(c => c.KSplit);
}
