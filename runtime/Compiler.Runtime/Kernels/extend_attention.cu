// extend_attention.cu -- causal prefill / chunked-prefill / mixed-batch attention over the token-granular KV
// pool, FlashAttention-2 style on bf16 tensor cores (mma.sync.m16n8k16, fp32 accumulate).
//
// Request b has extend_len = qo_indptr[b+1] - qo_indptr[b] new tokens at positions prefix_lens[b] ..
// prefix_lens[b] + extend_len - 1; their K/V (and the prefix's) are already in the cache. New token i attends
// to cached positions 0 .. prefix_lens[b] + i (the prefix fully, the new tokens causally).
//
// Compile-time constants (NVRTC / nvcc -D): NUM_HEADS, NUM_KV_HEADS, HEAD_DIM.
//   NUM_HEADS % NUM_KV_HEADS == 0; HEAD_DIM a power of two in [16, 256].
//
// Entry point: extend_attention
//   q                [total_q][NUM_HEADS][HEAD_DIM] bf16 (roped), request b's rows at qo_indptr[b] ..
//   k_cache, v_cache [num_slots][NUM_KV_HEADS][HEAD_DIM] bf16 (one layer)
//   req_to_token     int32; slots of request r at req_to_token[r * req_to_token_stride + pos]
//   req_pool_indices [batch] int32
//   qo_indptr        [batch + 1] int32, qo_indptr[0] = 0
//   prefix_lens      [batch] int32 (tokens already cached before this extend)
//   o                [total_q][NUM_HEADS][HEAD_DIM] bf16
//   sm_scale         softmax scale, usually 1/sqrt(HEAD_DIM)
//
// Launch: grid (NUM_HEADS, ceil(max_extend_len / EA_BLOCK_M), batch), block EA_THREADS (128),
//   dynamic shared memory EA_SMEM_BYTES = (EA_BLOCK_M + 2 * EA_BLOCK_N) * HEAD_DIM * 2 bytes
//   (48 KiB at HEAD_DIM 128; above 48 KiB, i.e. HEAD_DIM 256, the host must first raise
//   CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES). max_extend_len is the longest extend of the batch;
//   CTAs whose Q tile lies past their request's extend_len exit at once. Heads are the fastest grid
//   dimension so the GROUP q heads that share a kv head run together and K/V tiles are reused from L2;
//   Q tiles are visited last-first because the last tiles of a causal request carry the most work.
//
// CTA: one (request, q head, tile of EA_BLOCK_M = 64 query rows); 4 warps own 16 rows each. K/V tiles of
// EA_BLOCK_N = 64 tokens are gathered row by row through req_to_token with cp.async (zero-filled past the
// end) into XOR-swizzled shared memory (conflict-free ldmatrix). Pipeline (single buffer each for K and V):
// V(j) streams in while S = Q K(j)^T and the softmax run, K(j+1) streams in while O += P V(j).
// Online softmax in fp32, log2 domain, exp2f; P is rounded to bf16 for the second MMA.
//
// Entry point: shared_prefix_attention -- the shared half of cascade decode attention. The decode q rows of up to
// SP_TILE_REQUESTS = EA_BLOCK_M / GROUP requests whose first P cached tokens are the same KV slots (a prompt prefix
// matched in the radix cache) attend to one chunk of that prefix together, as one Q tile of (request, q head) rows:
// each K/V tile is read once for the group, and on tensor cores. Each row leaves an unnormalised partial state that
// decode_attention merges with its own pass over the request's tokens from P on.
//   q                [batch][NUM_HEADS][HEAD_DIM] bf16, the decode step's q
//   tiles            [tiles][SP_TILE_REQUESTS] int32: batch rows of requests sharing a prefix, -1 after the last
//   work             int32: [0] = items, then from [4] one int4 {tile, chunk, start, end} per item: keys start .. end - 1
//                    of the prefix (the slots of the tile's first request), written as the rows' partial `chunk`
//   partials         fp32 acc [batch][max_chunks][NUM_HEADS][HEAD_DIM] then (m, l) [batch][max_chunks][NUM_HEADS][2],
//                    m in log2 units (decode_attention's prefix_partials)
// Launch: grid (any number of CTAs, NUM_KV_HEADS), block EA_THREADS, dynamic shared memory EA_SMEM_BYTES; the CTAs
//   walk the work items with stride gridDim.x (so a captured graph serves any item count).
#include <cuda_bf16.h>
#include "launch_overlap.cuh"
#include "tensor_core.cuh"

#if !defined(NUM_HEADS) || !defined(NUM_KV_HEADS) || !defined(HEAD_DIM)
#error "extend_attention.cu needs -DNUM_HEADS=.. -DNUM_KV_HEADS=.. -DHEAD_DIM=.."
#endif

#define EA_GROUP (NUM_HEADS / NUM_KV_HEADS)
#define EA_BLOCK_M 64
#define EA_BLOCK_N 64
#define EA_THREADS 128
#define EA_CHUNKS (HEAD_DIM / 8) // 16-byte chunks per row
#define EA_SWIZZLE ((EA_CHUNKS < 8 ? EA_CHUNKS : 8) - 1)
#define EA_NEG_INF __uint_as_float(0xff800000u) // no <math.h> under NVRTC
#define EA_SMEM_BYTES ((EA_BLOCK_M + 2 * EA_BLOCK_N) * HEAD_DIM * 2)

static_assert(NUM_HEADS % NUM_KV_HEADS == 0, "NUM_HEADS must be a multiple of NUM_KV_HEADS");
static_assert(HEAD_DIM >= 16 && HEAD_DIM <= 256 && (HEAD_DIM & (HEAD_DIM - 1)) == 0,
              "HEAD_DIM must be a power of two in [16, 256]");
static_assert(EA_BLOCK_M == 16 * (EA_THREADS / 32), "one warp per 16 query rows");
static_assert((EA_BLOCK_N * EA_CHUNKS) % EA_THREADS == 0 && (16 * EA_CHUNKS) % 32 == 0, "tile loads must divide evenly");

// Element offset of (row, 16-byte chunk) in a swizzled [rows][HEAD_DIM] bf16 tile: the chunk index is XORed
// with the row's low bits, so the 8 rows an ldmatrix phase reads hit 8 distinct bank groups.
__device__ __forceinline__ int ea_swz(int row, int chunk)
{
    return row * HEAD_DIM + ((chunk ^ (row & EA_SWIZZLE)) << 3);
}

__device__ __forceinline__ unsigned int ea_pack_bf16(float lo, float hi)
{
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi); // .x (low half) = lo
    return *reinterpret_cast<const unsigned int*>(&v);
}

// Gathers tokens n0 .. n0 + EA_BLOCK_N - 1 of one kv head into a swizzled tile; rows at or past kv_end are zero.
__device__ __forceinline__ void ea_load_kv_tile(__nv_bfloat16* tile, const __nv_bfloat16* __restrict__ cache,
                                                const int* __restrict__ tok, int n0, int kv_end, int kvh)
{
#pragma unroll
    for (int i = 0; i < EA_BLOCK_N * EA_CHUNKS / EA_THREADS; ++i)
    {
        const int c = threadIdx.x + i * EA_THREADS;
        const int r = c / EA_CHUNKS;
        const int ch = c % EA_CHUNKS;
        const int pos = n0 + r;
        const bool valid = pos < kv_end;
        const int slot = valid ? __ldg(tok + pos) : 0;
        const __nv_bfloat16* src = cache + ((size_t)slot * NUM_KV_HEADS + kvh) * HEAD_DIM + ch * 8;
        cp_async16(tile + ea_swz(r, ch), src, valid);
    }
}

// One CTA's pass over the key tiles n_begin, n_begin + EA_BLOCK_N, .. (up to kv_end) of one kv head for the Q tile in
// sQ. A key is masked past its row's limit: causal, row_a's is limit_a and row_b's limit_a + 8; otherwise every row's
// is kv_end - 1. min_limit is the smallest limit of the tile (tiles wholly below it skip the masking). The caller has
// issued and committed the loads of Q and K(n_begin) as one cp.async group. Leaves this thread's unnormalised output
// rows (a = lane / 4, b = lane / 4 + 8 of the warp's 16) in oacc, their running maxima in m_run and its share of
// their sums in l_run (log2 units; the quad's four shares add up to a row's sum).
template <bool CAUSAL>
__device__ __forceinline__ void ea_attend(const __nv_bfloat16* sQ, __nv_bfloat16* sK, __nv_bfloat16* sV,
                                          const __nv_bfloat16* __restrict__ k_cache,
                                          const __nv_bfloat16* __restrict__ v_cache, const int* __restrict__ tok,
                                          int kvh, int n_begin, int kv_end, float scale_log2, int min_limit,
                                          int limit_a, float (&oacc)[HEAD_DIM / 8][4], float (&m_run)[2],
                                          float (&l_run)[2])
{
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int col_base = (lane % 4) * 2;
    const int n_tiles = (kv_end - n_begin + EA_BLOCK_N - 1) / EA_BLOCK_N;

    unsigned int qf[HEAD_DIM / 16][4];
#pragma unroll
    for (int i = 0; i < HEAD_DIM / 8; ++i)
        oacc[i][0] = oacc[i][1] = oacc[i][2] = oacc[i][3] = 0.f;
    m_run[0] = m_run[1] = EA_NEG_INF;
    l_run[0] = l_run[1] = 0.f;

    for (int j = 0; j < n_tiles; ++j)
    {
        const int n0 = n_begin + j * EA_BLOCK_N;
        cp_async_wait<0>(); // K(j) (and Q at j = 0) landed
        __syncthreads();        // ... for every thread; and every warp finished reading V(j-1)
        ea_load_kv_tile(sV, v_cache, tok, n0, kv_end, kvh);
        cp_async_commit();

        if (j == 0)
        {
#pragma unroll
            for (int kk = 0; kk < HEAD_DIM / 16; ++kk)
                ldmatrix_x4(qf[kk], sQ + ea_swz(warp * 16 + (lane & 15), kk * 2 + (lane >> 4)));
        }

        // S = Q K^T for this warp's 16 rows x EA_BLOCK_N keys.
        float s[EA_BLOCK_N / 8][4];
#pragma unroll
        for (int i = 0; i < EA_BLOCK_N / 8; ++i)
            s[i][0] = s[i][1] = s[i][2] = s[i][3] = 0.f;
#pragma unroll
        for (int kk = 0; kk < HEAD_DIM / 16; ++kk)
        {
#pragma unroll
            for (int np = 0; np < EA_BLOCK_N / 16; ++np)
            {
                unsigned int kb[4];
                const int key = np * 16 + (lane & 7) + ((lane >> 4) << 3);
                ldmatrix_x4(kb, sK + ea_swz(key, kk * 2 + ((lane >> 3) & 1)));
                mma_bf16(s[2 * np], qf[kk], kb[0], kb[1]);
                mma_bf16(s[2 * np + 1], qf[kk], kb[2], kb[3]);
            }
        }

        // Scale to log2 units; mask keys past a row's limit (also covers the zero-filled tail past kv_end).
        const bool need_mask = n0 + EA_BLOCK_N - 1 > min_limit;
#pragma unroll
        for (int nt = 0; nt < EA_BLOCK_N / 8; ++nt)
        {
#pragma unroll
            for (int e = 0; e < 4; ++e)
            {
                const int key = n0 + nt * 8 + col_base + (e & 1);
                const int limit = CAUSAL ? limit_a + ((e >> 1) << 3) : min_limit;
                s[nt][e] = (need_mask && key > limit) ? EA_NEG_INF : s[nt][e] * scale_log2;
            }
        }

        // Online softmax, rows a (e = 0, 1) and b (e = 2, 3).
        float alpha[2];
#pragma unroll
        for (int rr = 0; rr < 2; ++rr)
        {
            float mx = EA_NEG_INF;
#pragma unroll
            for (int nt = 0; nt < EA_BLOCK_N / 8; ++nt)
                mx = fmaxf(mx, fmaxf(s[nt][2 * rr], s[nt][2 * rr + 1]));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
            const float m_new = fmaxf(m_run[rr], mx);
            const float m_use = m_new == EA_NEG_INF ? 0.f : m_new;
            alpha[rr] = exp2f(m_run[rr] - m_use);
            m_run[rr] = m_new;
            float sum = 0.f;
#pragma unroll
            for (int nt = 0; nt < EA_BLOCK_N / 8; ++nt)
            {
                s[nt][2 * rr] = exp2f(s[nt][2 * rr] - m_use);
                s[nt][2 * rr + 1] = exp2f(s[nt][2 * rr + 1] - m_use);
                sum += s[nt][2 * rr] + s[nt][2 * rr + 1];
            }
            l_run[rr] = l_run[rr] * alpha[rr] + sum;
        }
#pragma unroll
        for (int dt = 0; dt < HEAD_DIM / 8; ++dt)
        {
            oacc[dt][0] *= alpha[0];
            oacc[dt][1] *= alpha[0];
            oacc[dt][2] *= alpha[1];
            oacc[dt][3] *= alpha[1];
        }

        cp_async_wait<0>(); // V(j) landed
        __syncthreads();        // ... for every thread; and every warp finished reading K(j)
        if (j + 1 < n_tiles)
        {
            ea_load_kv_tile(sK, k_cache, tok, n0 + EA_BLOCK_N, kv_end, kvh);
            cp_async_commit();
        }

        // O += P V: the S accumulators of two adjacent key octets form one A fragment (16 rows x 16 keys).
#pragma unroll
        for (int kt = 0; kt < EA_BLOCK_N / 16; ++kt)
        {
            unsigned int pa[4];
            pa[0] = ea_pack_bf16(s[2 * kt][0], s[2 * kt][1]);
            pa[1] = ea_pack_bf16(s[2 * kt][2], s[2 * kt][3]);
            pa[2] = ea_pack_bf16(s[2 * kt + 1][0], s[2 * kt + 1][1]);
            pa[3] = ea_pack_bf16(s[2 * kt + 1][2], s[2 * kt + 1][3]);
#pragma unroll
            for (int dp = 0; dp < HEAD_DIM / 16; ++dp)
            {
                unsigned int vb[4];
                const int t = kt * 16 + (lane & 7) + (((lane >> 3) & 1) << 3);
                ldmatrix_x4_trans(vb, sV + ea_swz(t, dp * 2 + (lane >> 4)));
                mma_bf16(oacc[2 * dp], pa, vb[0], vb[1]);
                mma_bf16(oacc[2 * dp + 1], pa, vb[2], vb[3]);
            }
        }
    }
}

// A row's sum over its quad's four shares (every lane of the quad gets it).
__device__ __forceinline__ float ea_quad_sum(float l)
{
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    return l + __shfl_xor_sync(0xffffffffu, l, 2);
}

extern "C" __global__ void __launch_bounds__(EA_THREADS)
extend_attention(const __nv_bfloat16* __restrict__ q,
                 const __nv_bfloat16* __restrict__ k_cache,
                 const __nv_bfloat16* __restrict__ v_cache,
                 const int* __restrict__ req_to_token,
                 int req_to_token_stride,
                 const int* __restrict__ req_pool_indices,
                 const int* __restrict__ qo_indptr,
                 const int* __restrict__ prefix_lens,
                 __nv_bfloat16* __restrict__ o,
                 float sm_scale)
{
    extern __shared__ __align__(128) unsigned char ea_smem[];
    __nv_bfloat16* sQ = reinterpret_cast<__nv_bfloat16*>(ea_smem);
    __nv_bfloat16* sK = sQ + EA_BLOCK_M * HEAD_DIM;
    __nv_bfloat16* sV = sK + EA_BLOCK_N * HEAD_DIM;

    const int h = blockIdx.x;
    const int tile_m = gridDim.y - 1 - blockIdx.y; // heaviest (last) tiles first
    const int b = blockIdx.z;
    const int q_begin = qo_indptr[b];
    const int extend_len = qo_indptr[b + 1] - q_begin;
    const int m0 = tile_m * EA_BLOCK_M;
    if (m0 >= extend_len)
        return;

    const int prefix = prefix_lens[b];
    const int kvh = h / EA_GROUP;
    const int rows_valid = min(EA_BLOCK_M, extend_len - m0);
    const int kv_end = prefix + m0 + rows_valid; // keys the last valid row of this tile sees (exclusive)
    const int* __restrict__ tok = req_to_token + (size_t)req_pool_indices[b] * req_to_token_stride;

    const int tid = threadIdx.x;
    const int warp = tid / 32;
    const int lane = tid % 32;
    wait_for_previous_kernel(); // q and this step's K/V come from the previous kernel
    allow_next_kernel();

    // Q tile (rows past extend_len zero-filled) and the first K tile: one cp.async group.
#pragma unroll
    for (int i = 0; i < EA_BLOCK_M * EA_CHUNKS / EA_THREADS; ++i)
    {
        const int c = tid + i * EA_THREADS;
        const int r = c / EA_CHUNKS;
        const int ch = c % EA_CHUNKS;
        const bool valid = r < rows_valid;
        const __nv_bfloat16* src = q + ((size_t)(q_begin + m0 + (valid ? r : 0)) * NUM_HEADS + h) * HEAD_DIM + ch * 8;
        cp_async16(sQ + ea_swz(r, ch), src, valid);
    }
    ea_load_kv_tile(sK, k_cache, tok, 0, kv_end, kvh);
    cp_async_commit();

    // This thread's two rows in the warp's 16-row slab (MMA C-fragment layout): lane/4 and lane/4 + 8.
    const int row_a = m0 + warp * 16 + lane / 4; // index among the request's new tokens
    const int col_base = (lane % 4) * 2;
    float oacc[HEAD_DIM / 8][4], m_run[2], l_run[2];
    ea_attend<true>(sQ, sK, sV, k_cache, v_cache, tok, kvh, 0, kv_end, sm_scale * 1.4426950408889634f, prefix + m0,
                    prefix + row_a, oacc, m_run, l_run);

    // Normalise; stage the warp's 16 rows in its own slab of sQ (only this warp ever read it) for 16-byte stores.
    float inv[2];
#pragma unroll
    for (int rr = 0; rr < 2; ++rr)
    {
        const float l = ea_quad_sum(l_run[rr]);
        inv[rr] = l > 0.f ? 1.f / l : 0.f;
    }
    const int srow = warp * 16 + lane / 4;
#pragma unroll
    for (int dt = 0; dt < HEAD_DIM / 8; ++dt)
    {
        *reinterpret_cast<unsigned int*>(sQ + ea_swz(srow, dt) + col_base) =
            ea_pack_bf16(oacc[dt][0] * inv[0], oacc[dt][1] * inv[0]);
        *reinterpret_cast<unsigned int*>(sQ + ea_swz(srow + 8, dt) + col_base) =
            ea_pack_bf16(oacc[dt][2] * inv[1], oacc[dt][3] * inv[1]);
    }
    __syncwarp();
#pragma unroll
    for (int i = 0; i < 16 * EA_CHUNKS / 32; ++i)
    {
        const int c = lane + i * 32;
        const int r = warp * 16 + c / EA_CHUNKS;
        const int ch = c % EA_CHUNKS;
        if (r < rows_valid)
        {
            *reinterpret_cast<uint4*>(o + ((size_t)(q_begin + m0 + r) * NUM_HEADS + h) * HEAD_DIM + ch * 8) =
                *reinterpret_cast<const uint4*>(sQ + ea_swz(r, ch));
        }
    }
}

// Requests one shared_prefix_attention work item serves: as many as fill the Q tile with their GROUP heads each.
#define SP_TILE_REQUESTS (EA_BLOCK_M / EA_GROUP)

extern "C" __global__ void __launch_bounds__(EA_THREADS)
shared_prefix_attention(const __nv_bfloat16* __restrict__ q,
                        const __nv_bfloat16* __restrict__ k_cache,
                        const __nv_bfloat16* __restrict__ v_cache,
                        const int* __restrict__ req_to_token,
                        int req_to_token_stride,
                        const int* __restrict__ req_pool_indices,
                        const int* __restrict__ tiles,
                        const int* __restrict__ work,
                        float* __restrict__ partials,
                        int batch,
                        int max_chunks,
                        float sm_scale)
{
    extern __shared__ __align__(128) unsigned char ea_smem[];
    __nv_bfloat16* sQ = reinterpret_cast<__nv_bfloat16*>(ea_smem);
    __nv_bfloat16* sK = sQ + EA_BLOCK_M * HEAD_DIM;
    __nv_bfloat16* sV = sK + EA_BLOCK_N * HEAD_DIM;

    const int kvh = blockIdx.y;
    const int items = work[0]; // a step input: uploaded before the step's first kernel
    if ((int)blockIdx.x >= items)
        return;
    const int tid = threadIdx.x;
    const int warp = tid / 32;
    const int lane = tid % 32;
    const int col_base = (lane % 4) * 2;
    const float scale_log2 = sm_scale * 1.4426950408889634f;
    float* __restrict__ part_acc = partials;
    float* __restrict__ part_ml = partials + (size_t)batch * max_chunks * NUM_HEADS * HEAD_DIM;
    wait_for_previous_kernel(); // q comes from the previous kernel
    allow_next_kernel();

    for (int w = blockIdx.x; w < items; w += gridDim.x)
    {
        const int4 item = reinterpret_cast<const int4*>(work)[w + 1]; // {tile, chunk, start, end}
        const int* __restrict__ members = tiles + item.x * SP_TILE_REQUESTS;
        int count = 1;
        while (count < SP_TILE_REQUESTS && members[count] >= 0)
            ++count;
        const int rows_valid = count * EA_GROUP; // row r: request members[r / GROUP], q head kvh * GROUP + r % GROUP
        const int* __restrict__ tok = req_to_token + (size_t)req_pool_indices[members[0]] * req_to_token_stride;

        __syncthreads(); // every warp is done with the previous item's tiles
#pragma unroll
        for (int i = 0; i < EA_BLOCK_M * EA_CHUNKS / EA_THREADS; ++i)
        {
            const int c = tid + i * EA_THREADS;
            const int r = c / EA_CHUNKS;
            const int ch = c % EA_CHUNKS;
            const bool valid = r < rows_valid;
            const int row = valid ? members[r / EA_GROUP] : 0;
            const __nv_bfloat16* src = q + ((size_t)row * NUM_HEADS + kvh * EA_GROUP + r % EA_GROUP) * HEAD_DIM + ch * 8;
            cp_async16(sQ + ea_swz(r, ch), src, valid);
        }
        ea_load_kv_tile(sK, k_cache, tok, item.z, item.w, kvh);
        cp_async_commit();

        float oacc[HEAD_DIM / 8][4], m_run[2], l_run[2];
        ea_attend<false>(sQ, sK, sV, k_cache, v_cache, tok, kvh, item.z, item.w, scale_log2, item.w - 1, item.w - 1,
                         oacc, m_run, l_run);

        // The rows' unnormalised states go to decode_attention, which merges them with the rest of each request.
#pragma unroll
        for (int rr = 0; rr < 2; ++rr)
        {
            const int r = warp * 16 + lane / 4 + rr * 8;
            const float l = ea_quad_sum(l_run[rr]);
            if (r >= rows_valid)
                continue;
            const size_t p = ((size_t)members[r / EA_GROUP] * max_chunks + item.y) * NUM_HEADS + kvh * EA_GROUP + r % EA_GROUP;
            float* dst = part_acc + p * HEAD_DIM + col_base;
#pragma unroll
            for (int dt = 0; dt < HEAD_DIM / 8; ++dt)
                *reinterpret_cast<float2*>(dst + dt * 8) = make_float2(oacc[dt][2 * rr], oacc[dt][2 * rr + 1]);
            if (lane % 4 == 0)
            {
                part_ml[p * 2] = m_run[rr];
                part_ml[p * 2 + 1] = l;
            }
        }
    }
}
