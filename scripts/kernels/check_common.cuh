// check_common.cuh -- what the kernel check harnesses (attention_check.cu, gemm_check.cu) share: CUDA error checks
// and bf16 <-> float on the host.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

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
