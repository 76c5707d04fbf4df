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
// streaming a long row needs. K % (8 * KSPLIT) == 0; KSPLIT divides GEMV_WARPS. PREFETCH 0 is the bulk GEMV
// (gemv_bulk; entry points gemv_bf16_bulk and the prologue kernels' _bulk), which ignores KSPLIT.
// y is bf16 (y_bf16) or fp32 (y_f32, for logits): exactly one of them is non-null.
// silu_gate (the bulk GEMV's; bf16 y only): w is [gate; up], N rows in all, and y the gated MLP's N / 2 wide
// y[m, j] = silu(gate[m, j]) * up[m, j] -- the SiLU gate kernel after gate_up_proj, folded in (gemv_silu_gate). The
// streamed GEMV takes none: with its warps taking gate and up rows in pairs, Qwen3-0.6B's batch-1 step on the H100 was
// 0.93 ms against 0.90 with the gate kernel after it.
// `prologue()` runs after the wait, in every thread, before x is read: a generated kernel that fuses the kernel
// producing x (e.g. residual add + RMS norm) computes x there, into shared memory (so x is not __restrict__ here);
// the plain GEMV passes a no-op.
#define GEMV_MAX_M 8
#define GEMV_WARPS 8

// The gate of a gated MLP from the GEMM's sums (the bulk GEMV's and gemm_tiled_silu's epilogues): gate and up rounded
// to bf16 first, as the gate kernel reads them from memory, and its expression, so the fused launch gives its bits.
static __device__ __forceinline__ float gemv_silu_gate(float gate, float up)
{
    const float g = __bfloat162float(__float2bfloat16(gate)), u = __bfloat162float(__float2bfloat16(up));
    return g / (1.0f + expf(-g)) * u;
}

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

// The bulk GEMV (PREFETCH 0 of gemv below, sm_90): each block owns a contiguous run of ceil(N / gridDim.x) output
// features, whose weight rows are one contiguous slice of w, and copies that whole slice into shared memory with bulk
// copies (the TMA engine, completing on one mbarrier) before waiting on the previous kernel. The grid is a block or
// two per SM (the host's choice), so where the weights fit the GPU's shared memory (Qwen3-0.6B's layer GEMMs: 4-12.6
// MB) every byte is requested before the wait, and the next kernel's blocks fit beside these and start their own
// copies early; the streamed GEMV's 512-768 blocks fill every SM's registers (four blocks of 8 warps at 64 registers
// a thread), so the GEMM after one cannot start before it drains. Dynamic shared memory: x's M rows of K (the
// prologue writes them there: x must be the dynamic shared memory's base), then the slice at the next 128 bytes
// (host: SmallGemms.GemvBulkSharedBytes). Each warp takes every GEMV_WARPS-th feature of the run, lane l summing
// chunks l + 32 u as gemv does. Gated, a block owns a run of output features j and copies two slices, gate rows j and
// up rows N / 2 + j, one after the other; a warp then sums the feature's gate and up rows together.
static __device__ __forceinline__ unsigned gemv_shared_address(const void* p) { return (unsigned)__cvta_generic_to_shared(p); }

template <bool SILU_GATE, class Prologue>
static __device__ __forceinline__ void gemv_bulk(const __nv_bfloat16* x, const __nv_bfloat16* __restrict__ w,
                                                 __nv_bfloat16* __restrict__ y_bf16, float* __restrict__ y_f32, int M, int N, int K,
                                                 Prologue prologue)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    __shared__ __align__(8) unsigned long long s_weights_landed;
    const int out_n = SILU_GATE ? N / 2 : N;
    const int per_block = (out_n + gridDim.x - 1) / gridDim.x;
    const int n0 = blockIdx.x * per_block, rows = max(0, min(out_n, n0 + per_block) - n0); // output features j
    const __nv_bfloat16* ws = reinterpret_cast<const __nv_bfloat16*>(reinterpret_cast<const char*>(x) + (M * K * 2 + 127) / 128 * 128);
    const unsigned barrier = gemv_shared_address(&s_weights_landed);
    if (threadIdx.x == 0)
    {
        asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(barrier));
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
        if (rows > 0)
        {
            const unsigned bytes = (unsigned)rows * K * 2; // of each slice
            asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(barrier), "r"(SILU_GATE ? 2 * bytes : bytes) : "memory");
            for (int slice = 0; slice < (SILU_GATE ? 2 : 1); ++slice)
            {
                const char* src = reinterpret_cast<const char*>(w + ((long long)slice * out_n + n0) * K);
                const unsigned dst = gemv_shared_address(ws) + slice * bytes;
                for (unsigned off = 0; off < bytes; off += 16384) // several copies in flight
                    asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];"
                                 ::"r"(dst + off), "l"(src + off), "r"(min(16384u, bytes - off)), "r"(barrier) : "memory");
            }
        }
    }
    wait_for_previous_kernel(); // x is the previous kernel's output
    allow_next_kernel();
    prologue(); // x's rows into shared memory
    __syncthreads(); // ... for every warp, and the barrier's initialisation
    if (rows == 0) return;
    for (unsigned landed = 0; !landed;)
        asm volatile("{\n\t.reg .pred p;\n\tmbarrier.try_wait.parity.shared::cta.b64 p, [%1], 0;\n\tselp.u32 %0, 1, 0, p;\n\t}"
                     : "=r"(landed) : "r"(barrier) : "memory");
    const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    for (int f = warp; f < rows; f += GEMV_WARPS)
    {
        float acc[GEMV_MAX_M], up[GEMV_MAX_M];
#pragma unroll
        for (int m = 0; m < GEMV_MAX_M; ++m) acc[m] = up[m] = 0.0f;
        const uint4* row = reinterpret_cast<const uint4*>(ws + (long long)f * K);
        const uint4* up_row = reinterpret_cast<const uint4*>(ws + (long long)(rows + f) * K);
        for (int c = lane; c < K / 8; c += 32)
        {
            gemv_accumulate(row[c], c, x, M, K, acc);
            if constexpr (SILU_GATE) gemv_accumulate(up_row[c], c, x, M, K, up);
        }
#pragma unroll
        for (int m = 0; m < GEMV_MAX_M; ++m)
        {
            if (m >= M) break;
            float v = acc[m], u = up[m];
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            if constexpr (SILU_GATE)
            {
                for (int o = 16; o > 0; o >>= 1) u += __shfl_xor_sync(0xffffffffu, u, o);
                v = gemv_silu_gate(v, u);
            }
            if (lane != 0) continue;
            if (y_f32) y_f32[(long long)m * out_n + n0 + f] = v;
            else y_bf16[(long long)m * out_n + n0 + f] = __float2bfloat16(v);
        }
    }
#else
    __trap(); // bulk copies and mbarrier transaction counts need sm_90; the host takes this GEMV only there
#endif
}

template <int PREFETCH, class Prologue>
static __device__ __forceinline__ void gemv_streamed(const __nv_bfloat16* x, const __nv_bfloat16* __restrict__ w,
                                                     __nv_bfloat16* __restrict__ y_bf16, float* __restrict__ y_f32, int M, int N,
                                                     int K, int ksplit, Prologue prologue)
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

template <int PREFETCH, class Prologue>
static __device__ __forceinline__ void gemv(const __nv_bfloat16* x, const __nv_bfloat16* __restrict__ w,
                                            __nv_bfloat16* __restrict__ y_bf16, float* __restrict__ y_f32, int M, int N, int K,
                                            int ksplit, int silu_gate, Prologue prologue)
{
    // The bulk GEMV's gate is compiled apart: a run-time branch in its loop made the ungated GEMMs slower (Qwen3-0.6B's
    // batch-2 step, every shape but gate_up_proj on it, 0.98-1.00 ms against 0.94-0.95 on the H100).
    if constexpr (PREFETCH == 0)
    {
        if (silu_gate) gemv_bulk<true>(x, w, y_bf16, y_f32, M, N, K, prologue);
        else gemv_bulk<false>(x, w, y_bf16, y_f32, M, N, K, prologue);
    }
    else gemv_streamed<PREFETCH>(x, w, y_bf16, y_f32, M, N, K, ksplit, prologue); // no gate (see silu_gate above)
}

#endif // GEMV_CUH
