// gemm_tma_check.cu -- experiment: gemm_tiled's pipeline fed by the TMA engine (cp.async.bulk.tensor, one thread
// issuing a 64 x 64 tile per operand and stage, completing on the stage's mbarrier) instead of 128 threads' cp.async,
// checked against a CPU reference and timed against gemm_tiled in the layer chain of gemm_check.cu (Qwen3-0.6B's
// 28 x 4 layer GEMMs in one graph with programmatic dependent launch).
//
// Build: nvcc -std=c++17 -O3 -gencode arch=compute_90a,code=sm_90a -I runtime/Compiler.Runtime/Kernels -o gemm_tma_check scripts/kernels/gemm_tma_check.cu -lcuda
// Run:   ./gemm_tma_check [rows...]   (default 64 32 16 8)
#include <cuda.h>

#include <string>

#include "check_common.cuh"
#define GT_STAGES 8
#include "runtime_kernels.cu"

struct alignas(64) TensorMap { unsigned long long opaque[16]; }; // CUtensorMap, passed by value

static __device__ __forceinline__ void mbar_init(unsigned bar) { asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(bar)); }
static __device__ __forceinline__ void mbar_expect(unsigned bar, unsigned bytes)
{
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes) : "memory");
}
static __device__ __forceinline__ void mbar_wait(unsigned bar, unsigned parity)
{
    asm volatile("{\n\t.reg .pred p;\n\tTMA_WAIT_%=:\n\tmbarrier.try_wait.parity.shared::cta.b64 p, [%0], %1;\n\t@!p bra TMA_WAIT_%=;\n\t}"
                 ::"r"(bar), "r"(parity) : "memory");
}
static __device__ __forceinline__ void tma_tile(unsigned dst, const TensorMap* map, int k, int row, unsigned bar)
{
    asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
                 ::"r"(dst), "l"(reinterpret_cast<unsigned long long>(map)), "r"(k), "r"(row), "r"(bar) : "memory");
}

template <int STAGES, int S>
static __device__ __forceinline__ void gemm_tma(const TensorMap* xmap, const TensorMap* wmap, __nv_bfloat16* __restrict__ y_bf16,
                                                float* __restrict__ y_f32, int M, int N, int K)
{
    constexpr int F = 64, TILE = 64 * 128, STAGE_BYTES = 2 * TILE; // x tile, then w tile
    extern __shared__ __align__(1024) unsigned char gt_shared[];
    __shared__ __align__(8) unsigned long long full[STAGES];
    const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
    const int rank = S > 1 ? (int)blockIdx.x : 0;
    const int n0 = blockIdx.y * F;
    const int k_begin = rank * (K / S), steps = K / S / GT_BK;
    const unsigned base = (unsigned)__cvta_generic_to_shared(gt_shared);
    const unsigned bars = (unsigned)__cvta_generic_to_shared(full);
    if (tid == 0)
    {
        for (int s = 0; s < STAGES; ++s) mbar_init(bars + 8 * s);
        asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
        for (int s = 0; s < STAGES - 1 && s < steps; ++s)
        {
            mbar_expect(bars + 8 * s, STAGE_BYTES);
            tma_tile(base + s * STAGE_BYTES + TILE, wmap, k_begin + s * GT_BK, n0, bars + 8 * s);
        }
    }
    wait_for_previous_kernel(); // x is the previous kernel's output
    allow_next_kernel();
    if (tid == 0)
        for (int s = 0; s < STAGES - 1 && s < steps; ++s) tma_tile(base + s * STAGE_BYTES, xmap, k_begin + s * GT_BK, 0, bars + 8 * s);
    __syncthreads(); // the barriers' initialisation, for every thread

    float acc[F / 8][4];
#pragma unroll
    for (int j = 0; j < F / 8; ++j)
#pragma unroll
        for (int i = 0; i < 4; ++i) acc[j][i] = 0.0f;
    for (int step = 0; step < steps; ++step)
    {
        const int s = step % STAGES;
        mbar_wait(bars + 8 * s, (step / STAGES) & 1);
        __syncthreads(); // every warp is done with the stage refilled next (its wgmma waited on in the step before)
        if (tid == 0 && step + STAGES - 1 < steps)
        {
            const int next = step + STAGES - 1, ns = next % STAGES;
            mbar_expect(bars + 8 * ns, STAGE_BYTES);
            tma_tile(base + ns * STAGE_BYTES + TILE, wmap, k_begin + next * GT_BK, n0, bars + 8 * ns);
            tma_tile(base + ns * STAGE_BYTES, xmap, k_begin + next * GT_BK, 0, bars + 8 * ns);
        }
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
        const unsigned xs = base + s * STAGE_BYTES;
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < GT_BK / 16; ++kk)
            wgmma_m64n64k16(acc, wgmma_desc_sw128(xs + 32 * kk), wgmma_desc_sw128(xs + TILE + 32 * kk));
        wgmma_commit();
        wgmma_wait_all();
#else
        __trap(); // sm_90a only
#endif
    }
    __syncthreads(); // the pipeline's shared memory now holds this CTA's partial tile

    float* partial = reinterpret_cast<float*>(gt_shared);
    const int g = lane >> 2, c = lane & 3;
#pragma unroll
    for (int j = 0; j < F / 8; ++j)
#pragma unroll
        for (int h = 0; h < 2; ++h)
            *reinterpret_cast<float2*>(&partial[(warp * 16 + g + 8 * h) * gt_partial_stride(F) + 8 * j + 2 * c]) =
                make_float2(acc[j][2 * h], acc[j][2 * h + 1]);
    if (S > 1) gt_cluster_sync();
    else __syncthreads();
    const int r_begin = rank * (GT_ROWS / S), r_end = min(r_begin + GT_ROWS / S, M);
    for (int i = tid; i < (r_end - r_begin) * (F / 4); i += GT_THREADS)
    {
        const int r = r_begin + i / (F / 4), f = i % (F / 4) * 4;
        const float4 sum = gt_sum_partials<S>((unsigned)__cvta_generic_to_shared(&partial[r * gt_partial_stride(F) + f]));
        const float values[4] = {sum.x, sum.y, sum.z, sum.w};
#pragma unroll
        for (int e = 0; e < 4; ++e)
        {
            const int n = n0 + f + e;
            if (n >= N) break;
            if (y_f32) y_f32[(long long)r * N + n] = values[e];
            else y_bf16[(long long)r * N + n] = __float2bfloat16(values[e]);
        }
    }
    if (S > 1) gt_cluster_sync();
}

#define TMA_ARGS const __grid_constant__ TensorMap xmap, const __grid_constant__ TensorMap wmap, __nv_bfloat16* y, float* yf, int M, int N, int K
#define TMA_ENTRY(NAME, STAGES, S) \
    extern "C" __global__ void __cluster_dims__(S, 1, 1) __launch_bounds__(GT_THREADS) NAME(TMA_ARGS) { gemm_tma<STAGES, S>(&xmap, &wmap, y, yf, M, N, K); }
extern "C" __global__ void __launch_bounds__(GT_THREADS) tma8_s1(TMA_ARGS) { gemm_tma<8, 1>(&xmap, &wmap, y, yf, M, N, K); }
TMA_ENTRY(tma8_s2, 8, 2)
TMA_ENTRY(tma8_s4, 8, 4)
TMA_ENTRY(tma8_s8, 8, 8)
extern "C" __global__ void __launch_bounds__(GT_THREADS) tma12_s1(TMA_ARGS) { gemm_tma<12, 1>(&xmap, &wmap, y, yf, M, N, K); }
TMA_ENTRY(tma12_s2, 12, 2)
TMA_ENTRY(tma12_s4, 12, 4)
TMA_ENTRY(tma12_s8, 12, 8)

namespace
{
using TmaKernel = void (*)(TensorMap, TensorMap, __nv_bfloat16*, float*, int, int, int);
struct TmaVariant { const char* name; TmaKernel k[4]; int stages; };
const TmaVariant kTma[] = {{"tma8", {tma8_s1, tma8_s2, tma8_s4, tma8_s8}, 8}, {"tma12", {tma12_s1, tma12_s2, tma12_s4, tma12_s8}, 12}};
using TiledKernel = void (*)(const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*, float*, int, int, int);
const TiledKernel kTiled[4] = {gemm_tiled_s1, gemm_tiled_s2, gemm_tiled_s4, gemm_tiled_s8};
int index_of(int split) { return split == 1 ? 0 : split == 2 ? 1 : split == 4 ? 2 : 3; }
int shared_bytes(int stages) { return std::max(stages * 16384, GT_ROWS * gt_partial_stride(64) * 4); }
int g_failures = 0;

TensorMap make_map(const void* base, int rows, int K)
{
    TensorMap map;
    cuuint64_t dims[2] = {(cuuint64_t)K, (cuuint64_t)rows};
    cuuint64_t strides[1] = {(cuuint64_t)K * 2};
    cuuint32_t box[2] = {64, 64}, element_strides[2] = {1, 1};
    CUresult r = cuTensorMapEncodeTiled(reinterpret_cast<CUtensorMap*>(&map), CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, const_cast<void*>(base), dims,
                                        strides, box, element_strides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                        CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r != CUDA_SUCCESS) { std::fprintf(stderr, "cuTensorMapEncodeTiled failed: %d\n", (int)r); std::exit(2); }
    return map;
}


void launch_tma(const TmaVariant& v, int split, const TensorMap& xm, const TensorMap& wm, __nv_bfloat16* y, float* yf, int M, int N, int K,
                cudaStream_t stream = 0)
{
    launch(stream, true, v.k[index_of(split)], dim3(split, (N + 63) / 64), dim3(GT_THREADS), shared_bytes(v.stages), xm, wm, y, yf, M, N, K);
}

void launch_tiled(int split, const __nv_bfloat16* x, const __nv_bfloat16* w, __nv_bfloat16* y, int M, int N, int K, cudaStream_t stream)
{
    launch(stream, true, kTiled[index_of(split)], dim3(split, (N + 63) / 64), dim3(GT_THREADS), gt_shared_bytes(64, GT_STAGES), x, w, y, (float*)nullptr, M, N, K);
}


void check(int M, int N, int K, bool float_out)
{
    GemmCase c(M, N, K, float_out);
    const TensorMap xm = make_map(c.x, M, K), wm = make_map(c.w, N, K);
    for (const auto& v : kTma)
        for (int split = 1; split <= 8; split *= 2)
        {
            if (K % (64 * split)) continue;
            c.clear();
            launch_tma(v, split, xm, wm, float_out ? nullptr : static_cast<__nv_bfloat16*>(c.y), float_out ? c.yf : nullptr, M, N, K);
            if (!c.compare(std::string(v.name) + "/" + std::to_string(split))) ++g_failures;
        }
}

struct Shape { const char* name; int n, k; };
const Shape kLayer[] = {{"qkv", 4096, 1024}, {"o", 1024, 2048}, {"gu", 6144, 1024}, {"down", 1024, 3072}};
constexpr int kLayers = 28;


// Every shape's split at its best for the chain, one shape at a time over two rounds, from a uniform start.
template <typename Run>
float descend(Run&& run, int (&splits)[4], int M)
{
    float best = INFINITY;
    for (int s = 1; s <= 8; s *= 2)
    {
        int uniform[4];
        for (int j = 0; j < 4; ++j) { uniform[j] = s; while (kLayer[j].k % (64 * uniform[j])) uniform[j] /= 2; }
        const float us = run(uniform);
        if (us < best) { best = us; std::copy(uniform, uniform + 4, splits); }
    }
    for (int round = 0; round < 2; ++round)
        for (int j = 0; j < 4; ++j)
            for (int s = 1; s <= 8; s *= 2)
            {
                if (kLayer[j].k % (64 * s)) continue;
                int trial[4];
                std::copy(splits, splits + 4, trial);
                trial[j] = s;
                const float us = run(trial);
                if (us < best) { best = us; std::copy(trial, trial + 4, splits); }
            }
    return best;
}

void chain(int M, int carveout)
{
    size_t layer_elems = 0, offsets[4];
    for (int j = 0; j < 4; ++j) { offsets[j] = layer_elems; layer_elems += (size_t)kLayer[j].n * kLayer[j].k; }
    const double bytes = (double)layer_elems * 2 * kLayers;
    __nv_bfloat16 *w, *x, *y;
    CUDA_CHECK(cudaMalloc(&w, layer_elems * 2 * kLayers));
    CUDA_CHECK(cudaMemset(w, 0x3c, layer_elems * 2 * kLayers));
    CUDA_CHECK(cudaMalloc(&x, (size_t)64 * 6144 * 2));
    CUDA_CHECK(cudaMemset(x, 0x3c, (size_t)64 * 6144 * 2));
    CUDA_CHECK(cudaMalloc(&y, (size_t)64 * 6144 * 2));
    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    for (auto k : kTiled) CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, carveout));
    for (const auto& v : kTma)
        for (auto k : v.k) CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, v.stages > 8 ? 100 : carveout));
    auto weight = [&](int l, int j) { return w + layer_elems * l + offsets[j]; };
    std::vector<TensorMap> wmaps, xmaps;
    for (int l = 0; l < kLayers; ++l)
        for (int j = 0; j < 4; ++j) wmaps.push_back(make_map(weight(l, j), kLayer[j].n, kLayer[j].k));
    for (int j = 0; j < 4; ++j) xmaps.push_back(make_map(x, M, kLayer[j].k));

    int splits[4];
    const float tiled = descend([&](const int (&s)[4]) {
        return time_graph(stream, [&] {
            for (int l = 0; l < kLayers; ++l)
                for (int j = 0; j < 4; ++j) launch_tiled(s[j], x, weight(l, j), y, M, kLayer[j].n, kLayer[j].k, stream);
        });
    }, splits, M);
    std::printf("chain M=%-2d tiled (cp.async, 8 stages) best splits %d/%d/%d/%d: %7.1f us %5.0f GB/s\n", M, splits[0], splits[1], splits[2],
                splits[3], tiled, bytes / (tiled * 1e-6) / 1e9);
    for (const auto& v : kTma)
    {
        const float us = descend([&](const int (&s)[4]) {
            return time_graph(stream, [&] {
                for (int l = 0; l < kLayers; ++l)
                    for (int j = 0; j < 4; ++j)
                        launch_tma(v, s[j], xmaps[j], wmaps[l * 4 + j], y, nullptr, M, kLayer[j].n, kLayer[j].k, stream);
            });
        }, splits, M);
        std::printf("chain M=%-2d %-5s (TMA) best splits %d/%d/%d/%d: %7.1f us %5.0f GB/s\n", M, v.name, splits[0], splits[1], splits[2], splits[3], us,
                    bytes / (us * 1e-6) / 1e9);
    }
    cudaStreamDestroy(stream);
    cudaFree(w); cudaFree(x); cudaFree(y);
}
} // namespace

int main(int argc, char** argv)
{
    for (auto k : kTiled) CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, gt_shared_bytes(64, GT_STAGES)));
    for (const auto& v : kTma)
        for (auto k : v.k) CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, shared_bytes(v.stages)));
    for (int M : {1, 13, 17, 64})
    {
        check(M, 1000, 2048, false);
        check(M, 130, 64, true);
    }
    check(64, 4096, 1024, false);
    check(33, 1024, 3072, false);
    if (g_failures) { std::printf("FAILED: %d check(s)\n", g_failures); return 1; }
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    const int carveout = (int)std::ceil(100.0 * (gt_shared_bytes(64, GT_STAGES) + 1024) / prop.sharedMemPerMultiprocessor);
    std::vector<int> rows;
    for (int i = 1; i < argc; ++i) rows.push_back(std::atoi(argv[i]));
    if (rows.empty()) rows = {64, 32, 16, 8};
    for (int M : rows) chain(M, carveout);
    return 0;
}
