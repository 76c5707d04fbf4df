// decode_attention.cu -- flash-decoding over the token-granular KV pool, split-KV merged in the same launch.
//
// One new token per request: q row b attends to all seq_lens[b] cached tokens of request b (seq_len includes
// the new token, whose K/V the previous kernel stored in the cache, or the prologue of a generated entry point).
//
// Compile-time constants (NVRTC / nvcc -D): NUM_HEADS, NUM_KV_HEADS, HEAD_DIM.
//   NUM_HEADS % NUM_KV_HEADS == 0; HEAD_DIM a power of two in [16, 256].
//
// Entry points: decode_attention (DA_THREADS = 128 threads, chunks of at least one tile) and decode_attention_wide
// (DA_WIDE_THREADS, chunks of at least two of its tiles: for few requests, where a short context is then read by one
// CTA per (request, kv head) and needs no merge through global memory). A model's generated source includes this
// file too, for its own entry points that compute q and the new token's K/V in the kernel (decode_attention_body's
// prologue). Both library entry points take:
//   q                [batch][NUM_HEADS][HEAD_DIM] bf16, already roped
//   k_cache, v_cache [num_slots][NUM_KV_HEADS][HEAD_DIM] bf16 (one layer); row = one token's slot
//   req_to_token     int32; slots of request r at req_to_token[r * req_to_token_stride + pos]
//   req_pool_indices [batch] int32
//   seq_lens         [batch] int32, >= 1 (a request with seq_len <= 0 gets a zero output)
//   o                [batch][NUM_HEADS][HEAD_DIM] bf16
//   counters         [>= batch * NUM_KV_HEADS] uint32. MUST be zeroed once when allocated; the kernel leaves
//                    them at zero (the last CTA of a (request, kv head) resets its counter).
//   partials         float workspace, >= batch * num_splits * NUM_HEADS * (HEAD_DIM + 2) floats:
//                    acc [batch][num_splits][NUM_HEADS][HEAD_DIM] followed by (m, l) [batch][num_splits][NUM_HEADS][2]
//   sm_scale         softmax scale, usually 1/sqrt(HEAD_DIM)
//   prefix_lens      [batch] int32: tokens of the request that shared_prefix_attention (extend_attention.cu) covers
//                    for it, 0 for none; this kernel attends to positions prefix_lens[b] .. seq_lens[b] - 1 only
//   prefix_chunks    [batch] int32: how many partial states that kernel left for the request (0 .. DA_MAX_PREFIX_CHUNKS)
//   prefix_partials  its partial states: acc [batch][DA_MAX_PREFIX_CHUNKS][NUM_HEADS][HEAD_DIM], then (m, l)
//                    [batch][DA_MAX_PREFIX_CHUNKS][NUM_HEADS][2]; merged into the output with this kernel's splits
//
// Launch: grid (batch, NUM_KV_HEADS, num_splits), block DA_THREADS or DA_WIDE_THREADS, no dynamic shared memory
//   (static shared memory: DA_SMEM_FOR(threads) = (rows * (HEAD_DIM + 2) + 3 * DA_MAX_STATES + HEAD_DIM + 2) * GROUP * 4
//   <= 48 KiB).
//   num_splits (gridDim.z, at most DA_MAX_SPLITS = 64) is the host's choice from batch, the longest seq_len and the SM count (see
//   AttentionKernels.DecodeNumSplits); each request cuts its own sequence (past its shared prefix) into chunks of
//   ceil(seq_len / num_splits) tokens rounded up to a tile (and to the entry point's minimum), so short requests use fewer splits and a request
//   that fits one chunk and has no shared prefix writes o directly without touching the workspace. Idle split CTAs
//   exit at once.
//   Workspace bytes: align256(max_batch * NUM_KV_HEADS * 4) for the counters, then the partials.
//
// Work split: one CTA = (split, kv head, request) and serves all GROUP = NUM_HEADS / NUM_KV_HEADS q heads of
// that kv head, so each K/V row is read once. A K/V row of HEAD_DIM bf16 is read by DA_TPR = HEAD_DIM / 8
// threads with one 16-byte load each; the CTA's threads / DA_TPR row groups walk DA_UNROLL tokens each per step.
// Softmax is fp32 in the log2 domain (q pre-scaled by sm_scale * log2(e), exp2f). Partial states of the row
// groups are merged through shared memory; partial states of the splits are merged by the last CTA to finish
// a (request, kv head), found with an atomic counter after a __threadfence.
#include <cuda_bf16.h>
#include "launch_overlap.cuh"

#if !defined(NUM_HEADS) || !defined(NUM_KV_HEADS) || !defined(HEAD_DIM)
#error "decode_attention.cu needs -DNUM_HEADS=.. -DNUM_KV_HEADS=.. -DHEAD_DIM=.."
#endif

#define DA_GROUP (NUM_HEADS / NUM_KV_HEADS)
#define DA_THREADS 128
#define DA_TPR (HEAD_DIM / 8)
#define DA_UNROLL 4
#define DA_MAX_SPLITS 64
// Fewest tiles per split of each entry point (decode_attention, decode_attention_wide).
#define DA_MIN_TILES 1
#define DA_WIDE_MIN_TILES 2
// Partial states of a request's shared prefix (shared_prefix_attention's chunks), and all the final merge may combine.
#define DA_MAX_PREFIX_CHUNKS 8
#define DA_MAX_STATES (DA_MAX_SPLITS + DA_MAX_PREFIX_CHUNKS)
#define DA_PREFETCH_TILES 2
#define DA_ROW_LINES ((HEAD_DIM * 2 + 127) / 128) // 128-byte lines per K or V row of one head
#define DA_NEG_INF __uint_as_float(0xff800000u) // no <math.h> under NVRTC

static_assert(NUM_HEADS % NUM_KV_HEADS == 0, "NUM_HEADS must be a multiple of NUM_KV_HEADS");
static_assert(HEAD_DIM >= 16 && HEAD_DIM <= 256 && (HEAD_DIM & (HEAD_DIM - 1)) == 0,
              "HEAD_DIM must be a power of two in [16, 256]");
// Static shared memory of a CTA of T threads.
#define DA_SMEM_FOR(T) ((((T) / DA_TPR) * (HEAD_DIM + 2) + 3 * DA_MAX_STATES + HEAD_DIM + 2) * DA_GROUP * 4)
#define DA_SMEM_BYTES DA_SMEM_FOR(DA_THREADS)
static_assert(DA_SMEM_BYTES <= 48 * 1024, "decode shared memory exceeds 48 KiB: too many q heads per kv head");
// decode_attention_wide: the most threads (512, 256 or 128) whose shared memory fits 48 KiB. For few requests: four
// times the row groups per tile, and at least two tiles per split, so a short context is one CTA per (request, kv
// head) with no merge through global memory.
#if DA_SMEM_FOR(512) <= 48 * 1024
#define DA_WIDE_THREADS 512
#elif DA_SMEM_FOR(256) <= 48 * 1024
#define DA_WIDE_THREADS 256
#else
#define DA_WIDE_THREADS 128
#endif

__device__ __forceinline__ void da_bf16x8_to_float(const uint4 v, float (&f)[8])
{
    const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
    for (int i = 0; i < 4; ++i)
    {
        const float2 p = __bfloat1622float2(h[i]);
        f[2 * i] = p.x;
        f[2 * i + 1] = p.y;
    }
}

// Loads a tile's K/V rows (tokens t0 + row + ROWS * u, those before end) with the slots read one tile ahead, all
// 2 * DA_UNROLL loads in flight before any is used, then the next tile's slots. The row of token skip_pos is left zero.
// VIA_L1: rows other than the newest token's are loaded through L1, where the kernel prefetched them; the newest one,
// which this kernel's prologue may have just stored, always from L2.
template <int ROWS, bool VIA_L1>
static __device__ __forceinline__ void da_load_tile(const __nv_bfloat16* k_cache, const __nv_bfloat16* v_cache, const int* __restrict__ tok,
                                                    int kvh, int lane_r, int row, int t0, int end, int skip_pos, int newest,
                                                    int (&slots)[DA_UNROLL], uint4 (&kr)[DA_UNROLL], uint4 (&vr)[DA_UNROLL],
                                                    bool (&valid)[DA_UNROLL])
{
#pragma unroll
    for (int u = 0; u < DA_UNROLL; ++u)
    {
        const int pos = t0 + u * ROWS + row;
        valid[u] = pos < end;
        const uint4* k = reinterpret_cast<const uint4*>(k_cache + ((size_t)slots[u] * NUM_KV_HEADS + kvh) * HEAD_DIM + lane_r * 8);
        const uint4* v = reinterpret_cast<const uint4*>(v_cache + ((size_t)slots[u] * NUM_KV_HEADS + kvh) * HEAD_DIM + lane_r * 8);
        if (!valid[u] || pos == skip_pos) kr[u] = vr[u] = make_uint4(0, 0, 0, 0);
        else if (VIA_L1 && pos != newest) { kr[u] = __ldca(k); vr[u] = __ldca(v); }
        else { kr[u] = __ldcg(k); vr[u] = __ldcg(v); }
    }
#pragma unroll
    for (int u = 0; u < DA_UNROLL; ++u)
    {
        const int pos = t0 + ROWS * DA_UNROLL + u * ROWS + row;
        slots[u] = pos < end ? __ldcg(tok + pos) : 0;
    }
}

// `prologue(b, kvh, holds_new, s_q)` runs after the wait, in every thread: it writes the CTA's DA_GROUP q heads (roped,
// bf16 values) to s_q[DA_GROUP][HEAD_DIM] and, when holds_new (this split attends to the request's newest position),
// may store that token's K/V of kv head kvh into the cache first: this CTA reads them back after a barrier. The
// library entry points load q from global memory; a generated kernel computes q and K/V from the QKV projection.
// (k_cache and v_cache are not __restrict__: a prologue writes the cache through its own pointers.)
template <int THREADS, int MIN_TILES, class Prologue>
static __device__ __forceinline__ void
decode_attention_body(Prologue prologue,
                      const __nv_bfloat16* k_cache,
                      const __nv_bfloat16* v_cache,
                      const int* __restrict__ req_to_token,
                      int req_to_token_stride,
                      const int* __restrict__ req_pool_indices,
                      const int* __restrict__ seq_lens,
                      __nv_bfloat16* __restrict__ o,
                      unsigned int* __restrict__ counters,
                      float* __restrict__ partials,
                      float sm_scale,
                      const int* __restrict__ prefix_lens,
                      const int* __restrict__ prefix_chunks,
                      const float* __restrict__ prefix_partials)
{
    constexpr int ROWS = THREADS / DA_TPR;    // row groups: tokens start + row + ROWS * k
    constexpr int TILE = ROWS * DA_UNROLL;    // tokens per loop step
    __shared__ __align__(16) float s_acc[ROWS][DA_GROUP][HEAD_DIM];
    __shared__ float s_ml[ROWS][DA_GROUP][2];
    __shared__ float s_split_m[DA_MAX_STATES][DA_GROUP];
    __shared__ float s_split_l[DA_MAX_STATES][DA_GROUP];
    __shared__ float s_split_w[DA_MAX_STATES][DA_GROUP];
    __shared__ int s_is_last;

    // Requests vary fastest in the grid: the CTAs resident at once are every request's same (kv head, split), so
    // requests sharing a cached prefix (the same slots) meet in L2 rather than each reading it from HBM.
    const int b = blockIdx.x;
    const int kvh = blockIdx.y;
    const int split = blockIdx.z;
    const int num_splits = min((int)gridDim.z, DA_MAX_SPLITS);
    const int batch = gridDim.x;
    const int tid = threadIdx.x;
    const int seq_len = seq_lens[b]; // step inputs: uploaded before the step's first kernel
    const int prefix = prefix_lens[b];
    const int prefix_states = prefix > 0 ? prefix_chunks[b] : 0;

    if (split >= num_splits)
        return; // the host asked for more than DA_MAX_SPLITS splits; the extra CTAs have nothing to do

    // Per-request chunking of the tokens past the shared prefix: a multiple of TILE so every step of the loop below is
    // a full tile but the last. (A request with seq_len <= 0 gets one "split" that writes a zero output.)
    const int own = max(seq_len - prefix, 1);
    int chunk = (own + num_splits - 1) / num_splits;
    chunk = max((chunk + TILE - 1) / TILE * TILE, MIN_TILES * TILE);
    const int active = (own + chunk - 1) / chunk;
    if (split >= active)
        return; // this request is too short to use this split; the counter only waits for `active` CTAs
    const int start = prefix + split * chunk;
    const int end = min(seq_len, start + chunk);
    const int* __restrict__ tok = req_to_token + (size_t)req_pool_indices[b] * req_to_token_stride;

    // The previous kernel writes q and this step's K/V (or what the prologue computes them from); the K/V of earlier
    // tokens (and req_to_token: set by the step's first kernel, which has finished when this one starts) are already
    // there. The first tile of them is loaded into registers before waiting, and the next DA_PREFETCH_TILES - 1 tiles
    // pulled into L2, so the loop starts on registers and L2 instead of HBM (more would only evict each other's lines
    // when many long requests run). On the H100, Qwen3-0.6B, GPU time a step with the early tile: batch 64 1.80 ->
    // 1.56-1.60 ms; in the wide entry point (first loaded after the prologue, from L2, until 2026-11-23) batch 1
    // 0.79-0.80 ms against 0.80-0.83 and batch 8 1.04-1.05 against 1.08-1.09 -- its first tile took ~3,300 of the
    // ~13,000 cycles after the wait (clock64 phases). The wide entry point, a CTA or two per SM, pulls them into L1
    // instead, so its second tile (a context of 129-256 tokens) is an L1 hit: Qwen3-0.6B on the H100, GPU time a step
    // in four runs each way, batch 1 804-810 -> 795-803 us, batch 2 944-947 -> 938-943, batch 8 1,050-1,052 ->
    // 1,039-1,046. (The narrow entry point, many CTAs per SM at larger batches, keeps L2.)
    constexpr bool via_l1 = MIN_TILES == DA_WIDE_MIN_TILES; // the wide entry point: its two-tile minimum tells it apart
    const int prefetch_start = start + TILE;
    const int cached_end = min(min(end, seq_len - 1), start + DA_PREFETCH_TILES * TILE);
    for (int i = tid; i < (cached_end - prefetch_start) * DA_ROW_LINES; i += THREADS)
    {
        const size_t off = ((size_t)__ldcg(tok + prefetch_start + i / DA_ROW_LINES) * NUM_KV_HEADS + kvh) * HEAD_DIM + i % DA_ROW_LINES * 64;
        if (via_l1)
        {
            asm volatile("prefetch.global.L1 [%0];" ::"l"(k_cache + off));
            asm volatile("prefetch.global.L1 [%0];" ::"l"(v_cache + off));
        }
        else
        {
            asm volatile("prefetch.global.L2 [%0];" ::"l"(k_cache + off));
            asm volatile("prefetch.global.L2 [%0];" ::"l"(v_cache + off));
        }
    }
    const int lane_r = tid % DA_TPR; // which 8-element slice of HEAD_DIM this thread owns
    const int row = tid / DA_TPR;    // row group: tokens start + row + ROWS * k
    // Slots are read one tile ahead, so each tile waits on its K/V loads only, not on a slot load before them. (L2,
    // coherent: the last slot is new this step.) The early first tile leaves out the newest token's row, which the
    // previous kernel or the prologue stores: its thread loads it after the barrier below, from newest_slot.
    int slots[DA_UNROLL];
#pragma unroll
    for (int u = 0; u < DA_UNROLL; ++u)
    {
        const int pos = start + u * ROWS + row;
        slots[u] = pos < end ? __ldcg(tok + pos) : 0;
    }
    const int newest = seq_len - 1;
    const bool newest_in_first_tile = start <= newest && newest < min(end, start + TILE);
    const int newest_slot = newest_in_first_tile ? __ldcg(tok + newest) : 0;
    uint4 kr[DA_UNROLL], vr[DA_UNROLL];
    bool valid[DA_UNROLL];
    da_load_tile<ROWS, false>(k_cache, v_cache, tok, kvh, lane_r, row, start, end, newest, newest, slots, kr, vr, valid); // used once: not kept in L1
    wait_for_previous_kernel();
    allow_next_kernel();

    if (seq_len <= 0)
    {
        // Nothing to attend to: define the output as zero rather than leaving garbage.
        for (int i = tid; i < DA_GROUP * HEAD_DIM; i += THREADS)
            o[((size_t)b * NUM_HEADS + kvh * DA_GROUP) * HEAD_DIM + i] = __float2bfloat16(0.f);
        return;
    }

    __shared__ __align__(16) float s_q[DA_GROUP * HEAD_DIM];
    prologue(b, kvh, start <= newest && newest < end, s_q);
    __syncthreads(); // s_q, and the new token's K/V if the prologue stored them
    if (newest_in_first_tile)
    {
#pragma unroll
        for (int u = 0; u < DA_UNROLL; ++u)
        {
            if (start + u * ROWS + row != newest) continue;
            const size_t off = ((size_t)newest_slot * NUM_KV_HEADS + kvh) * HEAD_DIM + lane_r * 8;
            kr[u] = __ldcg(reinterpret_cast<const uint4*>(k_cache + off));
            vr[u] = __ldcg(reinterpret_cast<const uint4*>(v_cache + off));
        }
    }

    const float q_scale = sm_scale * 1.4426950408889634f; // logits in log2 units, softmax via exp2f
    float qf[DA_GROUP][8];
#pragma unroll
    for (int g = 0; g < DA_GROUP; ++g)
    {
        const float4* q4 = reinterpret_cast<const float4*>(s_q + g * HEAD_DIM + lane_r * 8);
        const float4 lo = q4[0], hi = q4[1];
        qf[g][0] = lo.x; qf[g][1] = lo.y; qf[g][2] = lo.z; qf[g][3] = lo.w;
        qf[g][4] = hi.x; qf[g][5] = hi.y; qf[g][6] = hi.z; qf[g][7] = hi.w;
#pragma unroll
        for (int i = 0; i < 8; ++i)
            qf[g][i] *= q_scale;
    }

    float m[DA_GROUP], l[DA_GROUP], acc[DA_GROUP][8];
#pragma unroll
    for (int g = 0; g < DA_GROUP; ++g)
    {
        m[g] = DA_NEG_INF;
        l[g] = 0.f;
#pragma unroll
        for (int i = 0; i < 8; ++i)
            acc[g][i] = 0.f;
    }

    // The loop bounds are uniform over the CTA, so every lane reaches the shuffles below.
    for (int t0 = start; t0 < end; t0 += TILE)
    {
        if (t0 != start)
            da_load_tile<ROWS, via_l1>(k_cache, v_cache, tok, kvh, lane_r, row, t0, end, -1, newest, slots, kr, vr, valid);

#pragma unroll
        for (int g = 0; g < DA_GROUP; ++g)
        {
            float s[DA_UNROLL];
            float s_max = DA_NEG_INF;
#pragma unroll
            for (int u = 0; u < DA_UNROLL; ++u)
            {
                float kf[8];
                da_bf16x8_to_float(kr[u], kf);
                float dot = 0.f;
#pragma unroll
                for (int i = 0; i < 8; ++i)
                    dot = fmaf(qf[g][i], kf[i], dot);
#pragma unroll
                for (int off = DA_TPR / 2; off > 0; off >>= 1)
                    dot += __shfl_xor_sync(0xffffffffu, dot, off);
                s[u] = valid[u] ? dot : DA_NEG_INF;
                s_max = fmaxf(s_max, s[u]);
            }
            const float m_new = fmaxf(m[g], s_max);
            const float m_use = m_new == DA_NEG_INF ? 0.f : m_new; // all-masked so far: keep exp2f finite
            const float alpha = exp2f(m[g] - m_use);
            m[g] = m_new;
            l[g] *= alpha;
#pragma unroll
            for (int i = 0; i < 8; ++i)
                acc[g][i] *= alpha;
#pragma unroll
            for (int u = 0; u < DA_UNROLL; ++u)
            {
                const float p = exp2f(s[u] - m_use);
                l[g] += p;
                float vf[8];
                da_bf16x8_to_float(vr[u], vf);
#pragma unroll
                for (int i = 0; i < 8; ++i)
                    acc[g][i] = fmaf(p, vf[i], acc[g][i]);
            }
        }
    }

    // Merge the ROWS row groups of this CTA.
#pragma unroll
    for (int g = 0; g < DA_GROUP; ++g)
    {
        float4* dst = reinterpret_cast<float4*>(&s_acc[row][g][lane_r * 8]);
        dst[0] = make_float4(acc[g][0], acc[g][1], acc[g][2], acc[g][3]);
        dst[1] = make_float4(acc[g][4], acc[g][5], acc[g][6], acc[g][7]);
        if (lane_r == 0)
        {
            s_ml[row][g][0] = m[g];
            s_ml[row][g][1] = l[g];
        }
    }
    __syncthreads();
    // Per q head, once: the max M and sum L over the row groups, and each row group's weight exp2(m - M), written over
    // its m (a warp per q head, its lanes over the row groups). The pass over the outputs is then FMAs alone; it used to
    // take each output's thread through every row group's exp2f in one chain (with the stores, 1,200-2,500 of the wide
    // entry's ~13,000 cycles after its wait at batch 1: clock64 phases, Qwen3-0.6B on the H100).
    __shared__ float s_head_m[DA_GROUP], s_head_l[DA_GROUP];
    for (int g = tid / 32; g < DA_GROUP; g += THREADS / 32)
    {
        const int lane = tid % 32;
        float mx = DA_NEG_INF;
        for (int r = lane; r < ROWS; r += 32)
            mx = fmaxf(mx, s_ml[r][g][0]);
#pragma unroll
        for (int off = 16; off > 0; off >>= 1)
            mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, off));
        const float m_use = mx == DA_NEG_INF ? 0.f : mx;
        float sum = 0.f;
        for (int r = lane; r < ROWS; r += 32)
        {
            const float w = exp2f(s_ml[r][g][0] - m_use); // row groups that saw no token have m = -inf: w = 0
            sum = fmaf(s_ml[r][g][1], w, sum);
            s_ml[r][g][0] = w;
        }
#pragma unroll
        for (int off = 16; off > 0; off >>= 1)
            sum += __shfl_xor_sync(0xffffffffu, sum, off);
        if (lane == 0)
        {
            s_head_m[g] = mx;
            s_head_l[g] = sum;
        }
    }
    __syncthreads();

    const size_t part_base = ((size_t)b * num_splits + split) * NUM_HEADS + kvh * DA_GROUP;
    float* __restrict__ part_acc = partials;
    float* __restrict__ part_ml = partials + (size_t)batch * num_splits * NUM_HEADS * HEAD_DIM;

    for (int i = tid; i < DA_GROUP * HEAD_DIM; i += THREADS)
    {
        const int g = i / HEAD_DIM;
        const int d = i % HEAD_DIM;
        const float mx = s_head_m[g], sum = s_head_l[g];
        float part[4] = {0.f, 0.f, 0.f, 0.f}; // four chains, not one ROWS long
#pragma unroll
        for (int r = 0; r < ROWS; ++r)
            part[r % 4] = fmaf(s_acc[r][g][d], s_ml[r][g][0], part[r % 4]);
        const float a = (part[0] + part[1]) + (part[2] + part[3]);
        if (active == 1 && prefix_states == 0)
        {
            o[((size_t)b * NUM_HEADS + kvh * DA_GROUP + g) * HEAD_DIM + d] = __float2bfloat16(a / sum);
        }
        else
        {
            part_acc[(part_base + g) * HEAD_DIM + d] = a;
            if (d == 0)
            {
                part_ml[(part_base + g) * 2] = mx;
                part_ml[(part_base + g) * 2 + 1] = sum;
            }
        }
    }
    if (active == 1 && prefix_states == 0)
        return;

    // Publish this split's partials device-wide before signalling; the last CTA to arrive merges. (A single split
    // with a shared prefix is its own last CTA: it only merges the prefix's states, which the previous kernel left.)
    __threadfence();
    __syncthreads();
    unsigned int* counter = counters + (size_t)b * NUM_KV_HEADS + kvh;
    if (active > 1)
    {
        if (tid == 0)
        {
            const unsigned int prev = atomicAdd(counter, 1u);
            s_is_last = prev == (unsigned int)(active - 1);
        }
        __syncthreads();
        if (!s_is_last)
            return;
        __threadfence(); // acquire side: order the reads below after observing every other CTA's increment
    }

    // Final merge over the active splits and the prefix's states: per q head the global max M and sum L once, as
    // normalised weights w_s = exp2(m_s - M) / L in shared memory; then each output element is one coalesced pass.
    const int states = active + prefix_states;
    const size_t req_base = (size_t)b * num_splits * NUM_HEADS + kvh * DA_GROUP;
    const float* __restrict__ pre_acc = prefix_partials;
    const float* __restrict__ pre_ml = prefix_partials + (size_t)batch * DA_MAX_PREFIX_CHUNKS * NUM_HEADS * HEAD_DIM;
    const size_t pre_base = (size_t)b * DA_MAX_PREFIX_CHUNKS * NUM_HEADS + kvh * DA_GROUP;
    for (int i = tid; i < states * DA_GROUP; i += THREADS)
    {
        const int sp = i / DA_GROUP;
        const int g = i % DA_GROUP;
        const float* ml = sp < active ? part_ml + (req_base + (size_t)sp * NUM_HEADS + g) * 2
                                      : pre_ml + (pre_base + (size_t)(sp - active) * NUM_HEADS + g) * 2;
        s_split_m[sp][g] = __ldcg(ml);
        s_split_l[sp][g] = __ldcg(ml + 1);
    }
    __syncthreads();
    if (tid < DA_GROUP)
    {
        float mx = DA_NEG_INF;
        for (int sp = 0; sp < states; ++sp)
            mx = fmaxf(mx, s_split_m[sp][tid]); // every state saw >= 1 token: mx is finite
        float sum = 0.f;
        for (int sp = 0; sp < states; ++sp)
            sum = fmaf(s_split_l[sp][tid], exp2f(s_split_m[sp][tid] - mx), sum);
        const float inv = 1.f / sum;
        for (int sp = 0; sp < states; ++sp)
            s_split_w[sp][tid] = exp2f(s_split_m[sp][tid] - mx) * inv;
    }
    __syncthreads();
    for (int i = tid; i < DA_GROUP * HEAD_DIM; i += THREADS)
    {
        const int g = i / HEAD_DIM;
        const int d = i % HEAD_DIM;
        float a = 0.f;
#pragma unroll 4
        for (int sp = 0; sp < active; ++sp)
            a = fmaf(__ldcg(part_acc + (req_base + (size_t)sp * NUM_HEADS + g) * HEAD_DIM + d), s_split_w[sp][g], a);
        for (int c = 0; c < prefix_states; ++c)
            a = fmaf(__ldcg(pre_acc + (pre_base + (size_t)c * NUM_HEADS + g) * HEAD_DIM + d), s_split_w[active + c][g], a);
        o[((size_t)b * NUM_HEADS + kvh * DA_GROUP + g) * HEAD_DIM + d] = __float2bfloat16(a);
    }
    if (tid == 0 && active > 1)
        *counter = 0u; // ready for the next launch (kernel boundaries order it before the next atomicAdd)
}

#define DA_ENTRY(NAME, THREADS, MIN_TILES)                                                                              \
    extern "C" __global__ void __launch_bounds__(THREADS)                                                              \
    NAME(const __nv_bfloat16* __restrict__ q, const __nv_bfloat16* __restrict__ k_cache,                              \
         const __nv_bfloat16* __restrict__ v_cache, const int* __restrict__ req_to_token, int req_to_token_stride,    \
         const int* __restrict__ req_pool_indices, const int* __restrict__ seq_lens, __nv_bfloat16* __restrict__ o,   \
         unsigned int* __restrict__ counters, float* __restrict__ partials, float sm_scale,                            \
         const int* __restrict__ prefix_lens, const int* __restrict__ prefix_chunks,                                   \
         const float* __restrict__ prefix_partials)                                                                    \
    {                                                                                                                  \
        const auto load_q = [&](int b, int kvh, bool, float* s_q) {                                                   \
            const __nv_bfloat16* q_b = q + ((size_t)b * NUM_HEADS + kvh * DA_GROUP) * HEAD_DIM;                        \
            for (int i = threadIdx.x; i < DA_GROUP * HEAD_DIM; i += THREADS)                                           \
                s_q[i] = __bfloat162float(q_b[i]);                                                                     \
        };                                                                                                             \
        decode_attention_body<THREADS, MIN_TILES>(load_q, k_cache, v_cache, req_to_token, req_to_token_stride,         \
                                                  req_pool_indices, seq_lens, o, counters, partials, sm_scale,         \
                                                  prefix_lens, prefix_chunks, prefix_partials);                        \
    }
DA_ENTRY(decode_attention, DA_THREADS, DA_MIN_TILES)
DA_ENTRY(decode_attention_wide, DA_WIDE_THREADS, DA_WIDE_MIN_TILES)
