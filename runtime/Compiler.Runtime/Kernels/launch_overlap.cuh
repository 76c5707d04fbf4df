// launch_overlap.cuh -- programmatic dependent launch (sm_90+; the host enables it per launch).
//
// A kernel may start while the previous kernel of the stream is still running. Every kernel calls
// wait_for_previous_kernel() before it touches anything that kernel reads or writes, then allow_next_kernel().
// So when a kernel starts, every kernel before its predecessor has finished and its writes are visible, and work
// that needs nothing of the predecessor's (loading weights, or KV of earlier steps) can run before the wait.
// KernelSources pastes this file in place of its #include line, in the library kernels and in every model's
// generated source (NVRTC gets one self-contained source); the guard lets a harness that includes several kernel
// files (scripts/kernels/attention_check.cu) include it twice.
#ifndef LAUNCH_OVERLAP_CUH
#define LAUNCH_OVERLAP_CUH
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
static __device__ __forceinline__ void wait_for_previous_kernel() { asm volatile("griddepcontrol.wait;" ::: "memory"); }
static __device__ __forceinline__ void allow_next_kernel() { asm volatile("griddepcontrol.launch_dependents;" ::: "memory"); }
#else
static __device__ __forceinline__ void wait_for_previous_kernel() {}
static __device__ __forceinline__ void allow_next_kernel() {}
#endif
#endif // LAUNCH_OVERLAP_CUH
