// gemv.cuh -- the decode GEMV, shared by runtime_kernels.cu (gemv_bf16_p{4,8}) and the generated model sources,
// whose GEMV prologue kernels compute the GEMV's input themselves (see gemv's `prologue`).
#ifndef GEMV_CUH
#define GEMV_CUH
#include <cuda_bf16.h>
#include "launch_overlap.cuh"

// Small-batch GEMM on CUDA cores: y[m, n] = sum_k x[m, k] * w[n, k] for m < M <= GEMV_MAX_M. At decode batch sizes
// the weights are read once and the work is bandwidth-bound, where tensor-core GEMMs leave bandwidth unused.
// KSPLIT warps share output feature n, each summing a K / KSPLIT slice of w's row (16-byte chunks c = lane + 32 u of
// its slice), combined through shared memory: few output features (N) still put enough loads in flight to cover the
// memory latency. The first PREFETCH chunks per lane are loaded before waiting on the previous kernel (weights never
// depend on it), so under programmatic dependent launch the weight stream overlaps the kernels before; the rest
// stream four in flight. Entry points gemv_bf16_p{4,8}: the host takes p8 where it covers a whole slice
// (K / KSPLIT <= 2048) and p4 otherwise -- deeper prefetch costs registers, and with them the occupancy that
// streaming a long row needs. K % (8 * KSPLIT) == 0; KSPLIT divides GEMV_WARPS.
// y is bf16 (y_bf16) or fp32 (y_f32, for logits): exactly one of them is non-null.
// `prologue()` runs after the wait, in every thread, before x is read: a generated kernel that fuses the kernel
// producing x (e.g. residual add + RMS norm) computes x there, into shared memory (so x is not __restrict__ here);
// the plain GEMV passes a no-op.
#define GEMV_MAX_M 8
#define GEMV_WARPS 8

static __device__ __forceinline__ void gemv_unpack(const uint4 v, float (&f)[8])
{
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
    for (int i = 0; i < 4; ++i) { const float2 p = __bfloat1622float2(h[i]); f[2 * i] = p.x; f[2 * i + 1] = p.y; }
}

// acc[m] += w chunk . x[m] chunk c for every row m < M.
static __device__ __forceinline__ void gemv_accumulate(const uint4 wv, int c, const __nv_bfloat16* __restrict__ x, int M, int K,
                                                       float (&acc)[GEMV_MAX_M])
{
    float wf[8];
    gemv_unpack(wv, wf);
#pragma unroll
    for (int m = 0; m < GEMV_MAX_M; ++m)
    {
        if (m >= M) break;
        float xf[8];
        // A plain (coherent) load: the previous kernel wrote x, so not the read-only path; L1 serves the block's warps.
        gemv_unpack(reinterpret_cast<const uint4*>(x + (long long)m * K)[c], xf);
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[m] = fmaf(wf[j], xf[j], acc[m]);
    }
}

template <int PREFETCH, class Prologue>
static __device__ __forceinline__ void gemv(const __nv_bfloat16* x, const __nv_bfloat16* __restrict__ w,
                                            __nv_bfloat16* __restrict__ y_bf16, float* __restrict__ y_f32, int M, int N, int K,
                                            int ksplit, Prologue prologue)
{
    __shared__ float s_partial[GEMV_WARPS][GEMV_MAX_M];
    const int warp = threadIdx.x >> 5;
    const int lane = threadIdx.x & 31;
    const int n = blockIdx.x * (GEMV_WARPS / ksplit) + warp / ksplit;
    const bool active = n < N; // idle warps still pass the wait and the barrier below
    const int chunks = K / 8 / ksplit;          // this warp's slice of the row, in 16-byte chunks
    const int first = warp % ksplit * chunks;   // the slice's first chunk
    const uint4* row = reinterpret_cast<const uint4*>(w + (long long)(active ? n : 0) * K) + first;
    uint4 early[PREFETCH];
#pragma unroll
    for (int u = 0; u < PREFETCH; ++u)
    {
        const int c = lane + u * 32;
        early[u] = active && c < chunks ? __ldg(row + c) : make_uint4(0, 0, 0, 0);
    }
    wait_for_previous_kernel(); // x is the previous kernel's output
    allow_next_kernel();
    prologue();

    float acc[GEMV_MAX_M];
#pragma unroll
    for (int m = 0; m < GEMV_MAX_M; ++m) acc[m] = 0.0f;
    if (active)
    {
#pragma unroll
        for (int u = 0; u < PREFETCH; ++u)
        {
            const int c = lane + u * 32;
            if (c < chunks) gemv_accumulate(early[u], first + c, x, M, K, acc);
        }
        for (int c0 = lane + PREFETCH * 32; c0 < chunks; c0 += 32 * 4)
        {
            uint4 wv[4];
#pragma unroll
            for (int u = 0; u < 4; ++u) { const int c = c0 + u * 32; wv[u] = c < chunks ? __ldg(row + c) : make_uint4(0, 0, 0, 0); }
#pragma unroll
            for (int u = 0; u < 4; ++u)
            {
                const int c = c0 + u * 32;
                if (c < chunks) gemv_accumulate(wv[u], first + c, x, M, K, acc);
            }
        }
    }
#pragma unroll
    for (int m = 0; m < GEMV_MAX_M; ++m)
    {
        if (m >= M) break;
        float v = acc[m];
        for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
        acc[m] = v;
    }
    if (ksplit > 1)
    {
        if (lane < M)
        {
#pragma unroll
            for (int m = 0; m < GEMV_MAX_M; ++m) if (m == lane) s_partial[warp][m] = acc[m];
        }
        __syncthreads();
        // The slice-0 warp of each feature adds the other slices' sums, one row m per lane.
        if (!active || warp % ksplit != 0 || lane >= M) return;
        float v = 0.0f;
        for (int p = 0; p < ksplit; ++p) v += s_partial[warp + p][lane];
        if (y_f32) y_f32[(long long)lane * N + n] = v;
        else y_bf16[(long long)lane * N + n] = __float2bfloat16(v);
        return;
    }
    if (!active || lane != 0) return;
#pragma unroll
    for (int m = 0; m < GEMV_MAX_M; ++m)
    {
        if (m >= M) break;
        if (y_f32) y_f32[(long long)m * N + n] = acc[m];
        else y_bf16[(long long)m * N + n] = __float2bfloat16(acc[m]);
    }
}

#endif // GEMV_CUH
