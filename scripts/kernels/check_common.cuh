// check_common.cuh -- what the kernel check harnesses (attention_check.cu, gemm_check.cu, gemm_tma_check.cu) share:
// CUDA error checks, bf16 <-> float and random bf16 data on the host, launches with PDL, timing a captured graph.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
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
