using Compiler.Runtime.Cuda;
using Compiler.Runtime.Cuda.Native;

namespace Execution.Tests.Cuda;

public sealed class CudaErrorTests
{
    [Fact]
    public void A_failed_call_names_the_call_the_error_and_its_description()
    {
        var error = new CudaException("cuModuleLoadData", 218, "CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed");

        Assert.Equal("cuModuleLoadData failed: CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed)", error.Message);
        Assert.Equal("cuModuleLoadData", error.Call);
        Assert.Equal(218, error.ErrorCode);
        Assert.Equal("CUDA_ERROR_INVALID_PTX", error.ErrorName);
    }

    [Fact]
    public void Context_and_compile_log_follow_the_error()
    {
        var error = new CudaException("nvrtcCompileProgram", 6, "NVRTC_ERROR_COMPILATION", "the source did not compile; see the log",
            "compiling kernel 'rms_norm' for sm_90", "rms_norm.cu(3): error: identifier \"x\" is undefined\n");

        Assert.Equal(
            "nvrtcCompileProgram failed: NVRTC_ERROR_COMPILATION (the source did not compile; see the log) while compiling kernel 'rms_norm' for sm_90"
            + Environment.NewLine + "rms_norm.cu(3): error: identifier \"x\" is undefined",
            error.Message);
        Assert.Contains("identifier", error.Log);
    }

    [Fact]
    public void Without_a_description_only_the_name_is_shown()
    {
        Assert.Equal("cublasLtMatmul failed: CUBLAS_STATUS_NOT_SUPPORTED", CudaException.Format("cublasLtMatmul", "CUBLAS_STATUS_NOT_SUPPORTED", null));
    }

    [Fact]
    public void Nvrtc_statuses_have_descriptions()
    {
        Assert.Contains("log", Nvrtc.Describe(NvrtcResult.Compilation));
        Assert.Contains("architecture", Nvrtc.Describe(NvrtcResult.InvalidOption));
    }

    [Fact]
    public void Is_available_answers_without_throwing_and_agrees_with_its_reason()
    {
        var available = CudaDevice.IsAvailable;
        Assert.Equal(available, CudaDevice.UnavailableReason is null);
    }

    [Fact]
    public void Without_a_driver_is_available_is_false_and_require_lists_the_names_tried()
    {
        Assert.SkipWhen(CudaDevice.IsAvailable, "this machine has a working CUDA driver");

        Assert.False(CudaDevice.IsAvailable);
        if (CudaLibraries.TryRequire(CudaLibrary.Driver, out _))
        {
            // A driver library without a usable GPU (e.g. a container without the device): cuInit's error is the reason.
            Assert.Contains("cu", CudaDevice.UnavailableReason);
            return;
        }

        Assert.Contains("libcuda.so.1", CudaDevice.UnavailableReason);
        var error = Assert.Throws<CudaException>(() => CudaLibraries.Require(CudaLibrary.Driver));
        Assert.Contains("Could not load the CUDA driver (libcuda) library", error.Message);
        Assert.Contains(OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1", error.Message);
        Assert.Contains("Install the NVIDIA GPU driver", error.Message);
        var open = Assert.Throws<CudaException>(() => CudaDevice.Open());
        Assert.Contains("Could not load", open.Message);
    }
}
