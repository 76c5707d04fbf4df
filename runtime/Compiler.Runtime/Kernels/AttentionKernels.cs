using Compiler.Runtime.Cuda;

namespace Compiler.Runtime.Kernels;

/// <summary>
/// Launch contract of the attention library kernels (<c>decode_attention.cu</c>, <c>extend_attention.cu</c>) for
/// one model's head configuration: the NVRTC defines, kernel names, grid / block / shared memory per launch and
/// the decode workspace. The numbers here mirror the <c>DA_*</c> / <c>EA_*</c> macros of the .cu files.
/// </summary>
internal sealed class AttentionKernels
{
    public const string DecodeSourceFile = "decode_attention.cu";
    public const string ExtendSourceFile = "extend_attention.cu";
    public const string DecodeKernelName = "decode_attention";
    /// <summary>The decode entry point for few requests (DA_WIDE_THREADS threads, splits of at least two tiles).</summary>
    public const string DecodeWideKernelName = "decode_attention_wide";
    public const string ExtendKernelName = "extend_attention";
    /// <summary>The shared half of cascade decode attention, in extend_attention.cu (see <see cref="SharedPrefixPlanner"/>).</summary>
    public const string SharedPrefixKernelName = "shared_prefix_attention";

    /// <summary>Threads per decode CTA (DA_THREADS).</summary>
    public const int DecodeThreads = 128;
    /// <summary>Tokens each decode row group takes per step (DA_UNROLL).</summary>
    public const int DecodeUnroll = 4;
    /// <summary>Most KV splits one decode launch uses (DA_MAX_SPLITS); grid.x beyond it is wasted.</summary>
    public const int DecodeMaxSplits = 64;
    /// <summary>Most partial states of a request's shared prefix that decode_attention merges (DA_MAX_PREFIX_CHUNKS).</summary>
    public const int DecodeMaxPrefixChunks = 8;
    /// <summary>Fewest tokens the host plans a decode split for when the context length is short (a long one leaves the
    /// chunking to the kernel, which cuts each request into tiles anyway). Measured on Qwen3-0.6B, 129-token contexts:
    /// one-tile (32-token) splits beat 128-token ones at batch 1 (1.10 vs 1.13 ms a step) and 16 (1.50 vs 1.53).</summary>
    public const int DecodeMinChunkTokens = 32;
    /// <summary>Decode CTAs per SM the split heuristic aims for: each keeps 16 KiB of K/V loads in flight, HBM wants more.</summary>
    public const int DecodeCtasPerSm = 4;

    /// <summary>Query rows per extend CTA (EA_BLOCK_M).</summary>
    public const int ExtendBlockM = 64;
    /// <summary>Keys per K/V tile (EA_BLOCK_N).</summary>
    public const int ExtendBlockN = 64;
    /// <summary>Threads per extend CTA (EA_THREADS): 4 warps of 16 query rows.</summary>
    public const int ExtendThreads = 128;

    /// <summary>Dynamic shared memory a kernel may use without CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.</summary>
    public const int DefaultSharedMemoryLimit = 48 * 1024;

    private const int MaxGridYZ = 65535;

    public AttentionKernels(int numHeads, int numKvHeads, int headDim)
    {
        if (numHeads <= 0 || numKvHeads <= 0 || headDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numHeads),
                $"Attention heads must be positive (got num_heads={numHeads}, num_kv_heads={numKvHeads}, head_dim={headDim}).");
        if (numHeads % numKvHeads != 0)
            throw new ArgumentException(
                $"num_heads ({numHeads}) must be a multiple of num_kv_heads ({numKvHeads}) for grouped-query attention.",
                nameof(numKvHeads));
        if (headDim < 16 || headDim > 256 || (headDim & (headDim - 1)) != 0)
            throw new NotSupportedException(
                $"The attention kernels support head_dim 16, 32, 64, 128 or 256 (got {headDim}).");
        NumHeads = numHeads;
        NumKvHeads = numKvHeads;
        HeadDim = headDim;
        if (DecodeStaticSharedMemoryBytes > DefaultSharedMemoryLimit)
            throw new NotSupportedException(
                $"decode_attention needs {DecodeStaticSharedMemoryBytes} bytes of static shared memory for {GroupSize} q heads " +
                $"per kv head at head_dim {headDim}; the limit is {DefaultSharedMemoryLimit}. Lower DA_MAX_SPLITS or split the group.");
    }

    public int NumHeads { get; }
    public int NumKvHeads { get; }
    public int HeadDim { get; }

    /// <summary>q heads per kv head (GQA ratio); q head h reads kv head h / GroupSize.</summary>
    public int GroupSize => NumHeads / NumKvHeads;

    /// <summary>The usual softmax scale 1/sqrt(head_dim), the kernels' <c>sm_scale</c> argument.</summary>
    public float DefaultSoftmaxScale => 1f / MathF.Sqrt(HeadDim);

    /// <summary>The -D constants that specialise both kernel sources on this model.</summary>
    public IReadOnlyDictionary<string, KernelConstant> Defines => new Dictionary<string, KernelConstant>
    {
        ["NUM_HEADS"] = NumHeads, ["NUM_KV_HEADS"] = NumKvHeads, ["HEAD_DIM"] = HeadDim,
    };

    /// <summary>Tokens one decode_attention CTA consumes per loop step (TILE of its body); split chunks are multiples of it.</summary>
    public int DecodeTileTokens => DecodeTileTokensOf(DecodeThreads);

    /// <summary>Static shared memory of decode_attention (DA_SMEM_BYTES); needs no opt-in.</summary>
    public int DecodeStaticSharedMemoryBytes => DecodeSharedMemoryOf(DecodeThreads);

    /// <summary>Threads of decode_attention_wide (DA_WIDE_THREADS): 512, 256 or 128, the most whose shared memory fits.</summary>
    public int DecodeWideThreads => new[] { 512, 256 }.FirstOrDefault(t => DecodeSharedMemoryOf(t) <= DefaultSharedMemoryLimit, DecodeThreads);

    /// <summary>
    /// Whether a decode batch takes decode_attention_wide: few requests (at most two CTAs per SM for one split of
    /// every request and kv head), where latency rules. There a context of up to two wide tiles (256 tokens at
    /// head_dim 128 with 512 threads) is one CTA per request and kv head, with no merge through global memory.
    /// </summary>
    public bool UseWideDecode(int batch, int smCount) => (long)batch * NumKvHeads * 2 <= smCount;

    private int DecodeTileTokensOf(int threads) => threads / (HeadDim / 8) * DecodeUnroll;

    /// <summary>DA_SMEM_FOR(threads): per q head of the group, each row group's partial state, three floats per merged
    /// state, the q head itself and its max and sum over the row groups, fp32.</summary>
    private int DecodeSharedMemoryOf(int threads) => (threads / (HeadDim / 8) * (HeadDim + 2) + 3 * (DecodeMaxSplits + DecodeMaxPrefixChunks) + HeadDim + 2) * GroupSize * 4;

    /// <summary>Dynamic shared memory of extend_attention (EA_SMEM_BYTES): the Q tile and one K and one V tile.</summary>
    public int ExtendSharedMemoryBytes => (ExtendBlockM + 2 * ExtendBlockN) * HeadDim * 2;

    /// <summary>True when the host must raise CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES before launching extend.</summary>
    public bool ExtendNeedsSharedMemoryOptIn => ExtendSharedMemoryBytes > DefaultSharedMemoryLimit;

    /// <summary>
    /// Splits of the KV sequence per (request, kv head) for one decode launch: enough CTAs to put
    /// <see cref="DecodeCtasPerSm"/> on every SM, no split shorter than <see cref="DecodeMinChunkTokens"/> of the longest
    /// request, at most <see cref="DecodeMaxSplits"/>, and batch * splits within the workspace's capacity of
    /// maxBatch * maxSplits partial rows (so a workspace sized for few splits still lets small batches split widely).
    /// </summary>
    public int DecodeNumSplits(int batch, int maxSeqLen, int smCount, int maxBatch, int maxSplits, bool wide = false)
    {
        if (batch <= 0 || batch > maxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), $"Decode batch {batch} must be in 1..{maxBatch} (the workspace's max batch).");
        if (smCount <= 0)
            throw new ArgumentOutOfRangeException(nameof(smCount), $"SM count must be positive (got {smCount}).");
        if (maxSplits <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxSplits), $"maxSplits must be positive (got {maxSplits}).");
        var ctasPerSplit = (long)batch * NumKvHeads;
        var threads = wide ? DecodeWideThreads : DecodeThreads;
        var ctasPerSm = Math.Max(1, DecodeCtasPerSm * DecodeThreads / threads);
        var bySm = (int)Math.Min(DecodeMaxSplits, ctasPerSm * (long)smCount / ctasPerSplit); // rounded down: no half-empty extra wave
        // The kernel's own minimum chunk: one tile, two for the wide entry point.
        var minChunk = Math.Max(DecodeMinChunkTokens, (wide ? 2 : 1) * DecodeTileTokensOf(threads));
        var byLength = (int)Math.Max(1, CeilDiv(Math.Max(1, maxSeqLen), minChunk));
        var byWorkspace = (int)Math.Min(DecodeMaxSplits, (long)maxBatch * maxSplits / batch);
        return Math.Max(1, Math.Min(Math.Min(bySm, byLength), byWorkspace));
    }

    /// <summary>Requests whose q rows fill one shared_prefix_attention Q tile (SP_TILE_REQUESTS = EA_BLOCK_M / GROUP).</summary>
    public int SharedPrefixTileRequests => ExtendBlockM / GroupSize;

    /// <summary>Work items per kv head that fill the GPU with shared_prefix_attention CTAs (as many per SM as decode's).</summary>
    public int SharedPrefixTargetItems(int smCount) => (int)CeilDiv((long)DecodeCtasPerSm * smCount, NumKvHeads);

    /// <summary>Bytes of the prefix partial states for decode batches of up to maxBatch rows: acc and (m, l) of every
    /// (row, chunk, q head), fp32 (decode_attention's prefix_partials).</summary>
    public long SharedPrefixPartialsBytes(int maxBatch) => (long)maxBatch * DecodeMaxPrefixChunks * NumHeads * (HeadDim + 2) * sizeof(float);

    /// <summary>Grid (min(maxItems, target items), NUM_KV_HEADS): the CTAs walk the step's work items, so a graph captured
    /// with it serves any plan. Block 128 and the extend kernel's dynamic shared memory.</summary>
    public KernelLaunchShape SharedPrefixLaunch(int maxItems, int smCount)
    {
        if (maxItems <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxItems), $"maxItems must be positive (got {maxItems}).");
        return new KernelLaunchShape(Math.Min(maxItems, SharedPrefixTargetItems(smCount)), NumKvHeads, 1, ExtendThreads, 1, 1, ExtendSharedMemoryBytes);
    }

    /// <summary>Bytes of the split counters at the start of the decode workspace (256-byte aligned); zero them once.</summary>
    public long DecodeCountersBytes(int maxBatch)
    {
        if (maxBatch <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxBatch), $"maxBatch must be positive (got {maxBatch}).");
        return AlignUp((long)maxBatch * NumKvHeads * sizeof(uint), 256);
    }

    /// <summary>
    /// Decode workspace bytes: counters (<see cref="DecodeCountersBytes"/>, zeroed once at allocation) followed by the
    /// partials area for maxBatch * maxSplits partial rows of NUM_HEADS * (HEAD_DIM + 2) floats. Pass the kernel
    /// <c>counters = ws</c> and <c>partials = ws + DecodeCountersBytes(maxBatch)</c>.
    /// </summary>
    public long DecodeWorkspaceBytes(int maxBatch, int maxSplits)
    {
        if (maxSplits <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxSplits), $"maxSplits must be positive (got {maxSplits}).");
        return DecodeCountersBytes(maxBatch) + (long)maxBatch * maxSplits * NumHeads * (HeadDim + 2) * sizeof(float);
    }

    /// <summary>Grid (batch, NUM_KV_HEADS, numSplits), block 128 (<see cref="DecodeWideThreads"/> for the wide entry
    /// point), no dynamic shared memory. Requests vary fastest, so
    /// the CTAs resident together are all requests' same head and split: requests that share a cached prefix (the
    /// same KV slots) can find it in L2 instead of each reading it from HBM.</summary>
    public KernelLaunchShape DecodeLaunch(int batch, int numSplits, bool wide = false)
    {
        if (batch <= 0 || batch > MaxGridYZ)
            throw new ArgumentOutOfRangeException(nameof(batch), $"Decode batch {batch} must be in 1..{MaxGridYZ}.");
        if (numSplits <= 0 || numSplits > DecodeMaxSplits)
            throw new ArgumentOutOfRangeException(nameof(numSplits), $"Decode splits {numSplits} must be in 1..{DecodeMaxSplits}.");
        return new KernelLaunchShape(batch, NumKvHeads, numSplits, wide ? DecodeWideThreads : DecodeThreads, 1, 1, 0);
    }

    /// <summary>Grid (NUM_HEADS, ceil(maxExtendLen / 64), batch), block 128, <see cref="ExtendSharedMemoryBytes"/>.</summary>
    public KernelLaunchShape ExtendLaunch(int batch, int maxExtendLen)
    {
        if (batch <= 0 || batch > MaxGridYZ)
            throw new ArgumentOutOfRangeException(nameof(batch), $"Extend batch {batch} must be in 1..{MaxGridYZ}.");
        if (maxExtendLen <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxExtendLen), $"maxExtendLen must be positive (got {maxExtendLen}).");
        var tiles = CeilDiv(maxExtendLen, ExtendBlockM);
        if (tiles > MaxGridYZ)
            throw new ArgumentOutOfRangeException(nameof(maxExtendLen),
                $"An extend of {maxExtendLen} tokens needs {tiles} query tiles, over the grid limit {MaxGridYZ}; chunk the prefill.");
        return new KernelLaunchShape(NumHeads, (int)tiles, batch, ExtendThreads, 1, 1, ExtendSharedMemoryBytes);
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static long AlignUp(long value, long alignment) => (value + alignment - 1) / alignment * alignment;
}
