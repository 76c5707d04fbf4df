// tensor_core.cuh -- the bf16 tensor-core building blocks (sm_80+) of extend_attention.cu and runtime_kernels.cu's
// GEMMs: 16-byte cp.async copies into shared memory, ldmatrix, and mma.sync m16n8k16 with fp32 accumulate; on
// sm_90a also wgmma m64n64k16.
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

#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Hopper's warpgroup MMA (sm_90a only): the four warps of a warpgroup multiply a 64-row tile of A by B, both read
// from shared memory through descriptors, asynchronously.

// Descriptor of a K-major tile of 128-byte rows (64 bf16) in 128-byte-swizzled layout -- 16-byte chunk c of row r at
// r * 128 + ((c ^ (r % 8)) * 16) from a 1024-byte-aligned base -- starting at shared address `address`: stride
// between 8-row groups 1024 bytes. Advancing K by 16 elements adds 32 bytes to the address.
__device__ __forceinline__ unsigned long long wgmma_desc_sw128(unsigned address)
{
    return (unsigned long long)((address & 0x3FFFF) >> 4) | (1ull << 16) | ((unsigned long long)(1024 >> 4) << 32) | (1ull << 62);
}

// Orders this thread's earlier register and shared-memory accesses before the warpgroup MMAs that follow.
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_wait_all() { asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory"); }

// Makes this thread's shared-memory writes (cp.async lands through the generic proxy) visible to the async proxy,
// through which wgmma reads its operands.
__device__ __forceinline__ void fence_proxy_async_shared() { asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory"); }

// d += a * b^T: a = 64x16 bf16 (rows of the warpgroup's A tile), b = 64x16 bf16 (64 rows of B, K-major), d = 64x64
// fp32. d[j][i] of warp w, lane l is row 16 w + l / 4 (+ 8 for i >= 2), column 8 j + 2 (l % 4) (+ 1 for odd i): the
// layout of eight m16n8 mma.sync accumulators.
__device__ __forceinline__ void wgmma_m64n64k16(float (&d)[8][4], unsigned long long a, unsigned long long b)
{
    asm volatile("wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 "
                 "{%0,%1,%2,%3,%4,%5,%6,%7,%8,%9,%10,%11,%12,%13,%14,%15,%16,%17,%18,%19,%20,%21,%22,%23,%24,%25,%26,%27,%28,%29,%30,%31}, %32, %33, 1, 1, 1, 0, 0;\n"
                 : "+f"(d[0][0]), "+f"(d[0][1]), "+f"(d[0][2]), "+f"(d[0][3]),
                   "+f"(d[1][0]), "+f"(d[1][1]), "+f"(d[1][2]), "+f"(d[1][3]),
                   "+f"(d[2][0]), "+f"(d[2][1]), "+f"(d[2][2]), "+f"(d[2][3]),
                   "+f"(d[3][0]), "+f"(d[3][1]), "+f"(d[3][2]), "+f"(d[3][3]),
                   "+f"(d[4][0]), "+f"(d[4][1]), "+f"(d[4][2]), "+f"(d[4][3]),
                   "+f"(d[5][0]), "+f"(d[5][1]), "+f"(d[5][2]), "+f"(d[5][3]),
                   "+f"(d[6][0]), "+f"(d[6][1]), "+f"(d[6][2]), "+f"(d[6][3]),
                   "+f"(d[7][0]), "+f"(d[7][1]), "+f"(d[7][2]), "+f"(d[7][3])
                 : "l"(a), "l"(b));
}
#endif

#endif // TENSOR_CORE_CUH
