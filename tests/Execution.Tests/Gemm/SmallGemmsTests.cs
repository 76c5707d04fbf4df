using System.Text.RegularExpressions;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Kernels;

namespace Execution.Tests.Gemm;

public sealed partial class SmallGemmsTests
{
    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 2)]
    [InlineData(5, 3)]
    [InlineData(8, 3)]
    [InlineData(9, 4)]
    [InlineData(24, 5)]
    [InlineData(33, 6)]
    [InlineData(64, 6)]
    [InlineData(65, -1)]
    public void A_row_count_takes_the_first_bucket_that_holds_it(int rows, int bucket) =>
        Assert.Equal(bucket, SmallGemms.Bucket(rows));

    [Fact]
    public void No_rows_is_refused() => Assert.Throws<ArgumentOutOfRangeException>(() => SmallGemms.Bucket(0));

    [Fact]
    public void Candidates_are_the_kernels_whose_limits_the_shape_meets()
    {
        string[] tiled = ["tiled/1", "tiled/2", "tiled/4", "tiled/8"];
        Assert.Equal(["cublasLt", "gemv/4", "skinny/1", "skinny/2", "skinny/4", "skinny/8", .. tiled], Names(SmallGemms.Candidates(8, 1024, 4)));
        Assert.Equal(["cublasLt", "skinny/1", "skinny/2", "skinny/4", "skinny/8", .. tiled], Names(SmallGemms.Candidates(16, 1024, 4)));
        // Past gemm_skinny's rows gemm_tiled comes first: cuBLASLt must beat it by the margin.
        Assert.Equal([.. tiled, "cublasLt"], Names(SmallGemms.Candidates(17, 1024, 4)));
        Assert.Equal([.. tiled, "cublasLt"], Names(SmallGemms.Candidates(64, 1024, 4)));
        // K = 96: one 32-element block per slice needs K % (32 * split) == 0; gemv's 16-byte chunks need K % (8 * split);
        // gemm_tiled's slices whole 64-element steps.
        Assert.Equal(["cublasLt", "gemv/2", "skinny/1"], Names(SmallGemms.Candidates(1, 96, 2)));
        Assert.Equal(["cublasLt", "skinny/1"], Names(SmallGemms.Candidates(1, 96, 8)));
        Assert.Equal(["tiled/1", "tiled/2", "cublasLt"], Names(SmallGemms.Candidates(40, 128, 8)));
        Assert.Equal(["cublasLt"], Names(SmallGemms.Candidates(65, 1024, 4)));
        // Before sm_90 (no thread-block clusters) gemm_tiled does not split K.
        Assert.Equal(["tiled/1", "cublasLt"], Names(SmallGemms.Candidates(32, 1024, 4, tiledMaxSplit: 1)));
        // Where the GEMV also runs the kernel before it, it comes first (the others must beat it by the margin).
        Assert.Equal(["gemv/1", "cublasLt", "skinny/1", "skinny/2", "skinny/4", "skinny/8", .. tiled], Names(SmallGemms.Candidates(2, 1024, 1, gemvFirst: true)));
        Assert.Equal(["cublasLt", "skinny/1", "skinny/2", "skinny/4", "skinny/8", .. tiled], Names(SmallGemms.Candidates(16, 1024, 1, gemvFirst: true)));
        // The bulk GEMV at the blocks per SM the caller found room for, up to the GEMV's rows: after the GEMV, or with it first.
        Assert.Equal(["cublasLt", "gemv/4", "gemv_bulk/1", "gemv_bulk/2", "skinny/1", "skinny/2", "skinny/4", "skinny/8", .. tiled],
            Names(SmallGemms.Candidates(8, 1024, 4, gemvBulkBlocksPerSm: [1, 2])));
        Assert.Equal(["gemv/1", "gemv_bulk/1", "cublasLt", "skinny/1", "skinny/2", "skinny/4", "skinny/8", .. tiled],
            Names(SmallGemms.Candidates(2, 1024, 1, gemvFirst: true, gemvBulkBlocksPerSm: [1])));
        Assert.Equal(["cublasLt", "skinny/1", "skinny/2", "skinny/4", "skinny/8", .. tiled], Names(SmallGemms.Candidates(9, 1024, 4, gemvBulkBlocksPerSm: [1, 2])));
    }

    [Fact]
    public void A_bulk_gemv_block_holds_its_rows_of_x_then_its_run_of_weight_rows()
    {
        // Qwen3-0.6B's gate_up_proj at one row on 132 SMs: 2 KB of x, then 47 rows of 1024 bf16.
        Assert.Equal(2048 + 47 * 2048, SmallGemms.GemvBulkSharedBytes(1, 6144, 1024, 132));
        // x's rows end on 128 bytes before the weights: 3 rows of 40 bf16 are 240 bytes.
        Assert.Equal(256 + 2 * 80, SmallGemms.GemvBulkSharedBytes(3, 4, 40, 2));
        // Gated ([gate; up], 6 rows, 3 outputs over 2 blocks): 2 outputs a block, so 2 gate rows and 2 up rows, where
        // the plain run would be 3 rows.
        Assert.Equal(256 + 4 * 80, SmallGemms.GemvBulkSharedBytes(3, 6, 40, 2, siluGate: true));
        Assert.Equal(256 + 3 * 80, SmallGemms.GemvBulkSharedBytes(3, 6, 40, 2));
    }

    [Fact]
    public void The_silu_gate_fuses_into_gemm_tiled_and_the_bulk_gemv()
    {
        Assert.True(SmallGemms.FusesSiluGate(new SmallGemmChoice(SmallGemmKernel.Tiled, 4)));
        Assert.True(SmallGemms.FusesSiluGate(new SmallGemmChoice(SmallGemmKernel.GemvBulk, 2)));
        Assert.False(SmallGemms.FusesSiluGate(new SmallGemmChoice(SmallGemmKernel.Gemv, 1)));
        Assert.False(SmallGemms.FusesSiluGate(new SmallGemmChoice(SmallGemmKernel.Skinny, 1)));
        Assert.False(SmallGemms.FusesSiluGate(SmallGemmChoice.CublasLt));
    }

    [Fact]
    public void A_forced_kernel_takes_its_largest_split_and_leaves_what_it_cannot_run_to_cublas()
    {
        Assert.Equal("skinny/8", SmallGemms.Forced(SmallGemmKernel.Skinny, 16, 1024, 4).ToString());
        Assert.Equal("cublasLt", SmallGemms.Forced(SmallGemmKernel.Skinny, 32, 1024, 4).ToString());
        Assert.Equal("skinny/2", SmallGemms.Forced(SmallGemmKernel.Skinny, 3, 64, 1).ToString());
        Assert.Equal("gemv/4", SmallGemms.Forced(SmallGemmKernel.Gemv, 8, 1024, 4).ToString());
        Assert.Equal("cublasLt", SmallGemms.Forced(SmallGemmKernel.Gemv, 9, 1024, 4).ToString());
        Assert.Equal("gemv_bulk/2", SmallGemms.Forced(SmallGemmKernel.GemvBulk, 1, 1024, 4, gemvBulkBlocksPerSm: [1, 2]).ToString());
        Assert.Equal("cublasLt", SmallGemms.Forced(SmallGemmKernel.GemvBulk, 1, 1024, 4).ToString()); // no room found
        Assert.Equal("cublasLt", SmallGemms.Forced(SmallGemmKernel.Skinny, 65, 1024, 4).ToString());
        Assert.Equal("tiled/8", SmallGemms.Forced(SmallGemmKernel.Tiled, 64, 1024, 4).ToString());
        Assert.Equal("tiled/1", SmallGemms.Forced(SmallGemmKernel.Tiled, 64, 1024, 4, tiledMaxSplit: 1).ToString());
        Assert.Equal("cublasLt", SmallGemms.Forced(SmallGemmKernel.Tiled, 65, 1024, 4).ToString());
    }

    [Fact]
    public void The_host_knows_the_kernels_entry_points_rows_and_tiles()
    {
        var source = KernelSources.Load("runtime_kernels.cu");
        Assert.Matches($@"#define GEMV_MAX_M {SmallGemms.GemvMaxRows}\b", source);
        Assert.Matches($@"#define GEMV_WARPS {SmallGemms.WarpsPerBlock}\b", source);
        Assert.Matches($@"#define SK_WARPS {SmallGemms.WarpsPerBlock}\b", source);
        var entry = Assert.Single(SkinnyEntry().Matches(source));
        Assert.Equal(SmallGemms.SkinnyKernelName, entry.Groups["name"].Value);
        Assert.Equal(SmallGemms.SkinnyMaxRows, 16 * int.Parse(entry.Groups["mt"].Value));
        Assert.Equal(SmallGemms.SkinnyFeaturesPerBlock(1), SmallGemms.WarpsPerBlock * 8 * int.Parse(entry.Groups["f"].Value));

        Assert.Matches($@"#define GT_ROWS {SmallGemms.TiledMaxRows}\b", source);
        Assert.Matches($@"#define GT_FEATURES {SmallGemms.TiledFeaturesPerBlock}\b", source);
        Assert.Matches($@"#define GT_BK {SmallGemms.TiledStepK}\b", source);
        Assert.Matches($@"#define GT_THREADS {SmallGemms.TiledThreads}\b", source);
        // The pipeline depth is the host's (-DGT_STAGES), which sizes the launches' shared memory as gt_shared_bytes does.
        Assert.Contains("#ifndef GT_STAGES\n#error", source);
        Assert.Contains("return stages * (GT_ROWS + features) * GT_BK * 2 > GT_ROWS * gt_partial_stride(features) * 4", source);
        foreach (var stages in new[] { 4, 8 }) // gt_shared_bytes(GT_FEATURES, stages): the stages, or the fp32 partial tile
            Assert.Equal(Math.Max(stages * (SmallGemms.TiledMaxRows + SmallGemms.TiledFeaturesPerBlock) * SmallGemms.TiledStepK * 2,
                                  SmallGemms.TiledMaxRows * (SmallGemms.TiledFeaturesPerBlock + 8) * 4), SmallGemms.TiledSharedBytes(stages));
        Assert.Equal(8, SmallGemms.TiledStages(9, 0));
        Assert.Equal(4, SmallGemms.TiledStages(8, 0));
        Assert.Equal(4, SmallGemms.TiledStages(12, 0));
        Assert.Contains($"{SmallGemms.TiledKernelName(1)}(GEMM_TILED_ARGS)", source);
        Assert.Contains($"{SmallGemms.TiledSiluGateKernelName(1)}(GEMM_TILED_ARGS)", source);
        (TiledNormEpilogue Epilogue, string Silu, string Epi)[] norms =
            [(TiledNormEpilogue.AddNorm, "false", "GT_ADD_NORM"), (TiledNormEpilogue.RowScale, "false", "GT_ROW_SCALE"), (TiledNormEpilogue.SiluGateRowScale, "true", "GT_ROW_SCALE")];
        foreach (var (epilogue, silu, epi) in norms)
            Assert.Contains($"{SmallGemms.TiledNormKernelName(epilogue, 1)}(GEMM_TILED_NORM_ARGS)\n{{\n    GEMM_TILED_NORM_BODY(1, {silu}, {epi});", source);
        for (var split = 2; split <= SmallGemms.TiledMaxSplit; split *= 2)
        {
            Assert.Contains($"GEMM_TILED_ENTRY({SmallGemms.TiledKernelName(split)}, GT_FEATURES, GT_STAGES, {split}, false)", source);
            Assert.Contains($"GEMM_TILED_ENTRY({SmallGemms.TiledSiluGateKernelName(split)}, GT_FEATURES, GT_STAGES, {split}, true)", source);
            foreach (var (epilogue, silu, epi) in norms)
                Assert.Contains($"GEMM_TILED_NORM_ENTRY({SmallGemms.TiledNormKernelName(epilogue, split)}, {split}, {silu}, {epi})", source);
        }
    }

    private static string[] Names(IEnumerable<SmallGemmChoice> choices) => choices.Select(c => c.ToString()).ToArray();

    [GeneratedRegex(@"^GEMM_SKINNY_ENTRY\((?<name>\w+), (?<mt>\d+), (?<f>\d+), \d+\)", RegexOptions.Multiline)]
    private static partial Regex SkinnyEntry();
}
