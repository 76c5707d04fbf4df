// runtime_kernels.cu -- small kernels the CUDA model runner launches around the generated model.
#include <cuda_bf16.h>
#include "launch_overlap.cuh"
#include "tensor_core.cuh"
#include "gemv.cuh"

// Overlap scheduling: an input id -(r + 1) is a placeholder for the token the previous step sampled for its logits
// row r, which is still in `sampled` (the host launched this step before it had read that token).
static __device__ __forceinline__ int resolve_placeholder(int id, const int* __restrict__ sampled) { return id < 0 ? sampled[-id - 1] : id; }

// Decode: the step's first kernel copies its inputs, which the host staged in pinned memory, to their device buffer
// (`count4` int4s from the decode layout's start, at the same offsets in both), so that the step needs no copy call
// and no copy engine before it -- the kernels after it read them from the device, some before their wait, so the next
// launch must wait for this one to end. Placeholder input ids are resolved on the way. Each request's new KV slot goes
// into its req_to_token row (the host table learns it on its own; the device copy is updated here so a captured
// decode graph needs no per-request copies). Offsets in ints from the layout's start.
extern "C" __global__ void load_decode_inputs(const int4* __restrict__ staged, int4* __restrict__ inputs, int count4,
                                              const int* __restrict__ sampled, int ids, int rows, int* __restrict__ req_to_token,
                                              int stride, int req_pool_indices, int seq_lens, int out_cache_loc)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    wait_for_previous_kernel();
    const int* staged_ints = reinterpret_cast<const int*>(staged);
    if (i < rows) // read on their own rather than from `inputs`, so one PCIe round trip serves the whole kernel
        req_to_token[(long long)staged_ints[req_pool_indices + i] * stride + staged_ints[seq_lens + i] - 1] = staged_ints[out_cache_loc + i];
    if (i < count4)
    {
        int4 v = staged[i];
        int* e = reinterpret_cast<int*>(&v);
#pragma unroll
        for (int j = 0; j < 4; ++j)
            if (4 * i + j >= ids && 4 * i + j < ids + rows) e[j] = resolve_placeholder(e[j], sampled);
        inputs[i] = v;
    }
}

// Placeholder ids resolved in an extend step's uploaded inputs (a decode step's first kernel does it itself).
extern "C" __global__ void resolve_placeholder_ids(int* __restrict__ input_ids, int n, const int* __restrict__ sampled)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    wait_for_previous_kernel();
    allow_next_kernel();
    if (i < n) input_ids[i] = resolve_placeholder(input_ids[i], sampled);
}

// Greedy sampling: the index of the largest logit of each row (the first on ties, as torch.argmax; NaNs are passed
// over, and a row with nothing else gives 0). Grid (ceil(vocab / AM_BLOCK_ELEMENTS), rows), AM_THREADS threads: each
// block takes AM_BLOCK_ELEMENTS logits of a row, every thread's AM_VEC 16-byte loads in flight at once (one block per
// row walking 600 KB of Qwen3 logits took one load round trip per 4 KB), and merges its best into the row's state with
// a 64-bit atomicMax on a key that orders by value, then by lower index. The row's last block to finish writes the
// index and zeroes the state for the next launch, so `state` (one ArgmaxRowState per row) starts zeroed once. It
// writes the index to `out` (device memory, which the next step's placeholders read) and, unless null, to `host_out`:
// pinned host memory, so the host reads the step's tokens without a copy after it (a device-to-host copy started
// ~8 us after the kernel ended in a trace of Qwen3-0.6B's batch-1 step on the H100).
#define AM_THREADS 256
#define AM_VEC 4
#define AM_BLOCK_ELEMENTS (AM_THREADS * AM_VEC * 4)

struct ArgmaxRowState
{
    unsigned long long key; // 0: no candidate yet
    unsigned int blocks_done;
    unsigned int unused;
};

static __device__ __forceinline__ void argmax_take(float v, int i, float& best, int& index)
{
    if (v > best || (v == best && i < index)) { best = v; index = i; }
}

// Float order in the high word (sign flipped for positives, all bits for negatives; -0 counts as +0, as in the
// comparisons above), ~index in the low word so that the lower of two equal logits has the larger key.
static __device__ __forceinline__ unsigned long long argmax_key(float v, int i)
{
    unsigned int u = __float_as_uint(v == 0.0f ? 0.0f : v);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    return (unsigned long long)u << 32 | (unsigned int)~i;
}

extern "C" __global__ void __launch_bounds__(AM_THREADS) argmax_rows(const float* __restrict__ logits, int vocab, int* __restrict__ out,
                                                                     ArgmaxRowState* __restrict__ state, int* __restrict__ host_out)
{
    const float* row = logits + (long long)blockIdx.y * vocab;
    const int begin = blockIdx.x * AM_BLOCK_ELEMENTS;
    wait_for_previous_kernel();
    allow_next_kernel();
    float best = __int_as_float(0xff800000); // -inf: a row of -inf logits gives its first index
    int index = 0x7fffffff;
    if ((vocab & 3) == 0) // rows of whole 16-byte chunks (both targets' vocabularies)
    {
        const float nan = __int_as_float(0x7fffffff); // past the row: never taken
        float4 v[AM_VEC];
#pragma unroll
        for (int u = 0; u < AM_VEC; ++u)
        {
            const int i = begin + (u * AM_THREADS + threadIdx.x) * 4;
            v[u] = i < vocab ? __ldcg(reinterpret_cast<const float4*>(row + i)) : make_float4(nan, nan, nan, nan);
        }
#pragma unroll
        for (int u = 0; u < AM_VEC; ++u)
        {
            const int i = begin + (u * AM_THREADS + threadIdx.x) * 4;
            argmax_take(v[u].x, i, best, index);
            argmax_take(v[u].y, i + 1, best, index);
            argmax_take(v[u].z, i + 2, best, index);
            argmax_take(v[u].w, i + 3, best, index);
        }
    }
    else
    {
        for (int i = begin + threadIdx.x; i < min(begin + AM_BLOCK_ELEMENTS, vocab); i += AM_THREADS) argmax_take(row[i], i, best, index);
    }
    for (int o = 16; o > 0; o >>= 1)
        argmax_take(__shfl_xor_sync(0xffffffffu, best, o), __shfl_xor_sync(0xffffffffu, index, o), best, index);
    __shared__ float values[AM_THREADS / 32];
    __shared__ int indices[AM_THREADS / 32];
    if ((threadIdx.x & 31) == 0) { values[threadIdx.x >> 5] = best; indices[threadIdx.x >> 5] = index; }
    __syncthreads();
    if (threadIdx.x != 0) return;
    for (int w = 1; w < AM_THREADS / 32; ++w) argmax_take(values[w], indices[w], best, index);
    ArgmaxRowState* s = state + blockIdx.y;
    if (index != 0x7fffffff) atomicMax(&s->key, argmax_key(best, index));
    __threadfence(); // this block's key before its count
    if (atomicAdd(&s->blocks_done, 1u) != gridDim.x - 1) return;
    __threadfence(); // every block's key, counted, before the read
    const unsigned long long key = atomicExch(&s->key, 0ull);
    s->blocks_done = 0;
    const int token = key == 0 ? 0 : (int)~(unsigned int)key;
    out[blockIdx.y] = token;
    if (host_out) host_out[blockIdx.y] = token;
}

// The decode GEMV (gemv.cuh) on an input the previous kernel wrote.
#define GEMV_ENTRY(P)                                                                                                   \
    extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) gemv_bf16_p##P(                                      \
        const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ w, __nv_bfloat16* __restrict__ y_bf16, \
        float* __restrict__ y_f32, int M, int N, int K, int ksplit, int silu_gate)                                      \
    {                                                                                                                   \
        gemv<P>(x, w, y_bf16, y_f32, M, N, K, ksplit, silu_gate, [] {});                                                \
    }
GEMV_ENTRY(4)
GEMV_ENTRY(8)
// The bulk GEMV: x's rows copied into shared memory, where gemv_bulk reads them.
extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) gemv_bf16_bulk(
    const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ w, __nv_bfloat16* __restrict__ y_bf16,
    float* __restrict__ y_f32, int M, int N, int K, int ksplit, int silu_gate)
{
    extern __shared__ __align__(16) __nv_bfloat16 gemv_x[];
    gemv<0>(gemv_x, w, y_bf16, y_f32, M, N, K, ksplit, silu_gate, [&] {
        // Four loads in flight per thread before any store: one round trip to L2 per 16 KB of x (256 threads x 4 x 16
        // bytes), where one load then store per thread took one per 4 KB.
        const int chunks = M * K / 8;
        for (int i0 = threadIdx.x; i0 < chunks; i0 += 4 * blockDim.x)
        {
            uint4 v[4];
#pragma unroll
            for (int u = 0; u < 4; ++u)
                if (i0 + u * blockDim.x < chunks) v[u] = reinterpret_cast<const uint4*>(x)[i0 + u * blockDim.x];
#pragma unroll
            for (int u = 0; u < 4; ++u)
                if (i0 + u * blockDim.x < chunks) reinterpret_cast<uint4*>(gemv_x)[i0 + u * blockDim.x] = v[u];
        }
    });
}


// Skinny GEMM on tensor cores, for decode batches past what gemv serves: y[m, n] = sum_k x[m, k] * w[n, k].
// mma.sync m16n8k16 (bf16 in, fp32 accumulate) takes x as its A operand (16 batch rows per tile) and w as B (8 output
// features per tile). Lane (g = lane / 4, c = lane % 4) loads 16 bytes -- k = 8c .. 8c + 7 of a 32-k block -- of
// feature row g and of batch rows g and g + 8, and hands them to two mmas as the k positions its fragments hold
// (2c, 2c + 1, 2c + 8, 2c + 9). A dot product does not care which k the mma calls which, only that x and w agree, so
// every operand is one straight 16-byte load: no shared-memory staging, no shuffles, each weight read once.
// A warp computes MT x F tiles (16 MT rows, 8 F features) over a K / ksplit slice, with U k-blocks of weights in
// flight; the first U are loaded before waiting on the previous kernel (weights never depend on it). ksplit warps of
// a block share their features and add their slices through shared memory. K % (32 * ksplit) == 0; ksplit divides
// SK_WARPS. Entry point gemm_skinny_m16: M <= 16 (the harness also builds 32- and 64-row variants; at 32 and 64
// rows cuBLASLt made faster decode steps).
#define SK_WARPS 8

template <int MT, int F, int U>
static __device__ __forceinline__ void gemm_skinny(const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ w,
                                                   __nv_bfloat16* __restrict__ y_bf16, float* __restrict__ y_f32,
                                                   int M, int N, int K, int ksplit)
{
    __shared__ float s_partial[SK_WARPS][MT * F * 4][32];
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int g = lane >> 2, c = lane & 3;
    const int n0 = (blockIdx.x * (SK_WARPS / ksplit) + warp / ksplit) * 8 * F;
    const int slice = K / ksplit;
    const int blocks = slice / 32; // 32-k blocks of this warp's slice
    const int k0 = warp % ksplit * slice + 8 * c;

    const uint4* wrow[F];
    bool wok[F];
#pragma unroll
    for (int f = 0; f < F; ++f)
    {
        const int n = n0 + 8 * f + g;
        wok[f] = n < N;
        wrow[f] = reinterpret_cast<const uint4*>(w + (long long)(wok[f] ? n : 0) * K + k0);
    }
    const uint4 zero = make_uint4(0, 0, 0, 0);
    uint4 cur[U][F];
#pragma unroll
    for (int u = 0; u < U; ++u)
#pragma unroll
        for (int f = 0; f < F; ++f) cur[u][f] = u < blocks && wok[f] ? __ldg(wrow[f] + 4 * u) : zero;
    wait_for_previous_kernel(); // x is the previous kernel's output
    allow_next_kernel();

    const uint4* xrow[MT][2];
    bool xok[MT][2];
#pragma unroll
    for (int t = 0; t < MT; ++t)
#pragma unroll
        for (int h = 0; h < 2; ++h)
        {
            const int m = 16 * t + 8 * h + g;
            xok[t][h] = m < M;
            xrow[t][h] = reinterpret_cast<const uint4*>(x + (long long)(xok[t][h] ? m : 0) * K + k0);
        }
    float acc[MT][F][4];
#pragma unroll
    for (int t = 0; t < MT; ++t)
#pragma unroll
        for (int f = 0; f < F; ++f)
#pragma unroll
            for (int i = 0; i < 4; ++i) acc[t][f][i] = 0.0f;

    for (int b0 = 0; b0 < blocks; b0 += U)
    {
        uint4 next[U][F];
#pragma unroll
        for (int u = 0; u < U; ++u)
#pragma unroll
            for (int f = 0; f < F; ++f) next[u][f] = b0 + U + u < blocks && wok[f] ? __ldg(wrow[f] + 4 * (b0 + U + u)) : zero;
#pragma unroll
        for (int u = 0; u < U; ++u)
        {
            if (b0 + u >= blocks) break; // uniform over the warp: mma needs every lane
            uint4 xa[MT][2];
#pragma unroll
            for (int t = 0; t < MT; ++t)
#pragma unroll
                for (int h = 0; h < 2; ++h) xa[t][h] = xok[t][h] ? xrow[t][h][4 * (b0 + u)] : zero; // coherent: written by the previous kernel
#pragma unroll
            for (int t = 0; t < MT; ++t)
#pragma unroll
                for (int f = 0; f < F; ++f)
                {
                    mma_bf16(acc[t][f], {xa[t][0].x, xa[t][1].x, xa[t][0].y, xa[t][1].y}, cur[u][f].x, cur[u][f].y);
                    mma_bf16(acc[t][f], {xa[t][0].z, xa[t][1].z, xa[t][0].w, xa[t][1].w}, cur[u][f].z, cur[u][f].w);
                }
        }
#pragma unroll
        for (int u = 0; u < U; ++u)
#pragma unroll
            for (int f = 0; f < F; ++f) cur[u][f] = next[u][f];
    }

    if (ksplit > 1)
    {
#pragma unroll
        for (int t = 0; t < MT; ++t)
#pragma unroll
            for (int f = 0; f < F; ++f)
#pragma unroll
                for (int i = 0; i < 4; ++i) s_partial[warp][(t * F + f) * 4 + i][lane] = acc[t][f][i];
        __syncthreads();
        if (warp % ksplit != 0) return; // the slice-0 warp of each feature tile adds the others and writes
        for (int p = 1; p < ksplit; ++p)
#pragma unroll
            for (int t = 0; t < MT; ++t)
#pragma unroll
                for (int f = 0; f < F; ++f)
#pragma unroll
                    for (int i = 0; i < 4; ++i) acc[t][f][i] += s_partial[warp + p][(t * F + f) * 4 + i][lane];
    }
    // Accumulator i of tile (t, f) is row 16t + g (+ 8 for i >= 2), feature n0 + 8f + 2c (+ 1 for odd i).
#pragma unroll
    for (int t = 0; t < MT; ++t)
#pragma unroll
        for (int f = 0; f < F; ++f)
#pragma unroll
            for (int i = 0; i < 4; ++i)
            {
                const int m = 16 * t + g + (i >= 2 ? 8 : 0);
                const int n = n0 + 8 * f + 2 * c + (i & 1);
                if (m >= M || n >= N) continue;
                if (y_f32) y_f32[(long long)m * N + n] = acc[t][f][i];
                else y_bf16[(long long)m * N + n] = __float2bfloat16(acc[t][f][i]);
            }
}

#define GEMM_SKINNY_ENTRY(NAME, MT, F, U)                                                                              \
    extern "C" __global__ void __launch_bounds__(SK_WARPS * 32) NAME(                                                  \
        const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ w, __nv_bfloat16* __restrict__ y_bf16, \
        float* __restrict__ y_f32, int M, int N, int K, int ksplit)                                                    \
    {                                                                                                                  \
        gemm_skinny<MT, F, U>(x, w, y_bf16, y_f32, M, N, K, ksplit);                                                   \
    }
// The variant scripts/kernels/gemm_check.cu found fastest on the H100 at 16 rows (the host's
// SmallGemms.SkinnyFeaturesPerBlock knows its F).
GEMM_SKINNY_ENTRY(gemm_skinny_m16, 1, 1, 4)

// Tiled GEMM on tensor cores for up to 64 rows (decode batches up to 64 requests; on the H100 the tuner takes it at
// 2-64), where gemm_skinny's per-warp loads of x would cross L2 once per 8 features: y[m, n] = sum_k x[m, k] * w[n, k].
// A CTA computes all 64 rows (rows >= M are zero-filled) of GT_FEATURES features over K / S, streaming 64-wide k
// slices of x and w through a GT_STAGES-deep cp.async pipeline in XOR-swizzled shared memory; warp i owns rows
// 16i..16i+15. On sm_90a one warpgroup MMA per 16-wide k slice reads the tiles straight from shared memory (the
// swizzle is wgmma's 128-byte one); elsewhere ldmatrix (conflict-free) feeds mma.sync, warps past M idle.
// The first stages' weights are requested before waiting on the previous kernel. Few features (o_proj, down_proj:
// 1024) make too few CTAs to stream the weight at HBM speed, so K is split over the S CTAs of a thread-block cluster
// (sm_90), which add their partial tiles through distributed shared memory, each CTA summing and writing 64 / S rows
// in rank order (deterministic, no workspace). K % (64 * S) == 0. Grid (S, ceil(N / GT_FEATURES)), GT_THREADS threads,
// gt_shared_bytes(GT_FEATURES, GT_STAGES) of dynamic shared memory.
// The SiLU-gate entry points (gemm_tiled_silu_s{S}) take w as [gate; up], N rows in all, and write the gated MLP's
// y[m, n] = silu(gate[m, n]) * up[m, n] for n < N / 2 (y is N / 2 wide, bf16): each CTA multiplies GT_FEATURES / 2 gate
// rows and the same up rows, so both halves of an output meet in its epilogue and the kernel that would compute the
// gate from the full product (a launch, and the product's round trip through L2) is not needed. Gate and up are
// rounded to bf16 before the gate, as that kernel reads them. Grid (S, ceil(N / 2 / (GT_FEATURES / 2))).
// The norm entry points split the residual add + RMS norm kernel between two GEMMs (h = rms_norm(x + y) * gamma, x the
// fp32 residual) over their epilogues, so that kernel's launch and boundary drop out (the plan's NormEpilogue steps):
// gemm_tiled_add_norm_s{S} (o_proj, down_proj) rounds its product to bf16 (as that kernel reads it), adds it to the
// residual, stores the sum to residual_out and u = bf16(sum * gamma) to y, and each tile's sum of squares of every row
// over its features to row_sumsq[blockIdx.y][row]; the GEMM after it, gemm_tiled[_silu]_row_scale_s{S}, multiplies u
// and scales each row of its product by rsqrt(mean square + eps), the mean over the sumsq_tiles tiles summed in order
// (deterministic). The same as multiplying the normed rows, but for where the rounding to bf16 happens: u is rounded
// before the row's scale is applied, the kernel's h after. All norm entry points take GEMM_TILED_NORM_ARGS.
#define GT_ROWS 64
#define GT_BK 64
#define GT_THREADS 128
#define GT_FEATURES 64 // the runtime's entry points: features per CTA
// GT_STAGES, the pipeline's depth, comes from the host (SmallGemms.TiledStages: 8 on compute capability 9.0, 4
// elsewhere), which sizes the launches' shared memory by it; scripts/kernels/gemm_check.cu times others.
#ifndef GT_STAGES
#error "GT_STAGES (gemm_tiled's pipeline depth) must be defined by the host"
#endif

// Dynamic shared memory of a CTA: the pipeline's stages, reused for the fp32 partial tile (rows padded by 8 floats,
// so half-warps store it conflict-free).
static __host__ __device__ constexpr int gt_partial_stride(int features) { return features + 8; }
// (Not static: only the host's gemm_check.cu calls it, and NVRTC warns about unused static functions.)
__host__ __device__ constexpr int gt_shared_bytes(int features, int stages)
{
    return stages * (GT_ROWS + features) * GT_BK * 2 > GT_ROWS * gt_partial_stride(features) * 4
        ? stages * (GT_ROWS + features) * GT_BK * 2 : GT_ROWS * gt_partial_stride(features) * 4;
}

// Byte offset of 16-byte chunk c (of 8) in row r of a tile of 128-byte rows: chunks XOR the row's low bits, so the
// 8 rows one ldmatrix phase reads hit 8 distinct bank groups.
static __device__ __forceinline__ unsigned gt_swizzle(int r, int c) { return r * 128 + ((c ^ (r & 7)) << 4); }

// Cluster barrier: every thread of every CTA of the cluster arrives; shared-memory writes before it are visible to
// the cluster after it.
static __device__ __forceinline__ void gt_cluster_sync()
{
    asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}

static __device__ __forceinline__ float4 gt_load_partial(unsigned local, int rank, bool remote)
{
    float4 v;
    if (!remote)
    {
        asm volatile("ld.shared.v4.f32 {%0, %1, %2, %3}, [%4];" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(local));
        return v;
    }
    unsigned address;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(address) : "r"(local), "r"(rank));
    asm volatile("ld.shared::cluster.v4.f32 {%0, %1, %2, %3}, [%4];" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(address));
    return v;
}

// The partial tile's float4 at shared address `local`, summed over the cluster's S CTAs in rank order.
template <int S>
static __device__ __forceinline__ float4 gt_sum_partials(unsigned local)
{
    float4 sum = gt_load_partial(local, 0, S > 1);
#pragma unroll
    for (int s = 1; s < S; ++s)
    {
        const float4 v = gt_load_partial(local, s, true);
        sum.x += v.x; sum.y += v.y; sum.z += v.z; sum.w += v.w;
    }
    return sum;
}

// What a gemm_tiled entry point does after the product (the norm entry points above).
enum GtEpilogue { GT_PLAIN, GT_ADD_NORM, GT_ROW_SCALE };

// The norm entry points' arguments; unused ones are null (GT_PLAIN passes none of them).
struct GtNorm
{
    const float* residual;           // GT_ADD_NORM: x [M][N] fp32
    float* residual_out;             // GT_ADD_NORM: x + bf16(product) [M][N]
    const __nv_bfloat16* gamma;      // GT_ADD_NORM: the norm's weight [N]
    float* row_sumsq;                // GT_ADD_NORM writes, GT_ROW_SCALE reads: [tiles][GT_ROWS]
    int sumsq_tiles;                 // GT_ROW_SCALE: tiles of the GEMM before (its gridDim.y)
    float eps;                       // GT_ROW_SCALE
};

template <int F, int STAGES, int S, bool SILU_GATE, GtEpilogue EPI = GT_PLAIN>
static __device__ __forceinline__ void gemm_tiled(const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ w,
                                                  __nv_bfloat16* __restrict__ y_bf16, float* __restrict__ y_f32, int M, int N, int K,
                                                  GtNorm norm = {})
{
    static_assert(EPI != GT_ADD_NORM || !SILU_GATE, "the add + norm epilogue stores the whole product");
    static_assert(STAGES * (GT_ROWS + F) * GT_BK * 2 >= (GT_ROWS * gt_partial_stride(F) + GT_ROWS) * 4,
                  "the stages hold the partial tile and the rows' scales");
    constexpr int STAGE_BYTES = (GT_ROWS + F) * GT_BK * 2; // x rows, then w rows
    extern __shared__ __align__(1024) unsigned char gt_shared[]; // wgmma's swizzle is relative to 1024-byte blocks
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int rank = S > 1 ? (int)blockIdx.x : 0; // the CTA's K slice and rank in its cluster
    const int n0 = blockIdx.y * (SILU_GATE ? F / 2 : F); // the CTA's first output feature
    const int k_begin = rank * (K / S), steps = K / S / GT_BK;

    // Stage s of the pipeline: x rows at s * STAGE_BYTES, then w rows. Steps past the last load nothing.
    auto load_w = [&](int step) {
        if (step >= steps) return;
        unsigned char* tile = gt_shared + (step % STAGES) * STAGE_BYTES + GT_ROWS * 128;
        const __nv_bfloat16* src = w + k_begin + step * GT_BK;
#pragma unroll
        for (int j = 0; j < F * 8 / GT_THREADS; ++j)
        {
            const int r = (tid + j * GT_THREADS) >> 3, c = tid & 7;
            // SiLU gate: tile rows [0, F / 2) are gate rows n0.., the rest the up rows N / 2 + n0...
            const int n = SILU_GATE ? n0 + r % (F / 2) : n0 + r;
            const bool ok = n < (SILU_GATE ? N / 2 : N);
            const int w_row = SILU_GATE && r >= F / 2 ? N / 2 + n : n;
            cp_async16(tile + gt_swizzle(r, c), src + (long long)(ok ? w_row : 0) * K + 8 * c, ok);
        }
    };
    auto load_x = [&](int step) {
        if (step >= steps) return;
        unsigned char* tile = gt_shared + (step % STAGES) * STAGE_BYTES;
        const __nv_bfloat16* src = x + k_begin + step * GT_BK;
#pragma unroll
        for (int j = 0; j < GT_ROWS * 8 / GT_THREADS; ++j)
        {
            const int r = (tid + j * GT_THREADS) >> 3, c = tid & 7;
            cp_async16(tile + gt_swizzle(r, c), src + (long long)(r < M ? r : 0) * K + 8 * c, r < M);
        }
    };
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) load_w(s);
    wait_for_previous_kernel(); // x is the previous kernel's output
    allow_next_kernel();
#pragma unroll
    for (int s = 0; s < STAGES - 1; ++s) { load_x(s); cp_async_commit(); }
    // GT_ROW_SCALE: thread r < M computes row r's scale while the pipeline fills, its tiles' sums of squares requested
    // 16 at a time and added in order. One register stays live through the main loop: holding a value per row group
    // there (8 a thread) made the GEMM ~10 us slower (Qwen3-0.6B's qkv_proj at 8 rows, H100).
    float rstd = 1.0f;
    if constexpr (EPI == GT_ROW_SCALE)
        if (tid < M)
        {
            float ss = 0.0f;
            for (int t0 = 0; t0 < norm.sumsq_tiles; t0 += 16)
            {
                float part[16];
#pragma unroll
                for (int t = 0; t < 16; ++t) part[t] = t0 + t < norm.sumsq_tiles ? norm.row_sumsq[(t0 + t) * GT_ROWS + tid] : 0.0f;
#pragma unroll
                for (int t = 0; t < 16; ++t) ss += part[t];
            }
            rstd = rsqrtf(ss / (float)K + norm.eps);
        }

    float acc[F / 8][4];
#pragma unroll
    for (int j = 0; j < F / 8; ++j)
#pragma unroll
        for (int i = 0; i < 4; ++i) acc[j][i] = 0.0f;
    const bool active = warp * 16 < M; // uniform over the warp: mma needs every lane
    for (int step = 0; step < steps; ++step)
    {
        cp_async_wait<STAGES - 2>(); // this step's stage landed
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
        fence_proxy_async_shared(); // ... and is visible to wgmma
#endif
        __syncthreads(); // ... for every thread, and the stage loaded next was consumed by all warps
        load_w(step + STAGES - 1);
        load_x(step + STAGES - 1);
        cp_async_commit();
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
        static_assert(F == 64, "the warpgroup MMA is m64n64");
        const unsigned xs = (unsigned)__cvta_generic_to_shared(gt_shared + (step % STAGES) * STAGE_BYTES);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < GT_BK / 16; ++kk)
            wgmma_m64n64k16(acc, wgmma_desc_sw128(xs + 32 * kk), wgmma_desc_sw128(xs + GT_ROWS * 128 + 32 * kk));
        wgmma_commit();
        wgmma_wait_all(); // the next step's loads overwrite the stage before this one
#else
        if (!active) continue;
        const unsigned char* xs = gt_shared + (step % STAGES) * STAGE_BYTES;
        const unsigned char* ws = xs + GT_ROWS * 128;
#pragma unroll
        for (int kk = 0; kk < GT_BK / 16; ++kk)
        {
            unsigned a[4];
            ldmatrix_x4(a, xs + gt_swizzle(warp * 16 + (lane & 15), 2 * kk + (lane >> 4)));
#pragma unroll
            for (int p = 0; p < F / 16; ++p)
            {
                unsigned b[4]; // features 16p..16p+7 at k 0-7, 8-15, then 16p+8..16p+15 at k 0-7, 8-15
                ldmatrix_x4(b, ws + gt_swizzle(16 * p + (lane & 7) + ((lane >> 4) << 3), 2 * kk + ((lane >> 3) & 1)));
                mma_bf16(acc[2 * p], a, b[0], b[1]);
                mma_bf16(acc[2 * p + 1], a, b[2], b[3]);
            }
        }
#endif
    }
    cp_async_wait<0>();
    __syncthreads(); // the pipeline's shared memory now holds this CTA's partial tile

    // Accumulator i of tile j is row 16 warp + g (+ 8 for i >= 2), feature 8j + 2c (+ 1 for odd i).
    float* partial = reinterpret_cast<float*>(gt_shared);
    const int g = lane >> 2, c = lane & 3;
    if (active)
#pragma unroll
        for (int j = 0; j < F / 8; ++j)
#pragma unroll
            for (int h = 0; h < 2; ++h)
                *reinterpret_cast<float2*>(&partial[(warp * 16 + g + 8 * h) * gt_partial_stride(F) + 8 * j + 2 * c]) =
                    make_float2(acc[j][2 * h], acc[j][2 * h + 1]);
    float* row_scale = partial + GT_ROWS * gt_partial_stride(F); // GT_ROW_SCALE: the rows' scales, after the tile
    if (EPI == GT_ROW_SCALE && tid < M) row_scale[tid] = rstd;
    // GT_ADD_NORM: this thread's residual rows (the loop below: rows r_begin + i / 16, features f = (tid % 16) * 4, the
    // same in every round) and the norm's weight there, requested before the cluster's partial tiles are summed (not
    // before the main loop: values live through it slow the GEMM down, as above).
    constexpr int OUT = SILU_GATE ? F / 2 : F; // output features of the tile
    const int out_n = SILU_GATE ? N / 2 : N;
    const int r_begin = rank * (GT_ROWS / S), r_end = min(r_begin + GT_ROWS / S, M);
    constexpr int ROUNDS = ((GT_ROWS / S) * (OUT / 4) + GT_THREADS - 1) / GT_THREADS; // of the loop below
    float4 resid[EPI == GT_ADD_NORM ? ROUNDS : 1];
    float norm_w[4];
    if constexpr (EPI == GT_ADD_NORM)
#pragma unroll
        for (int e = 0; e < 4; ++e)
        {
            const int n = n0 + (tid & 15) * 4 + e;
            norm_w[e] = n < N ? __bfloat162float(norm.gamma[n]) : 0.0f;
        }
    if constexpr (EPI == GT_ADD_NORM)
#pragma unroll
        for (int q = 0; q < ROUNDS; ++q)
        {
            const int i = tid + q * GT_THREADS, r = r_begin + i / (OUT / 4), n = n0 + i % (OUT / 4) * 4;
            resid[q] = r < r_end && n + 3 < out_n ? *reinterpret_cast<const float4*>(norm.residual + (long long)r * out_n + n) : make_float4(0, 0, 0, 0);
        }
    if (S > 1) gt_cluster_sync();
    else __syncthreads();

    // This CTA sums and writes rows [rank * 64 / S, (rank + 1) * 64 / S) of the tile, 4 features per thread.
#pragma unroll
    for (int q = 0; q < ROUNDS; ++q)
    {
        const int i = tid + q * GT_THREADS;
        if (i >= (r_end - r_begin) * (OUT / 4)) break;
        const int r = r_begin + i / (OUT / 4), f = i % (OUT / 4) * 4;
        const unsigned local = (unsigned)__cvta_generic_to_shared(&partial[r * gt_partial_stride(F) + f]);
        const float4 sum = gt_sum_partials<S>(local);
        float values[4] = {sum.x, sum.y, sum.z, sum.w};
        const float scale = EPI == GT_ROW_SCALE ? row_scale[r] : 1.0f;
        if constexpr (SILU_GATE)
        {
            const float4 up = gt_sum_partials<S>(local + OUT * 4); // the up features, F / 2 columns on
            const float ups[4] = {up.x, up.y, up.z, up.w};
#pragma unroll
            for (int e = 0; e < 4; ++e) values[e] = gemv_silu_gate(values[e] * scale, ups[e] * scale); // gemv.cuh: the gate kernel's bits
        }
        else if constexpr (EPI == GT_ROW_SCALE)
        {
#pragma unroll
            for (int e = 0; e < 4; ++e) values[e] *= scale;
        }
        if constexpr (EPI == GT_ADD_NORM)
        {
            const float res[4] = {resid[q].x, resid[q].y, resid[q].z, resid[q].w};
            float ss = 0.0f;
#pragma unroll
            for (int e = 0; e < 4; ++e)
            {
                const int n = n0 + f + e;
                if (n >= out_n) break;
                const long long at = (long long)r * out_n + n;
                const float sum_x = (n0 + f + 3 < out_n ? res[e] : norm.residual[at]) + __bfloat162float(__float2bfloat16(values[e]));
                norm.residual_out[at] = sum_x;
                y_bf16[at] = __float2bfloat16(sum_x * norm_w[e]);
                ss += sum_x * sum_x;
            }
            // The OUT / 4 threads of a row are consecutive lanes of one warp (OUT / 4 = 16): sum them in a fixed order.
            static_assert(OUT / 4 == 16, "a row's threads are a half warp");
            const unsigned half = 0xffffu << (lane & 16);
#pragma unroll
            for (int o = 8; o > 0; o >>= 1) ss += __shfl_xor_sync(half, ss, o);
            if (f == 0) norm.row_sumsq[blockIdx.y * GT_ROWS + r] = ss;
            continue;
        }
#pragma unroll
        for (int e = 0; e < 4; ++e)
        {
            const int n = n0 + f + e;
            if (n >= out_n) break;
            if (y_f32) y_f32[(long long)r * out_n + n] = values[e];
            else y_bf16[(long long)r * out_n + n] = __float2bfloat16(values[e]);
        }
    }
    if (S > 1) gt_cluster_sync(); // the cluster has read this CTA's partial tile: its shared memory may go
}

#define GEMM_TILED_ARGS                                                                                                \
    const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ w, __nv_bfloat16* __restrict__ y_bf16,     \
        float* __restrict__ y_f32, int M, int N, int K
// A variant with split S runs in clusters of S CTAs (sm_90).
#define GEMM_TILED_ENTRY(NAME, F, STAGES, S, SILU_GATE)                                                                 \
    extern "C" __global__ void __cluster_dims__(S, 1, 1) __launch_bounds__(GT_THREADS) NAME(GEMM_TILED_ARGS)           \
    {                                                                                                                   \
        gemm_tiled<F, STAGES, S, SILU_GATE>(x, w, y_bf16, y_f32, M, N, K);                                              \
    }
extern "C" __global__ void __launch_bounds__(GT_THREADS) gemm_tiled_s1(GEMM_TILED_ARGS)
{
    gemm_tiled<GT_FEATURES, GT_STAGES, 1, false>(x, w, y_bf16, y_f32, M, N, K);
}
extern "C" __global__ void __launch_bounds__(GT_THREADS) gemm_tiled_silu_s1(GEMM_TILED_ARGS)
{
    gemm_tiled<GT_FEATURES, GT_STAGES, 1, true>(x, w, y_bf16, y_f32, M, N, K);
}
#define GEMM_TILED_NORM_ARGS                                                                                           \
    GEMM_TILED_ARGS, const float* __restrict__ residual, float* __restrict__ residual_out,                             \
        const __nv_bfloat16* __restrict__ gamma, float* __restrict__ row_sumsq, int sumsq_tiles, float eps
#define GEMM_TILED_NORM_BODY(S, SILU_GATE, EPI)                                                                         \
    gemm_tiled<GT_FEATURES, GT_STAGES, S, SILU_GATE, EPI>(x, w, y_bf16, y_f32, M, N, K,                              \
                                                          GtNorm{residual, residual_out, gamma, row_sumsq, sumsq_tiles, eps})
#define GEMM_TILED_NORM_ENTRY(NAME, S, SILU_GATE, EPI)                                                                  \
    extern "C" __global__ void __cluster_dims__(S, 1, 1) __launch_bounds__(GT_THREADS) NAME(GEMM_TILED_NORM_ARGS)     \
    {                                                                                                                   \
        GEMM_TILED_NORM_BODY(S, SILU_GATE, EPI);                                                                        \
    }
extern "C" __global__ void __launch_bounds__(GT_THREADS) gemm_tiled_add_norm_s1(GEMM_TILED_NORM_ARGS)
{
    GEMM_TILED_NORM_BODY(1, false, GT_ADD_NORM);
}
extern "C" __global__ void __launch_bounds__(GT_THREADS) gemm_tiled_row_scale_s1(GEMM_TILED_NORM_ARGS)
{
    GEMM_TILED_NORM_BODY(1, false, GT_ROW_SCALE);
}
extern "C" __global__ void __launch_bounds__(GT_THREADS) gemm_tiled_silu_row_scale_s1(GEMM_TILED_NORM_ARGS)
{
    GEMM_TILED_NORM_BODY(1, true, GT_ROW_SCALE);
}
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900 // thread-block clusters
GEMM_TILED_ENTRY(gemm_tiled_s2, GT_FEATURES, GT_STAGES, 2, false)
GEMM_TILED_ENTRY(gemm_tiled_s4, GT_FEATURES, GT_STAGES, 4, false)
GEMM_TILED_ENTRY(gemm_tiled_s8, GT_FEATURES, GT_STAGES, 8, false)
GEMM_TILED_ENTRY(gemm_tiled_silu_s2, GT_FEATURES, GT_STAGES, 2, true)
GEMM_TILED_ENTRY(gemm_tiled_silu_s4, GT_FEATURES, GT_STAGES, 4, true)
GEMM_TILED_ENTRY(gemm_tiled_silu_s8, GT_FEATURES, GT_STAGES, 8, true)
GEMM_TILED_NORM_ENTRY(gemm_tiled_add_norm_s2, 2, false, GT_ADD_NORM)
GEMM_TILED_NORM_ENTRY(gemm_tiled_add_norm_s4, 4, false, GT_ADD_NORM)
GEMM_TILED_NORM_ENTRY(gemm_tiled_add_norm_s8, 8, false, GT_ADD_NORM)
GEMM_TILED_NORM_ENTRY(gemm_tiled_row_scale_s2, 2, false, GT_ROW_SCALE)
GEMM_TILED_NORM_ENTRY(gemm_tiled_row_scale_s4, 4, false, GT_ROW_SCALE)
GEMM_TILED_NORM_ENTRY(gemm_tiled_row_scale_s8, 8, false, GT_ROW_SCALE)
GEMM_TILED_NORM_ENTRY(gemm_tiled_silu_row_scale_s2, 2, true, GT_ROW_SCALE)
GEMM_TILED_NORM_ENTRY(gemm_tiled_silu_row_scale_s4, 4, true, GT_ROW_SCALE)
GEMM_TILED_NORM_ENTRY(gemm_tiled_silu_row_scale_s8, 8, true, GT_ROW_SCALE)
#endif
