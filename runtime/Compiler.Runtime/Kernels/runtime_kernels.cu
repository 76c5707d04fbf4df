// runtime_kernels.cu -- small kernels the CUDA model runner launches around the generated model.
#include <cuda_bf16.h>

// Decode: the KV slot of each request's new token goes into its req_to_token row (the host table learns it on its
// own; the device copy is updated here so a captured decode graph needs no per-request copies).
extern "C" __global__ void assign_decode_slots(int* __restrict__ req_to_token, int stride,
                                               const int* __restrict__ req_pool_indices, const int* __restrict__ seq_lens,
                                               const int* __restrict__ out_cache_loc, int batch)
{
    const int b = blockIdx.x * blockDim.x + threadIdx.x;
    if (b < batch) req_to_token[(long long)req_pool_indices[b] * stride + seq_lens[b] - 1] = out_cache_loc[b];
}

// Greedy sampling: the index of the largest logit of each row (first one on ties, as torch.argmax).
extern "C" __global__ void __launch_bounds__(1024) argmax_rows(const float* __restrict__ logits, int vocab, int* __restrict__ out)
{
    const float* row = logits + (long long)blockIdx.x * vocab;
    float best = -3.402823466e38f;
    int index = 0x7fffffff;
    for (int i = threadIdx.x; i < vocab; i += blockDim.x)
    {
        const float v = row[i];
        if (v > best) { best = v; index = i; }
    }
    for (int o = 16; o > 0; o >>= 1)
    {
        const float v = __shfl_xor_sync(0xffffffffu, best, o);
        const int j = __shfl_xor_sync(0xffffffffu, index, o);
        if (v > best || (v == best && j < index)) { best = v; index = j; }
    }
    __shared__ float values[32];
    __shared__ int indices[32];
    if ((threadIdx.x & 31) == 0) { values[threadIdx.x >> 5] = best; indices[threadIdx.x >> 5] = index; }
    __syncthreads();
    if (threadIdx.x == 0)
    {
        for (int w = 1; w < (int)(blockDim.x >> 5); ++w)
            if (values[w] > best || (values[w] == best && indices[w] < index)) { best = values[w]; index = indices[w]; }
        out[blockIdx.x] = index;
    }
}
