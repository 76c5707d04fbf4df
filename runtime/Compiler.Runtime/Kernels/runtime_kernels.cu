// runtime_kernels.cu -- small kernels the CUDA model runner launches around the generated model.
#include <cuda_bf16.h>
#include "launch_overlap.cuh"
#include "gemv.cuh"

// Decode: the KV slot of each request's new token goes into its req_to_token row (the host table learns it on its
// own; the device copy is updated here so a captured decode graph needs no per-request copies).
extern "C" __global__ void assign_decode_slots(int* __restrict__ req_to_token, int stride,
                                               const int* __restrict__ req_pool_indices, const int* __restrict__ seq_lens,
                                               const int* __restrict__ out_cache_loc, int batch)
{
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    wait_for_previous_kernel();
    allow_next_kernel();
    if (b < batch) req_to_token[(long long)req_pool_indices[b] * stride + seq_lens[b] - 1] = out_cache_loc[b];
}

// Overlap scheduling: an input id -(r + 1) is a placeholder for the token the previous step sampled for its logits
// row r, which is still in `sampled` (the host launched this step before it had read that token).
extern "C" __global__ void resolve_placeholder_ids(int* __restrict__ input_ids, int n, const int* __restrict__ sampled)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    wait_for_previous_kernel();
    allow_next_kernel();
    if (i < n && input_ids[i] < 0) input_ids[i] = sampled[-input_ids[i] - 1];
}

// Greedy sampling: the index of the largest logit of each row (first one on ties, as torch.argmax).
extern "C" __global__ void __launch_bounds__(1024) argmax_rows(const float* __restrict__ logits, int vocab, int* __restrict__ out)
{
    const float* row = logits + (long long)blockIdx.x * vocab;
    wait_for_previous_kernel();
    allow_next_kernel();
    float best = -3.402823466e38f;
    int index = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x)
    {
        const float v = row[i];
        if (v > best) { best = v; index = i; }
    }
    for (int o = 16; o > 0; o >>= 1)
    {
        const float v = __shfl_xor_sync(0xffffffffu, best, o);
        const int j = __shfl_xor_sync(0xffffffffu, index, o);
        if (v > best || (v == best && j < index)) { best = v; index = j; }
    }
    __shared__ float values[32];
    __shared__ int indices[32];
    if ((threadIdx.x & 31) == 0) { values[threadIdx.x >> 5] = best; indices[threadIdx.x >> 5] = index; }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        for (int w = 1; w < (int)(blockDim.x >> 5); ++w)
            if (values[w] > best || (values[w] == best && indices[w] < index)) { best = values[w]; index = indices[w]; }
        out[blockIdx.x] = index;
    }
}

// The decode GEMV (gemv.cuh) on an input the previous kernel wrote.
#define GEMV_ENTRY(P)                                                                                                   \
    extern "C" __global__ void __launch_bounds__(GEMV_WARPS * 32) gemv_bf16_p##P(                                      \
        const __nv_bfloat16* __restrict__ x, const __nv_bfloat16* __restrict__ w, __nv_bfloat16* __restrict__ y_bf16, \
        float* __restrict__ y_f32, int M, int N, int K, int ksplit)                                                     \
    {                                                                                                                   \
        gemv<P>(x, w, y_bf16, y_f32, M, N, K, ksplit, [] {});                                                           \
    }
GEMV_ENTRY(4)
GEMV_ENTRY(8)


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

static __device__ __forceinline__ void sk_mma(float (&d)[4], unsigned a0, unsigned a1, unsigned a2, unsigned a3, unsigned b0, unsigned b1)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
#else
    __trap(); // bf16 mma needs sm_80; the host takes this kernel only there
#endif
}

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
                    sk_mma(acc[t][f], xa[t][0].x, xa[t][1].x, xa[t][0].y, xa[t][1].y, cur[u][f].x, cur[u][f].y);
                    sk_mma(acc[t][f], xa[t][0].z, xa[t][1].z, xa[t][0].w, xa[t][1].w, cur[u][f].z, cur[u][f].w);
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
