namespace Compiler.Runtime.Cuda;

/// <summary>The native CUDA libraries the runtime binds to (each resolved once, by <see cref="CudaLibraries"/>).</summary>
internal enum CudaLibrary
{
    /// <summary>The driver API: libcuda.so.1 / nvcuda.dll (installed with the GPU driver, not the toolkit).</summary>
    Driver,

    /// <summary>The runtime compiler: libnvrtc.so.13 / .12 (CUDA toolkit or the nvidia-cuda-nvrtc wheel).</summary>
    Nvrtc,

    /// <summary>cuBLASLt: libcublasLt.so.13 / .12.</summary>
    CublasLt,
}
