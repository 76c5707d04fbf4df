using Compiler.Runtime.Cuda;

namespace Execution.Tests.Cuda;

public sealed class CudaIncludeLocatorTests
{
    [Fact]
    public void The_folder_beside_the_loaded_nvrtc_comes_first_then_cuda_home_then_usual_installs()
    {
        var candidates = CudaIncludeLocator.Candidates(
            "/opt/cuda-13.0/lib64/libnvrtc.so.13",
            name => name == "CUDA_HOME" ? "/home/u/cuda" : null,
            ["/usr/local/cuda-12.8", "/usr/local/cuda-13.0"],
            windows: false);

        Assert.Equal("/opt/cuda-13.0/include", candidates[0]);
        var home = candidates.ToList().IndexOf("/home/u/cuda/include");
        var usrLocal = candidates.ToList().IndexOf("/usr/local/cuda/include");
        var v13 = candidates.ToList().IndexOf("/usr/local/cuda-13.0/include");
        var v12 = candidates.ToList().IndexOf("/usr/local/cuda-12.8/include");
        Assert.True(0 < home && home < usrLocal && usrLocal < v13 && v13 < v12, string.Join("\n", candidates));
    }

    [Fact]
    public void Find_returns_the_first_folder_holding_cuda_fp16_h()
    {
        var existing = new HashSet<string> { Path.Combine("/b/include", "cuda_fp16.h"), Path.Combine("/c/include", "cuda_fp16.h") };

        Assert.Equal("/b/include", CudaIncludeLocator.Find(["/a/include", "/b/include", "/c/include"], existing.Contains));
        Assert.Null(CudaIncludeLocator.Find(["/a/include"], existing.Contains));
    }
}
