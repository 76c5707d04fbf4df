namespace Gpu.Tests;

/// <summary>Small CUDA C kernels the tests compile.</summary>
internal static class Kernels
{
    /// <summary>y = A * x + y, with A and BLOCK given as -D constants.</summary>
    public const string Saxpy = """
        extern "C" __global__ void __launch_bounds__(BLOCK) saxpy(const float* __restrict__ x, float* __restrict__ y, int n)
        {
            int i = blockIdx.x * BLOCK + threadIdx.x;
            if (i < n) y[i] = (float)A * x[i] + y[i];
        }
        """;

    /// <summary>x[i] += 1 (repeated launches make a visible count).</summary>
    public const string AddOne = """
        extern "C" __global__ void add_one(float* x, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) x[i] += 1.0f;
        }
        """;

    /// <summary>Does nothing: for measuring launch overhead.</summary>
    public const string Empty = """
        extern "C" __global__ void empty_kernel(int unused) { }
        """;

    /// <summary>Needs cuda_bf16.h: rounds floats to bf16 on the device.</summary>
    public const string ToBf16 = """
        #include <cuda_bf16.h>
        extern "C" __global__ void to_bf16(const float* x, __nv_bfloat16* y, int n)
        {
            int i = blockIdx.x * blockDim.x + threadIdx.x;
            if (i < n) y[i] = __float2bfloat16(x[i]);
        }
        """;

    /// <summary>Fills SMEM_FLOATS floats of dynamic shared memory, then each thread reads one back from the far end.</summary>
    public const string BigSharedMemory = """
        extern "C" __global__ void big_smem(float* out)
        {
            extern __shared__ float s[];
            for (int i = threadIdx.x; i < SMEM_FLOATS; i += blockDim.x) s[i] = (float)i;
            __syncthreads();
            out[threadIdx.x] = s[SMEM_FLOATS - 1 - threadIdx.x];
        }
        """;
}
