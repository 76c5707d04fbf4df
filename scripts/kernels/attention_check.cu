// attention_check.cu -- correctness and timing harness for the library attention kernels.
//
// Build (one binary per head configuration, same -D constants as the runtime's NVRTC compile):
//   nvcc -std=c++17 -O3 -arch=sm_90 -DNUM_HEADS=16 -DNUM_KV_HEADS=8 -DHEAD_DIM=128 \
//        -I runtime/Compiler.Runtime/Kernels -o attention_check scripts/kernels/attention_check.cu
// Run: ./attention_check [--no-timing] [--quick]
//
// Inputs are random (fixed seeds) and laid out like the engine's pool: every request's req_to_token row sits at a
// shuffled pool index and maps its positions to a random permutation of the slots. Outputs are compared with a
// CPU reference computed from the same bf16 inputs (double accumulation); any mismatch, NaN, non-zero split counter
// left behind or non-deterministic decode output makes the process exit 1. Timings are medians of many launches,
// each after evicting L2, measured with cudaEvents around the kernel alone.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "check_common.cuh"
#include "decode_attention.cu"
#include "extend_attention.cu"

namespace
{
constexpr int H = NUM_HEADS;
constexpr int KVH = NUM_KV_HEADS;
constexpr int D = HEAD_DIM;
constexpr int GROUP = H / KVH;

int g_failures = 0;
bool g_timing = true;
bool g_quick = false;
int g_sms = 0;
void* g_flush = nullptr;
constexpr size_t kFlushBytes = 256u << 20; // > H100/H200 L2

// Deterministic uniform(-1, 1) * scale, rounded to bf16, filled on the GPU (the large caches make host RNG slow).
__global__ void fill_bf16(__nv_bfloat16* p, size_t n, uint32_t seed, float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    {
        uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32 | seed);
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ull;
        x ^= x >> 33;
        const float u = (float)(x >> 40) * (1.0f / 16777216.0f); // [0, 1)
        p[i] = __float2bfloat16((2.f * u - 1.f) * scale);
    }
}

struct DeviceBuf
{
    void* ptr = nullptr;
    explicit DeviceBuf(size_t bytes) { CUDA_CHECK(cudaMalloc(&ptr, bytes > 0 ? bytes : 16)); }
    ~DeviceBuf() { cudaFree(ptr); }
    DeviceBuf(const DeviceBuf&) = delete;
    DeviceBuf& operator=(const DeviceBuf&) = delete;
    template <typename T> T* as() const { return static_cast<T*>(ptr); }
};

template <typename T> void upload(const DeviceBuf& dst, const std::vector<T>& src)
{
    CUDA_CHECK(cudaMemcpy(dst.ptr, src.data(), src.size() * sizeof(T), cudaMemcpyHostToDevice));
}

template <typename T> std::vector<T> download(const DeviceBuf& src, size_t count)
{
    std::vector<T> v(count);
    CUDA_CHECK(cudaMemcpy(v.data(), src.ptr, count * sizeof(T), cudaMemcpyDeviceToHost));
    return v;
}

// One batch of requests in the engine's layout.
struct Problem
{
    std::vector<int> prefix, extend; // decode: prefix = seq_len - 1, extend = 1
    std::vector<int> qo_indptr, pool_idx, req_to_token;
    int stride = 0, num_slots = 0, total_q = 0;
    std::vector<uint16_t> q, k, v; // host copies (bf16 bits)
    DeviceBuf *dq = nullptr, *dk = nullptr, *dv = nullptr, *dr2t = nullptr, *dpool = nullptr, *dindptr = nullptr,
              *dprefix = nullptr, *dseq = nullptr, *dout = nullptr;

    int batch() const { return (int)prefix.size(); }
    int kv_len(int b) const { return prefix[b] + extend[b]; }

    // groups > 0: request b belongs to group b % groups and its first `shared` positions are the slots of its group's
    // first request (a prefix shared through the radix cache; groups interleave as requests arrive in any order).
    Problem(std::vector<int> prefix_, std::vector<int> extend_, uint32_t seed, int groups = 0, int shared = 0)
        : prefix(std::move(prefix_)), extend(std::move(extend_))
    {
        std::mt19937 rng(seed);
        const int bsz = batch();
        int max_kv = 1;
        long long total_kv = 0;
        for (int b = 0; b < bsz; ++b)
        {
            max_kv = std::max(max_kv, kv_len(b));
            total_kv += kv_len(b);
        }
        stride = max_kv + 7;
        const int pool_rows = bsz + 3;
        std::vector<int> rows(pool_rows);
        std::iota(rows.begin(), rows.end(), 0);
        std::shuffle(rows.begin(), rows.end(), rng);
        pool_idx.assign(rows.begin(), rows.begin() + bsz);
        num_slots = (int)total_kv + 13;
        std::vector<int> slots(num_slots);
        std::iota(slots.begin(), slots.end(), 0);
        std::shuffle(slots.begin(), slots.end(), rng);
        req_to_token.assign((size_t)pool_rows * stride, -1);
        size_t next = 0;
        for (int b = 0; b < bsz; ++b)
            for (int p = 0; p < kv_len(b); ++p)
            {
                const int leader = groups > 0 ? b % groups : b;
                req_to_token[(size_t)pool_idx[b] * stride + p] =
                    leader != b && p < shared && p < kv_len(leader) ? req_to_token[(size_t)pool_idx[leader] * stride + p] : slots[next++];
            }
        qo_indptr.assign(bsz + 1, 0);
        for (int b = 0; b < bsz; ++b)
            qo_indptr[b + 1] = qo_indptr[b] + extend[b];
        total_q = qo_indptr[bsz];

        const size_t q_elems = (size_t)total_q * H * D, kv_elems = (size_t)num_slots * KVH * D;
        dq = new DeviceBuf(q_elems * 2);
        dk = new DeviceBuf(kv_elems * 2);
        dv = new DeviceBuf(kv_elems * 2);
        dout = new DeviceBuf(q_elems * 2);
        fill_bf16<<<1024, 256>>>(dq->as<__nv_bfloat16>(), q_elems, seed * 3 + 1, 1.5f * 1.7320508f);
        fill_bf16<<<1024, 256>>>(dk->as<__nv_bfloat16>(), kv_elems, seed * 3 + 2, 1.7320508f);
        fill_bf16<<<1024, 256>>>(dv->as<__nv_bfloat16>(), kv_elems, seed * 3 + 3, 1.7320508f);
        CUDA_CHECK(cudaGetLastError());
        CUDA_CHECK(cudaMemset(dout->ptr, 0xff, q_elems * 2)); // NaN pattern: rows the kernel forgets are caught
        q = download<uint16_t>(*dq, q_elems);
        k = download<uint16_t>(*dk, kv_elems);
        v = download<uint16_t>(*dv, kv_elems);

        std::vector<int> seq(bsz);
        for (int b = 0; b < bsz; ++b)
            seq[b] = kv_len(b);
        dr2t = new DeviceBuf(req_to_token.size() * 4);
        dpool = new DeviceBuf(bsz * 4);
        dindptr = new DeviceBuf((bsz + 1) * 4);
        dprefix = new DeviceBuf(bsz * 4);
        dseq = new DeviceBuf(bsz * 4);
        upload(*dr2t, req_to_token);
        upload(*dpool, pool_idx);
        upload(*dindptr, qo_indptr);
        upload(*dprefix, prefix);
        upload(*dseq, seq);
    }

    ~Problem()
    {
        for (DeviceBuf* p : {dq, dk, dv, dr2t, dpool, dindptr, dprefix, dseq, dout})
            delete p;
    }

    // Reference output of new token i of request b, all heads: [H][D].
    std::vector<double> reference(int b, int i) const
    {
        const int row = qo_indptr[b] + i;
        const int visible = prefix[b] + i + 1;
        const double scale = 1.0 / std::sqrt((double)D);
        std::vector<double> out((size_t)H * D, 0.0), s(visible);
        std::vector<float> qf(D);
        for (int h = 0; h < H; ++h)
        {
            const int kvh = h / GROUP;
            for (int x = 0; x < D; ++x)
                qf[x] = bf16_to_float(q[((size_t)row * H + h) * D + x]);
            double mx = -1e300;
            for (int j = 0; j < visible; ++j)
            {
                const size_t off = ((size_t)req_to_token[(size_t)pool_idx[b] * stride + j] * KVH + kvh) * D;
                double dot = 0;
                for (int x = 0; x < D; ++x)
                    dot += (double)qf[x] * bf16_to_float(k[off + x]);
                s[j] = dot * scale;
                mx = std::max(mx, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < visible; ++j)
                sum += s[j] = std::exp(s[j] - mx);
            double* o = &out[(size_t)h * D];
            for (int j = 0; j < visible; ++j)
            {
                const size_t off = ((size_t)req_to_token[(size_t)pool_idx[b] * stride + j] * KVH + kvh) * D;
                const double p = s[j] / sum;
                for (int x = 0; x < D; ++x)
                    o[x] += p * bf16_to_float(v[off + x]);
            }
        }
        return out;
    }
};

// (request, new-token index) rows to check: all while the CPU reference stays within ~5e8 multiply-adds (a few
// seconds), otherwise a sample that always holds the first request's and the last request's last rows (the longest
// contexts), first rows, and random rows, until that budget is spent (at least 8 rows).
std::vector<std::pair<int, int>> rows_to_check(const Problem& p, uint32_t seed)
{
    const double budget = 5e8;
    auto cost = [&](int b, int i) { return 2.0 * H * D * (p.prefix[b] + i + 1); };
    double total = 0;
    for (int b = 0; b < p.batch(); ++b)
        for (int i = 0; i < p.extend[b]; ++i)
            total += cost(b, i);
    std::vector<std::pair<int, int>> rows;
    if (total <= budget)
    {
        for (int b = 0; b < p.batch(); ++b)
            for (int i = 0; i < p.extend[b]; ++i)
                rows.push_back({b, i});
        return rows;
    }
    std::mt19937 rng(seed);
    double spent = 0;
    for (int t = 0; t < 48 && (t < 8 || spent < budget); ++t)
    {
        const int b = t == 0 ? 0 : (t == 1 ? p.batch() - 1 : (int)(rng() % p.batch()));
        const int e = p.extend[b];
        const int i = t < 2 ? e - 1 : (t % 3 == 0 ? 0 : (int)(rng() % e));
        rows.push_back({b, i});
        spent += cost(b, i);
    }
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    return rows;
}

struct Check
{
    double max_abs = 0, rel_l2 = 0;
    bool ok = true;
};

Check compare(const Problem& p, const std::vector<uint16_t>& out, const std::vector<std::pair<int, int>>& rows,
              double atol, double rtol, double l2_tol)
{
    Check c;
    double err2 = 0, ref2 = 0;
    for (auto [b, i] : rows)
    {
        const std::vector<double> ref = p.reference(b, i);
        const size_t row = (size_t)(p.qo_indptr[b] + i);
        for (int e = 0; e < H * D; ++e)
        {
            const double got = bf16_to_float(out[row * H * D + e]);
            const double err = std::fabs(got - ref[e]);
            if (!(err <= atol + rtol * std::fabs(ref[e]))) // NaN fails too
            {
                if (c.ok)
                    std::printf("    first mismatch: request %d token %d head %d dim %d: got %.6f expected %.6f\n", b, i,
                                e / D, e % D, got, ref[e]);
                c.ok = false;
            }
            c.max_abs = std::isnan(err) ? INFINITY : std::max(c.max_abs, err);
            err2 += std::isnan(err) ? INFINITY : err * err;
            ref2 += ref[e] * ref[e];
        }
    }
    c.rel_l2 = std::sqrt(err2 / std::max(ref2, 1e-30));
    if (!(c.rel_l2 <= l2_tol))
        c.ok = false;
    return c;
}

template <typename Launch> float median_us(Launch launch, int iters)
{
    cudaEvent_t start, stop;
    CUDA_CHECK(cudaEventCreate(&start));
    CUDA_CHECK(cudaEventCreate(&stop));
    std::vector<float> times;
    for (int it = 0; it < iters + 3; ++it)
    {
        CUDA_CHECK(cudaMemsetAsync(g_flush, it & 0xff, kFlushBytes)); // evict L2: time HBM, not cache
        CUDA_CHECK(cudaEventRecord(start));
        launch();
        CUDA_CHECK(cudaEventRecord(stop));
        CUDA_CHECK(cudaEventSynchronize(stop));
        float ms = 0;
        CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
        if (it >= 3)
            times.push_back(ms * 1000.f);
    }
    CUDA_CHECK(cudaEventDestroy(start));
    CUDA_CHECK(cudaEventDestroy(stop));
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// Mirrors AttentionKernels.DecodeNumSplits (workspace bound left out: the harness allocates enough).
// Mirrors AttentionKernels.DecodeNumSplits (the wide entry point: fewer CTAs per SM, chunks of two of its tiles).
int decode_num_splits(int batch, int max_seq_len, bool wide)
{
    const int threads = wide ? DA_WIDE_THREADS : DA_THREADS;
    const int by_sm = std::min(DA_MAX_SPLITS, std::max(1, 4 * DA_THREADS / threads) * g_sms / (batch * KVH));
    const int min_chunk = std::max(32, (wide ? 2 : 1) * threads / DA_TPR * DA_UNROLL);
    const int by_len = std::max(1, (max_seq_len + min_chunk - 1) / min_chunk);
    return std::max(1, std::min(by_sm, by_len));
}

// A cascade plan for Problem's groups (request b shares its first `shared` tokens with request b % groups): the
// members of each group in tiles of up to SP_TILE_REQUESTS, each tile's prefix its shortest shareable length in whole
// key tiles, cut into chunks of at least 256 tokens (at most DA_MAX_PREFIX_CHUNKS). Not SharedPrefixPlanner's exact
// rule (the kernels take any plan of this form), so the harness checks them on plans of its own.
struct CascadePlan
{
    std::vector<int> prefix_lens, prefix_chunks, tiles, work{0, 0, 0, 0};
    int items() const { return work[0]; }

    CascadePlan(const std::vector<int>& seq_lens, int groups, int shared)
        : prefix_lens(seq_lens.size(), 0), prefix_chunks(seq_lens.size(), 0)
    {
        const int batch = (int)seq_lens.size();
        for (int g = 0; g < groups; ++g)
        {
            std::vector<int> members;
            for (int b = g; b < batch; b += groups)
                members.push_back(b);
            for (size_t first = 0; first < members.size(); first += SP_TILE_REQUESTS)
            {
                const size_t last = std::min(members.size(), first + SP_TILE_REQUESTS);
                int prefix = std::min(shared, seq_lens[g]); // what the group's first request has of it
                for (size_t m = first; m < last; ++m)
                    prefix = std::min(prefix, seq_lens[members[m]] - 1);
                prefix = prefix / EA_BLOCK_N * EA_BLOCK_N;
                if (last - first < 2 || prefix < EA_BLOCK_N)
                    continue;
                int chunks = std::min(DA_MAX_PREFIX_CHUNKS, std::max(1, prefix / 256));
                const int chunk = ((prefix + chunks - 1) / chunks + EA_BLOCK_N - 1) / EA_BLOCK_N * EA_BLOCK_N;
                chunks = (prefix + chunk - 1) / chunk;
                const int tile = (int)(tiles.size() / SP_TILE_REQUESTS);
                for (int c = 0; c < chunks; ++c)
                {
                    work.insert(work.end(), {tile, c, c * chunk, std::min(prefix, (c + 1) * chunk)});
                    ++work[0];
                }
                for (int j = 0; j < SP_TILE_REQUESTS; ++j)
                {
                    const int b = first + j < last ? members[first + j] : -1;
                    tiles.push_back(b);
                    if (b >= 0)
                        prefix_lens[b] = prefix, prefix_chunks[b] = chunks;
                }
            }
        }
        if (tiles.empty())
            tiles.push_back(-1);
    }
};

// cascade: the groups' shared prefixes go through shared_prefix_attention first (timed together with decode).
void run_decode(const char* label, std::vector<int> seq_lens, uint32_t seed, int forced_splits = 0, bool wide = false,
                int groups = 0, int shared = 0, bool cascade = false)
{
    const int batch = (int)seq_lens.size();
    std::vector<int> prefix(batch), extend(batch, 1);
    int max_seq = 0;
    double kv_bytes = 0;
    for (int b = 0; b < batch; ++b)
    {
        prefix[b] = seq_lens[b] - 1;
        max_seq = std::max(max_seq, seq_lens[b]);
        kv_bytes += (double)seq_lens[b] * KVH * D * 2 * 2;
    }
    Problem p(prefix, extend, seed, groups, shared);
    const int splits = forced_splits > 0 ? forced_splits : decode_num_splits(batch, max_seq, wide);
    DeviceBuf counters((size_t)batch * KVH * 4);
    DeviceBuf partials((size_t)batch * splits * H * (D + 2) * 4);
    CUDA_CHECK(cudaMemset(counters.ptr, 0, (size_t)batch * KVH * 4));
    const CascadePlan plan(seq_lens, cascade ? groups : 0, shared);
    DeviceBuf dprefix_lens(batch * 4), dprefix_chunks(batch * 4), dtiles(plan.tiles.size() * 4), dwork(plan.work.size() * 4);
    DeviceBuf prefix_partials((size_t)batch * DA_MAX_PREFIX_CHUNKS * H * (D + 2) * 4);
    upload(dprefix_lens, plan.prefix_lens);
    upload(dprefix_chunks, plan.prefix_chunks);
    upload(dtiles, plan.tiles);
    upload(dwork, plan.work);
    const float sm_scale = 1.f / std::sqrt((float)D);
    const auto kernel = wide ? decode_attention_wide : decode_attention;
    auto launch = [&] {
        if (plan.items() > 0)
            shared_prefix_attention<<<dim3(std::min(plan.items(), (4 * g_sms + KVH - 1) / KVH), KVH), EA_THREADS, EA_SMEM_BYTES>>>(
                p.dq->as<__nv_bfloat16>(), p.dk->as<__nv_bfloat16>(), p.dv->as<__nv_bfloat16>(), p.dr2t->as<int>(), p.stride,
                p.dpool->as<int>(), dtiles.as<int>(), dwork.as<int>(), prefix_partials.as<float>(), batch,
                DA_MAX_PREFIX_CHUNKS, sm_scale);
        kernel<<<dim3(batch, KVH, splits), wide ? DA_WIDE_THREADS : DA_THREADS>>>(
            p.dq->as<__nv_bfloat16>(), p.dk->as<__nv_bfloat16>(), p.dv->as<__nv_bfloat16>(), p.dr2t->as<int>(), p.stride,
            p.dpool->as<int>(), p.dseq->as<int>(), p.dout->as<__nv_bfloat16>(), counters.as<unsigned int>(),
            partials.as<float>(), sm_scale, dprefix_lens.as<int>(), dprefix_chunks.as<int>(), prefix_partials.as<float>());
    };
    launch();
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<uint16_t> out = download<uint16_t>(*p.dout, (size_t)batch * H * D);
    const Check c = compare(p, out, rows_to_check(p, seed), 1e-3, 1e-2, 1e-2);

    // Counters must be back at zero, and a second launch must reproduce the output bit for bit.
    launch();
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<uint16_t> again = download<uint16_t>(*p.dout, (size_t)batch * H * D);
    const std::vector<unsigned int> cnt = download<unsigned int>(counters, (size_t)batch * KVH);
    const bool counters_zero = std::all_of(cnt.begin(), cnt.end(), [](unsigned int x) { return x == 0; });
    const bool deterministic = again == out;
    const bool ok = c.ok && counters_zero && deterministic;
    if (!ok)
        ++g_failures;

    std::printf("decode%s %-8s batch=%-3d seq=%-6d splits=%-3d cascade=%-3d max_abs=%.2e rel_l2=%.2e %s%s%s", wide ? "-wide" : "", label, batch, max_seq, splits, plan.items(),
                c.max_abs, c.rel_l2, ok ? "PASS" : "FAIL", counters_zero ? "" : " (counters not reset)",
                deterministic ? "" : " (not deterministic)");
    if (g_timing && (forced_splits == 0 || !std::strcmp(label, "splits")))
    {
        const float us = median_us(launch, g_quick ? 10 : 50);
        const double bytes = kv_bytes + 2.0 * batch * H * D * 2;
        std::printf("  %9.2f us  %7.1f GB/s", us, bytes / (us * 1e-6) / 1e9);
    }
    std::printf("\n");
}

void run_extend(const char* label, std::vector<int> prefix, std::vector<int> extend, uint32_t seed)
{
    const int batch = (int)prefix.size();
    Problem p(prefix, extend, seed);
    int max_ext = 0;
    double flops = 0;
    for (int b = 0; b < batch; ++b)
    {
        max_ext = std::max(max_ext, extend[b]);
        for (int i = 0; i < extend[b]; ++i)
            flops += 4.0 * D * H * (prefix[b] + i + 1);
    }
    const dim3 grid(H, (max_ext + EA_BLOCK_M - 1) / EA_BLOCK_M, batch);
    const float sm_scale = 1.f / std::sqrt((float)D);
    auto launch = [&] {
        extend_attention<<<grid, EA_THREADS, EA_SMEM_BYTES>>>(
            p.dq->as<__nv_bfloat16>(), p.dk->as<__nv_bfloat16>(), p.dv->as<__nv_bfloat16>(), p.dr2t->as<int>(), p.stride,
            p.dpool->as<int>(), p.dindptr->as<int>(), p.dprefix->as<int>(), p.dout->as<__nv_bfloat16>(), sm_scale);
    };
    launch();
    CUDA_CHECK(cudaGetLastError());
    CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<uint16_t> out = download<uint16_t>(*p.dout, (size_t)p.total_q * H * D);
    const Check c = compare(p, out, rows_to_check(p, seed), 1e-2, 1e-2, 2e-2);
    if (!c.ok)
        ++g_failures;
    int max_prefix = *std::max_element(prefix.begin(), prefix.end());
    std::printf("extend %-8s batch=%-3d prefix<=%-5d extend<=%-5d max_abs=%.2e rel_l2=%.2e %s", label, batch, max_prefix,
                max_ext, c.max_abs, c.rel_l2, c.ok ? "PASS" : "FAIL");
    if (g_timing)
    {
        const float us = median_us(launch, g_quick ? 10 : 30);
        std::printf("  %9.2f us  %7.1f TFLOP/s", us, flops / (us * 1e-6) / 1e12);
    }
    std::printf("\n");
}
} // namespace

int main(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
    {
        if (!std::strcmp(argv[i], "--no-timing"))
            g_timing = false;
        else if (!std::strcmp(argv[i], "--quick"))
            g_quick = true;
        else
        {
            std::fprintf(stderr, "usage: %s [--no-timing] [--quick]\n", argv[0]);
            return 2;
        }
    }
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    g_sms = prop.multiProcessorCount;
    CUDA_CHECK(cudaMalloc(&g_flush, kFlushBytes));
    if (EA_SMEM_BYTES > 48 * 1024)
    {
        CUDA_CHECK(cudaFuncSetAttribute(extend_attention, cudaFuncAttributeMaxDynamicSharedMemorySize, EA_SMEM_BYTES));
        CUDA_CHECK(cudaFuncSetAttribute(shared_prefix_attention, cudaFuncAttributeMaxDynamicSharedMemorySize, EA_SMEM_BYTES));
    }

    cudaFuncAttributes da, ea;
    CUDA_CHECK(cudaFuncGetAttributes(&da, decode_attention));
    CUDA_CHECK(cudaFuncGetAttributes(&ea, extend_attention));
    std::printf("%s, %d SMs | NUM_HEADS=%d NUM_KV_HEADS=%d HEAD_DIM=%d\n", prop.name, g_sms, H, KVH, D);
    std::printf("decode_attention: %d regs, %zu B local (spill), %zu B static smem | extend_attention: %d regs, %zu B local, "
                "%d B dynamic smem\n",
                da.numRegs, da.localSizeBytes, da.sharedSizeBytes, ea.numRegs, ea.localSizeBytes, EA_SMEM_BYTES);
    cudaFuncAttributes dw;
    CUDA_CHECK(cudaFuncGetAttributes(&dw, decode_attention_wide));
    std::printf("decode_attention_wide: %d threads, %d regs, %zu B local (spill), %zu B static smem\n", DA_WIDE_THREADS,
                dw.numRegs, dw.localSizeBytes, dw.sharedSizeBytes);

    std::mt19937 rng(1234);
    uint32_t seed = 1;

    // Decode: batch x seq_len grid, then mixed lengths, then forced split counts (idle splits, many splits, one split).
    for (int batch : {1, 4, 64})
        for (int seq : {1, 17, 128, 1024, 8192})
        {
            if (g_quick && batch * seq > 64 * 1024)
                continue;
            run_decode("uniform", std::vector<int>(batch, seq), seed++);
        }
    {
        std::vector<int> mixed(16);
        for (int& s : mixed)
            s = 1 + (int)(rng() % 3000);
        run_decode("mixed", mixed, seed++);
        for (int splits : {1, 3, 64})
            run_decode("forced", {1, 40, 129, 1000, 5000}, seed++, splits);
        // bench-one-batch's batch 64 (contexts 129-192): one wave of CTAs unsplit, against more in flight (timed).
        for (int splits : {1, 2, 3, 4})
            run_decode("splits", std::vector<int>(64, 160), seed++, splits);
    }
    // The wide entry point (few requests): short contexts in one CTA, long ones split, and forced split counts.
    for (int batch : {1, 4, 8})
        for (int seq : {1, 17, 129, 256, 257, 1024, 8192})
            run_decode("uniform", std::vector<int>(batch, seq), seed++, 0, true);
    for (int splits : {1, 3, 64})
        run_decode("forced", {1, 40, 129, 1000, 5000}, seed++, splits, true);
    // generated-shared-prefix in serving: 256 requests, 16 groups sharing a 2048-token prefix, own tokens after it
    // (GB/s counts every request's KV, shared or not).
    {
        std::vector<int> lens(256);
        for (int& s : lens)
            s = 2048 + 128 + (int)(rng() % 256);
        run_decode("shared", lens, seed, 0, false, 16, 2048);
        run_decode("cascade", lens, seed, 0, false, 16, 2048, true);
        run_decode("unshared", lens, seed++);
    }
    // Cascade plans of every shape: one tile of two, prefixes that are not whole tiles, ragged groups, a tile past its
    // request count, forced split counts after the prefix, and the wide entry point.
    run_decode("cascade", {300, 300}, seed++, 0, false, 1, 299, true);
    run_decode("cascade", {1000, 1100, 1200, 70, 1500}, seed++, 0, false, 2, 900, true);
    {
        std::vector<int> lens(100);
        for (int& s : lens)
            s = 600 + (int)(rng() % 4000);
        run_decode("cascade", lens, seed++, 0, false, 3, 5000, true);
        for (int splits : {1, 3, 64})
            run_decode("cascade", lens, seed++, splits, false, 3, 3000, true);
    }
    run_decode("cascade", {129, 700, 2000, 2000}, seed++, 0, true, 1, 2000, true);
    for (int batch : {128, 256})
        for (int seq : {129, 1024})
            if (!g_quick || batch * seq <= 64 * 1024)
                run_decode("uniform", std::vector<int>(batch, seq), seed++);

    // Extend: batch x prefix x extend grid, odd and long prompts, then a mixed chunked-prefill batch.
    for (int batch : {1, 4, 64})
        for (int prefix : {0, 77})
            for (int ext : {1, 128})
                run_extend("grid", std::vector<int>(batch, prefix), std::vector<int>(batch, ext), seed++);
    run_extend("odd", {0}, {1000}, seed++);
    run_extend("odd", {5, 300}, {63, 65}, seed++);
    if (!g_quick)
    {
        run_extend("long", {0}, {8192}, seed++);
        run_extend("long", {4096}, {4096}, seed++);
    }
    {
        std::vector<int> prefix(16), extend(16);
        for (int b = 0; b < 16; ++b)
        {
            prefix[b] = (int)(rng() % 300);
            extend[b] = 1 + (int)(rng() % 300);
        }
        run_extend("mixed", prefix, extend, seed++);
    }

    CUDA_CHECK(cudaFree(g_flush));
    if (g_failures > 0)
    {
        std::printf("FAILED: %d attention check(s) mismatched (NUM_HEADS=%d NUM_KV_HEADS=%d HEAD_DIM=%d)\n", g_failures, H,
                    KVH, D);
        return 1;
    }
    std::printf("ALL PASS (NUM_HEADS=%d NUM_KV_HEADS=%d HEAD_DIM=%d)\n", H, KVH, D);
    return 0;
}
