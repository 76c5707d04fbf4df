// gemm_check.cu -- correctness and timing harness for the decode GEMMs of runtime_kernels.cu (gemv_bf16_p*,
// gemm_skinny_*, gemm_tiled_s*), against cuBLAS; the layer chain also times gemv_bf16_bulk.
//
// Build: nvcc -std=c++17 -O3 -gencode arch=compute_90a,code=sm_90a -I runtime/Compiler.Runtime/Kernels -o gemm_check scripts/kernels/gemm_check.cu -lcublas
//        (sm_90a: gemm_tiled on wgmma, as the runtime runs it on an H100; -arch=sm_90 builds its mma.sync path)
// Run:   ./gemm_check [--no-timing] [--rows 32,64] | [CHAIN_ONLY=tiled,gt_64_4] [CHAIN_CARVEOUT=57] ./gemm_check --chain 32,64
//
// Correctness: odd row counts, feature counts that are not a multiple of a tile and every ksplit, bf16 and fp32
// outputs, against a CPU reference from the same bf16 inputs; any mismatch makes the process exit 1.
// Timing: the weight shapes of Qwen3-0.6B and Llama-3.1-8B at decode batch sizes. Each launch reads another copy
// of the weights from a 1 GiB pool, so they come from HBM as in a forward step (28 layers of weights do not fit
// L2), not from L2; x stays in L2 as it does there. Time per launch: events around 200 back-to-back launches.
// --chain: Qwen3-0.6B's 28 x 4 layer GEMMs in one graph (see chain() below), per gemm_tiled variant and K split,
// then the fastest mix found by coordinate descent; CHAIN_ONLY restricts the variants, CHAIN_CARVEOUT sets the
// shared-memory carveout (percent; default the runtime's).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "check_common.cuh"
#define GT_STAGES 8 // the runtime's depth on an H100 (SmallGemms.TiledStages), which defines it
#include "runtime_kernels.cu"

// Variants to compare (MT row tiles, F feature tiles, U k-blocks in flight); the runtime's entry point is sk_1_1_4.
// The 32- and 64-row ones time well alone, yet decode steps of 32 and 64 requests were faster with cuBLASLt, so the
// runtime stops at 16 rows.
GEMM_SKINNY_ENTRY(sk_1_1_8, 1, 1, 8)
GEMM_SKINNY_ENTRY(sk_1_1_4, 1, 1, 4)
GEMM_SKINNY_ENTRY(sk_1_2_4, 1, 2, 4)
GEMM_SKINNY_ENTRY(sk_2_1_8, 2, 1, 8)
GEMM_SKINNY_ENTRY(sk_2_1_4, 2, 1, 4)
GEMM_SKINNY_ENTRY(sk_2_2_4, 2, 2, 4)
GEMM_SKINNY_ENTRY(sk_4_1_4, 4, 1, 4)
GEMM_SKINNY_ENTRY(sk_4_2_4, 4, 2, 4)
GEMM_SKINNY_ENTRY(sk_4_2_2, 4, 2, 2)
// gemm_tiled variants (F features per CTA, STAGES deep), one entry point per K split S (the cluster size); the
// runtime's is gemm_tiled_s* (GT_FEATURES, GT_STAGES).
#define TILED_VARIANT(F, STAGES)                                                                                        \
    GEMM_TILED_ENTRY(gt_##F##_##STAGES##_s1, F, STAGES, 1, false)                                                        \
    GEMM_TILED_ENTRY(gt_##F##_##STAGES##_s2, F, STAGES, 2, false)                                                        \
    GEMM_TILED_ENTRY(gt_##F##_##STAGES##_s4, F, STAGES, 4, false)                                                        \
    GEMM_TILED_ENTRY(gt_##F##_##STAGES##_s8, F, STAGES, 8, false)
TILED_VARIANT(64, 4)
TILED_VARIANT(64, 6)

namespace
{
using Kernel = void (*)(const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*, float*, int, int, int, int);
// The GEMV entry points also take silu_gate (0 here: the gated MLP's fused gate is held to the gate kernel by Gpu.Tests).
using GemvKernel = void (*)(const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*, float*, int, int, int, int, int);
struct Variant { const char* name; Kernel kernel; int mt, f; };
const Variant kSkinny[] = {
    {"sk_1_1_8", sk_1_1_8, 1, 1}, {"sk_1_1_4", sk_1_1_4, 1, 1}, {"sk_1_2_4", sk_1_2_4, 1, 2},
    {"sk_2_1_8", sk_2_1_8, 2, 1}, {"sk_2_1_4", sk_2_1_4, 2, 1}, {"sk_2_2_4", sk_2_2_4, 2, 2},
    {"sk_4_1_4", sk_4_1_4, 4, 1}, {"sk_4_2_4", sk_4_2_4, 4, 2}, {"sk_4_2_2", sk_4_2_2, 4, 2},
};
int g_failures = 0;
std::vector<int> g_rows = {1, 2, 4, 8, 16, 32, 64}; // --rows 32,64 times only those
int g_sms = 0;

// gemv's launch: the runtime's GemvSplitFor and GemvFor.
void launch_gemv(const __nv_bfloat16* x, const __nv_bfloat16* w, __nv_bfloat16* y, float* yf, int M, int N, int K,
                 cudaStream_t stream = 0, bool pdl = false)
{
    int split = 1;
    while (split < 8 && (long long)N * split < 24LL * g_sms && K % (8 * 32 * split * 2) == 0) split *= 2;
    const int slice = K / split;
    GemvKernel k = slice > 4 * 256 && slice <= 8 * 256 ? gemv_bf16_p8 : gemv_bf16_p4;
    const int per_block = GEMV_WARPS / split;
    launch(stream, pdl, k, dim3((N + per_block - 1) / per_block), dim3(GEMV_WARPS * 32), 0, x, w, y, yf, M, N, K, split, 0);
}

// gemv_bf16_bulk's launch (the runtime's GemvBulkLaunch): `per_sm` blocks per SM, x's rows then the block's run of
// weight rows in dynamic shared memory.
void launch_gemv_bulk(int per_sm, const __nv_bfloat16* x, const __nv_bfloat16* w, __nv_bfloat16* y, float* yf, int M, int N,
                      int K, cudaStream_t stream = 0, bool pdl = false)
{
    const int blocks = per_sm * g_sms;
    const size_t shared = ((size_t)M * K * 2 + 127) / 128 * 128 + (size_t)((N + blocks - 1) / blocks) * K * 2;
    launch(stream, pdl, gemv_bf16_bulk, dim3(blocks), dim3(GEMV_WARPS * 32), shared, x, w, y, yf, M, N, K, 0, 0);
}

void launch_skinny(const Variant& v, int ksplit, const __nv_bfloat16* x, const __nv_bfloat16* w, __nv_bfloat16* y, float* yf,
                   int M, int N, int K, cudaStream_t stream = 0, bool pdl = false)
{
    const int features_per_block = SK_WARPS / ksplit * 8 * v.f;
    launch(stream, pdl, v.kernel, dim3((N + features_per_block - 1) / features_per_block), dim3(SK_WARPS * 32), 0, x, w, y, yf,
           M, N, K, ksplit);
}

using TiledKernel = void (*)(const __nv_bfloat16*, const __nv_bfloat16*, __nv_bfloat16*, float*, int, int, int);
struct TiledVariant { const char* name; TiledKernel kernels[4]; int features, stages; };
const TiledVariant kTiled[] = {
    {"tiled", {gemm_tiled_s1, gemm_tiled_s2, gemm_tiled_s4, gemm_tiled_s8}, GT_FEATURES, GT_STAGES},
    {"gt_64_4", {gt_64_4_s1, gt_64_4_s2, gt_64_4_s4, gt_64_4_s8}, 64, 4},
    {"gt_64_6", {gt_64_6_s1, gt_64_6_s2, gt_64_6_s4, gt_64_6_s8}, 64, 6},
};

bool tiled_fits(int split, int M, int K) { return M <= GT_ROWS && K % (GT_BK * split) == 0; }

// Every gemm_tiled entry point may take its variant's shared memory (once, before any launch or graph capture).
void allow_tiled_shared_memory()
{
    for (const auto& v : kTiled)
        for (auto k : v.kernels)
            CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributeMaxDynamicSharedMemorySize, gt_shared_bytes(v.features, v.stages)));
}

// gemm_tiled's launch: the runtime's LaunchGemm for SmallGemmKernel.Tiled (split = the cluster size).
void launch_tiled(const TiledVariant& v, int split, const __nv_bfloat16* x, const __nv_bfloat16* w, __nv_bfloat16* y, float* yf,
                  int M, int N, int K, cudaStream_t stream = 0, bool pdl = false)
{
    const int index = split == 1 ? 0 : split == 2 ? 1 : split == 4 ? 2 : 3;
    launch(stream, pdl, v.kernels[index], dim3(split, (N + v.features - 1) / v.features), dim3(GT_THREADS),
           gt_shared_bytes(v.features, v.stages), x, w, y, yf, M, N, K);
}

bool skinny_fits(const Variant& v, int ksplit, int M, int K) { return M <= 16 * v.mt && K % (32 * ksplit) == 0; }

void check(int M, int N, int K, bool float_out)
{
    GemmCase c(M, N, K, float_out);
    const auto x = static_cast<const __nv_bfloat16*>(c.x), w = static_cast<const __nv_bfloat16*>(c.w);
    __nv_bfloat16* y = float_out ? nullptr : static_cast<__nv_bfloat16*>(c.y);
    float* yf = float_out ? c.yf : nullptr;
    auto run = [&](const std::string& label, auto&& enqueue) {
        c.clear();
        enqueue();
        if (!c.compare(label)) ++g_failures;
    };
    if (M <= GEMV_MAX_M && K % 8 == 0) run("gemv", [&] { launch_gemv(x, w, y, yf, M, N, K); });
    for (const auto& v : kSkinny)
        for (int ks = 1; ks <= SK_WARPS; ks *= 2)
            if (skinny_fits(v, ks, M, K))
                run(std::string(v.name) + "/" + std::to_string(ks), [&] { launch_skinny(v, ks, x, w, y, yf, M, N, K); });
    for (const auto& v : kTiled)
        for (int split = 1; split <= 8; split *= 2)
            if (tiled_fits(split, M, K))
                run(std::string(v.name) + "/" + std::to_string(split), [&] { launch_tiled(v, split, x, w, y, yf, M, N, K); });
}

template <typename F>
float time_per_launch(F&& launch, int copies)
{
    for (int i = 0; i < 10; ++i) launch(i % copies);
    cudaEvent_t a, b;
    CUDA_CHECK(cudaEventCreate(&a));
    CUDA_CHECK(cudaEventCreate(&b));
    const int iters = 200;
    CUDA_CHECK(cudaEventRecord(a));
    for (int i = 0; i < iters; ++i) launch(i % copies);
    CUDA_CHECK(cudaEventRecord(b));
    CUDA_CHECK(cudaEventSynchronize(b));
    CUDA_CHECK(cudaGetLastError());
    float ms;
    CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    cudaEventDestroy(a); cudaEventDestroy(b);
    return ms * 1000.0f / iters;
}

void bench(cublasHandle_t blas, const char* label, int N, int K, __nv_bfloat16* pool, size_t pool_elems, __nv_bfloat16* x,
           __nv_bfloat16* y, float* yf, bool float_out)
{
    const size_t elems = (size_t)N * K;
    const int copies = (int)std::max<size_t>(1, pool_elems / elems);
    const double bytes = elems * 2.0;
    float* out_f = float_out ? yf : nullptr;
    __nv_bfloat16* out_b = float_out ? nullptr : y;
    for (int M : g_rows)
    {
        const float alpha = 1, beta = 0;
        const float t_blas = time_per_launch([&](int i) {
            cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, N, M, K, &alpha, pool + i * elems, CUDA_R_16BF, K, x, CUDA_R_16BF, K,
                         &beta, float_out ? (void*)yf : (void*)y, float_out ? CUDA_R_32F : CUDA_R_16BF, N, CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT);
        }, copies);
        float t_gemv = NAN;
        if (M <= GEMV_MAX_M) t_gemv = time_per_launch([&](int i) { launch_gemv(x, pool + i * elems, out_b, out_f, M, N, K); }, copies);
        std::string best_name;
        float best = INFINITY;
        std::string all;
        for (const auto& v : kSkinny)
        {
            if (M > 16 * v.mt || (v.mt > 1 && M <= 8 * v.mt)) continue; // the smallest tile count that fits
            for (int ks = 1; ks <= SK_WARPS; ks *= 2)
            {
                if (!skinny_fits(v, ks, M, K)) continue;
                const float t = time_per_launch([&](int i) { launch_skinny(v, ks, x, pool + i * elems, out_b, out_f, M, N, K); }, copies);
                char buf[48];
                std::snprintf(buf, sizeof buf, " %s/%d=%.1f", v.name, ks, t);
                all += buf;
                if (t < best) { best = t; best_name = std::string(v.name) + "/" + std::to_string(ks); }
            }
        }
        std::string tiled_name;
        float tiled = INFINITY;
        for (const auto& v : kTiled)
            for (int split = 1; split <= 8; split *= 2)
            {
                if (!tiled_fits(split, M, K)) continue;
                const float t = time_per_launch([&](int i) { launch_tiled(v, split, x, pool + i * elems, out_b, out_f, M, N, K); }, copies);
                char buf[48];
                std::snprintf(buf, sizeof buf, " %s/%d=%.1f", v.name, split, t);
                all += buf;
                if (t < tiled) { tiled = t; tiled_name = std::string(v.name) + "/" + std::to_string(split); }
            }
        std::printf("bench %-8s N=%-6d K=%-5d M=%-2d cublas %7.2f us  gemv %7.2f us  skinny %7.2f us (%s, %6.0f GB/s)  tiled %7.2f us (%s, %6.0f GB/s)\n",
                    label, N, K, M, t_blas, t_gemv, best, best_name.c_str(), bytes / (best * 1e-6) / 1e9, tiled, tiled_name.c_str(),
                    bytes / (tiled * 1e-6) / 1e9);
        std::printf("   all:%s\n", all.c_str());
    }
}
// --- Layer chain: a decode step's layer GEMMs back to back in one CUDA graph with programmatic dependent launch, as
// the runtime's decode graph runs them (without the small kernels and attention between them). Timing one GEMM alone
// sees neither the overlap of a kernel's weight loads with its predecessor nor the cost of a kernel's ramp-up and
// drain inside a chain, which is what a decode step of 28 layers x 4 GEMMs is made of.

// The floor of such a chain: each kernel only streams the same bytes (its first loads issued before the wait, as
// the GEMMs do), 16 bytes per thread per load, and writes one float per block.
__global__ void __launch_bounds__(256) stream_read(const uint4* __restrict__ w, long long n16, float* __restrict__ out)
{
    const long long stride = (long long)gridDim.x * blockDim.x;
    long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    uint4 v[4];
#pragma unroll
    for (int u = 0; u < 4; ++u) v[u] = i + u * stride < n16 ? w[i + u * stride] : make_uint4(0, 0, 0, 0);
    wait_for_previous_kernel();
    allow_next_kernel();
    unsigned acc = 0;
    for (;;)
    {
#pragma unroll
        for (int u = 0; u < 4; ++u) acc ^= v[u].x ^ v[u].y ^ v[u].z ^ v[u].w;
        i += 4 * stride;
        if (i >= n16) break;
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = i + u * stride < n16 ? w[i + u * stride] : make_uint4(0, 0, 0, 0);
    }
    if (acc == 0x12345678u) out[blockIdx.x] = 1.0f; // never, but the loads must not be dropped
}

struct ChainShape { const char* name; int n, k; };
const ChainShape kQwenLayer[] = {{"qkv", 4096, 1024}, {"o", 1024, 2048}, {"gu", 6144, 1024}, {"down", 1024, 3072}};
constexpr int kChainShapes = 4;
constexpr int kChainLayers = 28;


// A chain's kernel per shape: a gemm_tiled variant (index into kTiled) and its K split.
struct ChainPick { int variant, split; };

std::string describe(const ChainPick (&picks)[kChainShapes])
{
    std::string s;
    for (int j = 0; j < kChainShapes; ++j)
        s += std::string(j ? " " : "") + kQwenLayer[j].name + "=" + kTiled[picks[j].variant].name + "/" + std::to_string(picks[j].split);
    return s;
}

void chain(int M)
{
    size_t layer_elems = 0;
    size_t offsets[kChainShapes];
    for (int j = 0; j < kChainShapes; ++j) { offsets[j] = layer_elems; layer_elems += (size_t)kQwenLayer[j].n * kQwenLayer[j].k; }
    const double bytes = (double)layer_elems * 2 * kChainLayers;
    __nv_bfloat16 *w, *x, *y;
    float* sink;
    CUDA_CHECK(cudaMalloc(&w, layer_elems * 2 * kChainLayers));
    CUDA_CHECK(cudaMemset(w, 0x3c, layer_elems * 2 * kChainLayers));
    CUDA_CHECK(cudaMalloc(&x, (size_t)64 * 6144 * 2));
    CUDA_CHECK(cudaMemset(x, 0x3c, (size_t)64 * 6144 * 2));
    CUDA_CHECK(cudaMalloc(&y, (size_t)64 * 6144 * 2));
    CUDA_CHECK(cudaMalloc(&sink, 1 << 16));
    cudaStream_t stream;
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    // The runtime's carveout for every kernel (SharedMemoryCarveoutPercent): two 4-stage gemm_tiled CTAs or one of 8.
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    const int runtime_shared = std::max(2 * (gt_shared_bytes(64, 4) + 1024), gt_shared_bytes(GT_FEATURES, GT_STAGES) + 1024);
    const int carveout = std::getenv("CHAIN_CARVEOUT") ? std::atoi(std::getenv("CHAIN_CARVEOUT"))
        : std::min(100, (int)std::ceil(100.0 * runtime_shared / prop.sharedMemPerMultiprocessor));
    for (const auto& v : kTiled)
        for (auto k : v.kernels) CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, carveout));
    CUDA_CHECK(cudaFuncSetAttribute(stream_read, cudaFuncAttributePreferredSharedMemoryCarveout, carveout));
    for (const void* k : {(const void*)gemv_bf16_p4, (const void*)gemv_bf16_p8, (const void*)gemv_bf16_bulk, (const void*)kSkinny[1].kernel})
        CUDA_CHECK(cudaFuncSetAttribute(k, cudaFuncAttributePreferredSharedMemoryCarveout, carveout));
    CUDA_CHECK(cudaFuncSetAttribute(gemv_bf16_bulk, cudaFuncAttributeMaxDynamicSharedMemorySize, runtime_shared - 1024));
    auto weight = [&](int layer, int j) { return w + layer_elems * layer + offsets[j]; };

    const float floor = time_graph(stream, [&] {
        for (int l = 0; l < kChainLayers; ++l)
            for (int j = 0; j < kChainShapes; ++j)
                launch(stream, true, stream_read, dim3(4 * g_sms), dim3(256), 0, (const uint4*)weight(l, j),
                           (long long)kQwenLayer[j].n * kQwenLayer[j].k / 8, sink);
    });
    std::printf("chain M=%d: %d layers x %d GEMMs, %.0f MB of weights\n", M, kChainLayers, kChainShapes, bytes / 1e6);
    std::printf("chain M=%-2d stream_read (floor)   %7.1f us  %5.0f GB/s\n", M, floor, bytes / (floor * 1e-6) / 1e9);

    cublasHandle_t blas;
    cublasCreate(&blas);
    cublasSetStream(blas, stream);
    const float alpha = 1, beta = 0;
    for (int l = 0; l < 2; ++l) // cuBLAS's workspace and plans before capture
        for (int j = 0; j < kChainShapes; ++j)
            cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, kQwenLayer[j].n, M, kQwenLayer[j].k, &alpha, weight(l, j), CUDA_R_16BF,
                         kQwenLayer[j].k, x, CUDA_R_16BF, kQwenLayer[j].k, &beta, y, CUDA_R_16BF, kQwenLayer[j].n, CUBLAS_COMPUTE_32F,
                         CUBLAS_GEMM_DEFAULT);
    CUDA_CHECK(cudaStreamSynchronize(stream));
    const float blas_us = time_graph(stream, [&] {
        for (int l = 0; l < kChainLayers; ++l)
            for (int j = 0; j < kChainShapes; ++j)
                cublasGemmEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, kQwenLayer[j].n, M, kQwenLayer[j].k, &alpha, weight(l, j), CUDA_R_16BF,
                             kQwenLayer[j].k, x, CUDA_R_16BF, kQwenLayer[j].k, &beta, y, CUDA_R_16BF, kQwenLayer[j].n,
                             CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
    });
    std::printf("chain M=%-2d cublas (no PDL)       %7.1f us  %5.0f GB/s\n", M, blas_us, bytes / (blas_us * 1e-6) / 1e9);
    cublasDestroy(blas);
    if (M <= GEMV_MAX_M)
    {
        const float us = time_graph(stream, [&] {
            for (int l = 0; l < kChainLayers; ++l)
                for (int j = 0; j < kChainShapes; ++j)
                    launch_gemv(x, weight(l, j), y, nullptr, M, kQwenLayer[j].n, kQwenLayer[j].k, stream, true);
        });
        std::printf("chain M=%-2d gemv                  %7.1f us  %5.0f GB/s\n", M, us, bytes / (us * 1e-6) / 1e9);
        // The bulk GEMV at one and two blocks per SM: all four shapes, then each shape's 28 layers alone against the GEMV.
        for (int per_sm = 1; per_sm <= 2; ++per_sm)
        {
            const float bulk = time_graph(stream, [&] {
                for (int l = 0; l < kChainLayers; ++l)
                    for (int j = 0; j < kChainShapes; ++j)
                        launch_gemv_bulk(per_sm, x, weight(l, j), y, nullptr, M, kQwenLayer[j].n, kQwenLayer[j].k, stream, true);
            });
            std::printf("chain M=%-2d gemv_bulk/%d           %7.1f us  %5.0f GB/s\n", M, per_sm, bulk, bytes / (bulk * 1e-6) / 1e9);
            for (int j = 0; j < kChainShapes; ++j)
            {
                const float alone = time_graph(stream, [&] {
                    for (int l = 0; l < kChainLayers; ++l)
                        launch_gemv_bulk(per_sm, x, weight(l, j), y, nullptr, M, kQwenLayer[j].n, kQwenLayer[j].k, stream, true);
                });
                const float gemv = time_graph(stream, [&] {
                    for (int l = 0; l < kChainLayers; ++l)
                        launch_gemv(x, weight(l, j), y, nullptr, M, kQwenLayer[j].n, kQwenLayer[j].k, stream, true);
                });
                std::printf("chain M=%-2d   %-4s x %d: gemv_bulk/%d %7.1f us, gemv %7.1f us\n", M, kQwenLayer[j].name, kChainLayers, per_sm, alone, gemv);
            }
        }
    }
    if (M <= 16)
        for (int ks = 1; ks <= SK_WARPS; ks *= 2)
        {
            const Variant& v = kSkinny[1]; // sk_1_1_4, the runtime's
            const float us = time_graph(stream, [&] {
                for (int l = 0; l < kChainLayers; ++l)
                    for (int j = 0; j < kChainShapes; ++j)
                        launch_skinny(v, ks, x, weight(l, j), y, nullptr, M, kQwenLayer[j].n, kQwenLayer[j].k, stream, true);
            });
            std::printf("chain M=%-2d skinny %s/%d        %7.1f us  %5.0f GB/s\n", M, v.name, ks, us, bytes / (us * 1e-6) / 1e9);
        }

    auto run = [&](const ChainPick (&picks)[kChainShapes]) {
        return time_graph(stream, [&] {
            for (int l = 0; l < kChainLayers; ++l)
                for (int j = 0; j < kChainShapes; ++j)
                    launch_tiled(kTiled[picks[j].variant], picks[j].split, x, weight(l, j), y, nullptr, M, kQwenLayer[j].n,
                                 kQwenLayer[j].k, stream, true);
        });
    };
    constexpr int kVariants = sizeof kTiled / sizeof kTiled[0];
    // CHAIN_ONLY=a,b: only those variants (names of kTiled).
    const char* only = std::getenv("CHAIN_ONLY");
    auto wanted = [&](int v) {
        if (!only) return true;
        const std::string list = std::string(",") + only + ",";
        return list.find(std::string(",") + kTiled[v].name + ",") != std::string::npos;
    };
    // Every variant at one split for all shapes (the largest that fits where it does not), then coordinate descent
    // from the best: each shape's kernel in turn over every variant and split, the others held.
    ChainPick best[kChainShapes];
    float best_us = INFINITY;
    for (int v = 0; v < kVariants; ++v)
        for (int split = 1; split <= 8; split *= 2)
        {
            if (!wanted(v)) continue;
            ChainPick picks[kChainShapes];
            for (int j = 0; j < kChainShapes; ++j)
            {
                int s = split;
                while (!tiled_fits(s, M, kQwenLayer[j].k)) s /= 2;
                picks[j] = {v, s};
            }
            const float us = run(picks);
            std::printf("chain M=%-2d %-44s %7.1f us  %5.0f GB/s\n", M, describe(picks).c_str(), us, bytes / (us * 1e-6) / 1e9);
            if (us < best_us) { best_us = us; std::copy(picks, picks + kChainShapes, best); }
        }
    for (int round = 0; round < 2; ++round)
        for (int j = 0; j < kChainShapes; ++j)
            for (int v = 0; v < kVariants; ++v)
                for (int split = 1; split <= 8; split *= 2)
                {
                    if (!wanted(v) || !tiled_fits(split, M, kQwenLayer[j].k)) continue;
                    ChainPick picks[kChainShapes];
                    std::copy(best, best + kChainShapes, picks);
                    picks[j] = {v, split};
                    const float us = run(picks);
                    if (us < best_us) { best_us = us; std::copy(picks, picks + kChainShapes, best); }
                }
    std::printf("chain M=%-2d best: %s  %7.1f us  %5.0f GB/s\n", M, describe(best).c_str(), best_us, bytes / (best_us * 1e-6) / 1e9);
    cudaStreamDestroy(stream);
    cudaFree(w); cudaFree(x); cudaFree(y); cudaFree(sink);
}
} // namespace

int main(int argc, char** argv)
{
    bool timing = true;
    std::vector<int> chain_rows; // --chain 32,64: the layer chain only
    for (int i = 1; i < argc; ++i)
    {
        if (!std::strcmp(argv[i], "--no-timing")) timing = false;
        else if (!std::strcmp(argv[i], "--chain") && i + 1 < argc)
            for (const char* p = argv[++i]; *p; p = std::strchr(p, ',') ? std::strchr(p, ',') + 1 : "") chain_rows.push_back(std::atoi(p));
        else if (!std::strcmp(argv[i], "--rows") && i + 1 < argc)
        {
            g_rows.clear();
            for (const char* p = argv[++i]; *p; p = std::strchr(p, ',') ? std::strchr(p, ',') + 1 : "") g_rows.push_back(std::atoi(p));
        }
    }
    cudaDeviceProp prop;
    CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
    g_sms = prop.multiProcessorCount;
    std::printf("%s, %d SMs\n", prop.name, g_sms);
    allow_tiled_shared_memory();
    if (!chain_rows.empty())
    {
        for (int M : chain_rows) chain(M);
        return 0;
    }
    for (int M : {1, 3, 8, 13, 16, 17, 32, 45, 64})
    {
        check(M, 1000, 2048, false); // N not a multiple of any feature tile
        check(M, 72, 96, M % 2 == 1); // K = 3 blocks of 32: ksplit 1 only; fp32 output
    }
    check(64, 4096, 1024, false);
    for (int M : {1, 20, 33, 64})
    {
        check(M, 1024, 3072, false); // down_proj: 6 k-steps per CTA at split 8
        check(M, 130, 64, true);     // one k-step (fewer than the pipeline's depth), a partial feature tile
    }
    if (timing)
    {
        const size_t pool_elems = (size_t)1 << 29; // 1 GiB of bf16
        __nv_bfloat16 *pool, *x, *y;
        float* yf;
        CUDA_CHECK(cudaMalloc(&pool, pool_elems * 2));
        CUDA_CHECK(cudaMemset(pool, 0x3c, pool_elems * 2)); // ~0.01 in every bf16: finite, the values do not matter here
        CUDA_CHECK(cudaMalloc(&x, (size_t)64 * 14336 * 2));
        CUDA_CHECK(cudaMemset(x, 0x3c, (size_t)64 * 14336 * 2));
        CUDA_CHECK(cudaMalloc(&y, (size_t)64 * 151936 * 2));
        CUDA_CHECK(cudaMalloc(&yf, (size_t)64 * 151936 * 4));
        cublasHandle_t blas;
        cublasCreate(&blas);
        bench(blas, "q3.qkv", 4096, 1024, pool, pool_elems, x, y, yf, false);
        bench(blas, "q3.o", 1024, 2048, pool, pool_elems, x, y, yf, false);
        bench(blas, "q3.gu", 6144, 1024, pool, pool_elems, x, y, yf, false);
        bench(blas, "q3.down", 1024, 3072, pool, pool_elems, x, y, yf, false);
        bench(blas, "q3.head", 151936, 1024, pool, pool_elems, x, y, yf, true);
        bench(blas, "l8.qkv", 6144, 4096, pool, pool_elems, x, y, yf, false);
        bench(blas, "l8.o", 4096, 4096, pool, pool_elems, x, y, yf, false);
        bench(blas, "l8.gu", 28672, 4096, pool, pool_elems, x, y, yf, false);
        bench(blas, "l8.down", 4096, 14336, pool, pool_elems, x, y, yf, false);
    }
    if (g_failures)
    {
        std::printf("FAILED: %d check(s)\n", g_failures);
        return 1;
    }
    std::printf("ALL PASS\n");
    return 0;
}
