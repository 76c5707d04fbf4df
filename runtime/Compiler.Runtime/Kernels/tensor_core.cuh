// tensor_core.cuh -- the bf16 tensor-core building blocks (sm_80+) of extend_attention.cu and runtime_kernels.cu's
// GEMMs: 16-byte cp.async copies into shared memory, ldmatrix, and mma.sync m16n8k16 with fp32 accumulate.
// KernelSources pastes this file in place of its #include line; the guard lets a harness that includes several kernel
// files (scripts/kernels/attention_check.cu) include it twice. The functions are inline but not static: NVRTC warns
// (#177) about a static function the including file never calls, and each file calls only some of them.
#ifndef TENSOR_CORE_CUH
#define TENSOR_CORE_CUH

// 16 bytes from global to shared memory, asynchronously (cp.async.cg: cached in L2 only); !valid zero-fills them and
// reads nothing.
__device__ __forceinline__ void cp_async16(void* smem_dst, const void* gmem_src, bool valid)
{
    const unsigned int dst = (unsigned int)__cvta_generic_to_shared(smem_dst);
    const int src_bytes = valid ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem_src), "r"(src_bytes));
}

// Closes the group of cp.async copies issued since the last commit.
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most PENDING committed groups are still in flight (this thread's copies; a barrier shares them).
template <int PENDING>
__device__ __forceinline__ void cp_async_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(PENDING) : "memory"); }

// Four 8x8 bf16 matrices from shared memory: lanes 8i .. 8i + 7 give the row addresses of matrix i.
__device__ __forceinline__ void ldmatrix_x4(unsigned int (&r)[4], const void* smem)
{
    const unsigned int a = (unsigned int)__cvta_generic_to_shared(smem);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

// As ldmatrix_x4, each matrix transposed.
__device__ __forceinline__ void ldmatrix_x4_trans(unsigned int (&r)[4], const void* smem)
{
    const unsigned int a = (unsigned int)__cvta_generic_to_shared(smem);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(a));
}

// d += a * b: a = 16x16 bf16 (row), b = 16x8 bf16 (col), d = 16x8 fp32.
__device__ __forceinline__ void mma_bf16(float (&d)[4], const unsigned int (&a)[4], unsigned int b0, unsigned int b1)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
                 "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                 : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    __trap(); // bf16 mma needs sm_80; the host takes these kernels only there
#endif
}

#endif // TENSOR_CORE_CUH
