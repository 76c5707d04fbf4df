// check_common.cuh -- what the kernel check harnesses (attention_check.cu, gemm_check.cu, gemm_tma_check.cu) share:
// CUDA error checks, bf16 <-> float and random bf16 data on the host, launches with PDL, timing a captured graph,
// and a GEMM check case (gemm_check.cu, gemm_tma_check.cu).
#pragma once
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

#define CUDA_CHECK(expr)                                                                                          \
    do                                                                                                            \
    {                                                                                                             \
        cudaError_t err_ = (expr);                                                                                \
        if (err_ != cudaSuccess)                                                                                  \
        {                                                                                                         \
            std::fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorString(err_), __FILE__, __LINE__, #expr); \
            std::exit(2);                                                                                         \
        }                                                                                                         \
    } while (0)

inline float bf16_to_float(uint16_t v)
{
    uint32_t u = (uint32_t)v << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Round to nearest even, as __float2bfloat16 (finite inputs).
inline uint16_t float_to_bf16(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

inline std::vector<uint16_t> random_bf16(size_t n, float scale, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<uint16_t> v(n);
    for (auto& e : v) e = float_to_bf16(dist(rng));
    return v;
}

// A launch on `stream` (0: the default stream, as <<<>>>), with programmatic dependent launch where `pdl` (the
// runtime's decode graph launches every kernel so; the layer chain does too).
template <typename... Params, typename... Args>
void launch(cudaStream_t stream, bool pdl, void (*kernel)(Params...), dim3 grid, dim3 block, size_t shared, Args... args)
{
    cudaLaunchConfig_t config = {};
    config.gridDim = grid;
    config.blockDim = block;
    config.dynamicSmemBytes = shared;
    config.stream = stream;
    cudaLaunchAttribute attribute[1];
    attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attribute[0].val.programmaticStreamSerializationAllowed = 1;
    config.attrs = attribute;
    config.numAttrs = pdl ? 1 : 0;
    CUDA_CHECK(cudaLaunchKernelEx(&config, kernel, args...));
}

// Replays the graph that `record` captures on `stream`; microseconds per replay, fastest of three rounds of 20.
template <typename F>
float time_graph(cudaStream_t stream, F&& record)
{
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CUDA_CHECK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    record();
    CUDA_CHECK(cudaStreamEndCapture(stream, &graph));
    CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
    cudaEvent_t a, b;
    CUDA_CHECK(cudaEventCreate(&a));
    CUDA_CHECK(cudaEventCreate(&b));
    float best = INFINITY;
    for (int round = 0; round < 3; ++round)
    {
        CUDA_CHECK(cudaGraphLaunch(exec, stream));
        CUDA_CHECK(cudaEventRecord(a, stream));
        for (int i = 0; i < 20; ++i) CUDA_CHECK(cudaGraphLaunch(exec, stream));
        CUDA_CHECK(cudaEventRecord(b, stream));
        CUDA_CHECK(cudaEventSynchronize(b));
        float ms;
        CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
        best = std::min(best, ms * 1000.0f / 20);
    }
    CUDA_CHECK(cudaGetLastError());
    cudaEventDestroy(a); cudaEventDestroy(b);
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    return best;
}

// A GEMM check case, y[m, n] = sum_k x[m, k] * w[n, k]: random bf16 x and w on the device, a CPU reference from the
// same bf16 values, and y's two buffers (bf16 and fp32; a kernel writes one).
struct GemmCase
{
    int M, N, K;
    bool float_out;
    std::vector<double> ref;
    double scale = 0; // the reference's largest magnitude
    void *x = nullptr, *w = nullptr, *y = nullptr; // bf16
    float* yf = nullptr;

    GemmCase(int m, int n, int k, bool f32) : M(m), N(n), K(k), float_out(f32), ref((size_t)m * n)
    {
        const auto hx = random_bf16((size_t)M * K, 1.0f, 1 + M), hw = random_bf16((size_t)N * K, 0.05f, 7 + N);
        for (int i = 0; i < M; ++i)
            for (int j = 0; j < N; ++j)
            {
                double s = 0;
                for (int e = 0; e < K; ++e) s += (double)bf16_to_float(hx[(size_t)i * K + e]) * bf16_to_float(hw[(size_t)j * K + e]);
                ref[(size_t)i * N + j] = s;
                scale = std::max(scale, std::fabs(s));
            }
        CUDA_CHECK(cudaMalloc(&x, hx.size() * 2));
        CUDA_CHECK(cudaMalloc(&w, hw.size() * 2));
        CUDA_CHECK(cudaMalloc(&y, (size_t)M * N * 2));
        CUDA_CHECK(cudaMalloc(&yf, (size_t)M * N * 4));
        CUDA_CHECK(cudaMemcpy(x, hx.data(), hx.size() * 2, cudaMemcpyHostToDevice));
        CUDA_CHECK(cudaMemcpy(w, hw.data(), hw.size() * 2, cudaMemcpyHostToDevice));
    }
    GemmCase(const GemmCase&) = delete;
    GemmCase& operator=(const GemmCase&) = delete;
    ~GemmCase() { cudaFree(x); cudaFree(w); cudaFree(y); cudaFree(yf); }

    // y's buffers filled with NaNs, so what a kernel leaves unwritten fails.
    void clear()
    {
        CUDA_CHECK(cudaMemset(y, 0xff, (size_t)M * N * 2));
        CUDA_CHECK(cudaMemset(yf, 0xff, (size_t)M * N * 4));
    }

    // After a launch: y against the reference, printed with `label`; whether it is within tolerance.
    bool compare(const std::string& label) const
    {
        CUDA_CHECK(cudaDeviceSynchronize());
        std::vector<float> got((size_t)M * N);
        if (float_out) CUDA_CHECK(cudaMemcpy(got.data(), yf, got.size() * 4, cudaMemcpyDeviceToHost));
        else
        {
            std::vector<uint16_t> raw(got.size());
            CUDA_CHECK(cudaMemcpy(raw.data(), y, raw.size() * 2, cudaMemcpyDeviceToHost));
            for (size_t i = 0; i < raw.size(); ++i) got[i] = bf16_to_float(raw[i]);
        }
        double worst = 0;
        for (size_t i = 0; i < got.size(); ++i)
            worst = std::isfinite(got[i]) ? std::max(worst, std::fabs(got[i] - ref[i])) : INFINITY;
        const double tol = (float_out ? 1e-4 : 8e-3) * scale + 1e-6; // fp32 summation order; bf16 rounding of the output
        const bool ok = worst <= tol;
        std::printf("check %-14s M=%-3d N=%-5d K=%-5d %s max_abs=%.2e tol=%.2e %s\n", label.c_str(), M, N, K,
                    float_out ? "f32 " : "bf16", worst, tol, ok ? "PASS" : "FAIL");
        return ok;
    }
};
