using System.Text.RegularExpressions;
using Compiler.Runtime.Kernels;

namespace Execution.Tests.Attention;

public sealed class AttentionKernelsTests
{
    private static readonly AttentionKernels Qwen3 = new(16, 8, 128);
    private static readonly AttentionKernels Llama = new(32, 8, 128);

    [Theory]
    [InlineData(AttentionKernels.DecodeSourceFile, AttentionKernels.DecodeKernelName)]
    [InlineData(AttentionKernels.DecodeSourceFile, AttentionKernels.DecodeWideKernelName)]
    [InlineData(AttentionKernels.ExtendSourceFile, AttentionKernels.ExtendKernelName)]
    [InlineData(AttentionKernels.ExtendSourceFile, AttentionKernels.SharedPrefixKernelName)]
    public void Kernel_sources_are_embedded_nvrtc_ready_with_their_entry_point(string file, string kernel)
    {
        var source = KernelSources.Load(file);

        Assert.Contains(file, KernelSources.Names());
        // Written out, or stamped from the decode body template by DA_ENTRY(name, threads, min tiles).
        Assert.Matches(new Regex($@"extern ""C"" __global__ void __launch_bounds__\(\w+\)\s+{kernel}\(|\nDA_ENTRY\({kernel}, "), source);
        // NVRTC ships cuda_bf16.h and nothing else we may rely on.
        Assert.Equal(["<cuda_bf16.h>"], KernelIncludes.Of(source));
        Assert.DoesNotContain("INFINITY", source.Replace("NEG_INF", "", StringComparison.Ordinal));
    }

    [Fact]
    public void Descriptor_constants_mirror_the_kernel_macros()
    {
        var decode = KernelSources.Load(AttentionKernels.DecodeSourceFile);
        var extend = KernelSources.Load(AttentionKernels.ExtendSourceFile);

        Assert.Equal(AttentionKernels.DecodeThreads, Macro(decode, "DA_THREADS"));
        Assert.Equal(AttentionKernels.DecodeUnroll, Macro(decode, "DA_UNROLL"));
        Assert.Equal(AttentionKernels.DecodeMaxSplits, Macro(decode, "DA_MAX_SPLITS"));
        Assert.Equal(AttentionKernels.DecodeMaxPrefixChunks, Macro(decode, "DA_MAX_PREFIX_CHUNKS"));
        Assert.Equal(AttentionKernels.ExtendBlockM, Macro(extend, "EA_BLOCK_M"));
        Assert.Equal(AttentionKernels.ExtendBlockN, Macro(extend, "EA_BLOCK_N"));
        Assert.Equal(AttentionKernels.ExtendThreads, Macro(extend, "EA_THREADS"));
    }

    [Fact]
    public void Compile_defines_specialise_the_heads()
    {
        Assert.Equal(["HEAD_DIM=128", "NUM_HEADS=32", "NUM_KV_HEADS=8"], Llama.Defines.Select(d => $"{d.Key}={d.Value.ToSource()}").Order());
        Assert.Equal(4, Llama.GroupSize);
        Assert.Equal(1f / MathF.Sqrt(128), Llama.DefaultSoftmaxScale);
    }

    [Fact]
    public void The_wide_decode_entry_point_takes_the_most_threads_whose_shared_memory_fits_and_serves_few_requests()
    {
        Assert.Equal(512, Qwen3.DecodeWideThreads); // 2 q heads per kv head
        Assert.Equal(256, Llama.DecodeWideThreads); // 4
        Assert.Equal(128, new AttentionKernels(8, 1, 64).DecodeWideThreads); // 8: only the narrow size fits
        Assert.True(Qwen3.UseWideDecode(batch: 8, smCount: 132));
        Assert.False(Qwen3.UseWideDecode(batch: 16, smCount: 132));
        Assert.Equal(512, Qwen3.DecodeLaunch(1, 3, wide: true).BlockX);
        // Chunks of at least two wide tiles (2 x 128 tokens), one CTA per SM: 8 kv heads x 16 splits at batch 1.
        Assert.Equal(1, Qwen3.DecodeNumSplits(1, 256, 132, 256, 8, wide: true));
        Assert.Equal(2, Qwen3.DecodeNumSplits(1, 257, 132, 256, 8, wide: true));
        Assert.Equal(16, Qwen3.DecodeNumSplits(1, 8192, 132, 256, 8, wide: true));
    }

    [Fact]
    public void Decode_launch_is_batch_by_kv_heads_by_splits()
    {
        var launch = Qwen3.DecodeLaunch(batch: 5, numSplits: 3);
        Assert.Equal(new KernelLaunchShape(5, 8, 3, 128, 1, 1, 0), launch);
        Assert.Throws<ArgumentOutOfRangeException>(() => Qwen3.DecodeLaunch(5, AttentionKernels.DecodeMaxSplits + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Qwen3.DecodeLaunch(0, 1));
    }

    [Fact]
    public void Extend_launch_covers_the_longest_extend_with_64_row_tiles()
    {
        Assert.Equal(new KernelLaunchShape(32, 2, 64, 128, 1, 1, 48 * 1024), Llama.ExtendLaunch(batch: 64, maxExtendLen: 128));
        Assert.Equal(3, Llama.ExtendLaunch(1, 129).GridY);
        Assert.Equal(1, Llama.ExtendLaunch(1, 1).GridY);
        Assert.False(Llama.ExtendNeedsSharedMemoryOptIn);
        Assert.True(new AttentionKernels(8, 8, 256).ExtendNeedsSharedMemoryOptIn);
        Assert.Equal((64 + 128) * 16 * 2, new AttentionKernels(4, 2, 16).ExtendSharedMemoryBytes);
    }

    [Fact]
    public void Decode_splits_fill_the_gpu_at_batch_one_and_vanish_at_large_batch()
    {
        const int sms = 132, maxBatch = 256, maxSplits = 2;
        var batch1 = Qwen3.DecodeNumSplits(1, 8192, sms, maxBatch, maxSplits);
        Assert.InRange(batch1, 32, AttentionKernels.DecodeMaxSplits);
        Assert.True(batch1 * Qwen3.NumKvHeads >= 2 * sms, $"batch 1 at 8192 tokens launches only {batch1 * 8} CTAs");

        Assert.Equal(1, Qwen3.DecodeNumSplits(64, 8192, sms, maxBatch, maxSplits));
        Assert.Equal(1, Qwen3.DecodeNumSplits(1, Qwen3.DecodeTileTokens, sms, maxBatch, maxSplits)); // one tile: nothing to split
        Assert.Equal(4, Qwen3.DecodeNumSplits(1, 4 * AttentionKernels.DecodeMinChunkTokens, sms, maxBatch, maxSplits));

        // The workspace holds maxBatch * maxSplits partial rows: batch 200 may not take 2 splits of 256 * 2.
        for (var batch = 1; batch <= maxBatch; batch++)
        {
            var splits = Llama.DecodeNumSplits(batch, 100_000, sms, maxBatch, maxSplits);
            Assert.InRange(splits, 1, AttentionKernels.DecodeMaxSplits);
            Assert.True(batch * splits <= maxBatch * maxSplits, $"batch {batch} x {splits} splits overflows the workspace");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Llama.DecodeNumSplits(maxBatch + 1, 10, sms, maxBatch, maxSplits));
    }

    [Fact]
    public void Decode_workspace_is_counters_then_partials()
    {
        // Llama: counters 256 * 8 * 4 = 8192 bytes, partials 256 * 2 * 32 * (128 + 2) * 4.
        Assert.Equal(8192, Llama.DecodeCountersBytes(256));
        Assert.Equal(8192 + 256L * 2 * 32 * 130 * 4, Llama.DecodeWorkspaceBytes(256, 2));
        Assert.Equal(256, new AttentionKernels(4, 2, 16).DecodeCountersBytes(3)); // 24 bytes, 256-aligned
    }

    [Fact]
    public void Unsupported_head_shapes_are_rejected_with_the_reason()
    {
        Assert.Contains("multiple", Assert.Throws<ArgumentException>(() => new AttentionKernels(12, 8, 128)).Message);
        Assert.Contains("head_dim", Assert.Throws<NotSupportedException>(() => new AttentionKernels(8, 8, 96)).Message);
        // 32 q heads per kv head overflow decode's static shared memory.
        Assert.Contains("shared memory", Assert.Throws<NotSupportedException>(() => new AttentionKernels(32, 1, 128)).Message);
    }

    private static int Macro(string source, string name)
    {
        var match = Regex.Match(source, $@"^#define {name} (\d+)\s*$", RegexOptions.Multiline);
        Assert.True(match.Success, $"#define {name} not found");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
