using Compiler.Runtime.Cuda;

namespace Execution.Tests.Cuda;

public sealed class CudaLibrariesTests
{
    private static string? NoEnvironment(string name) => null;

    [Fact]
    public void Linux_names_try_cuda_13_then_12_then_the_unversioned_link()
    {
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"], CudaLibraries.FileNames(CudaLibrary.Nvrtc, windows: false));
        Assert.Equal(["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"], CudaLibraries.FileNames(CudaLibrary.CublasLt, windows: false));
        Assert.Equal(["libcuda.so.1", "libcuda.so"], CudaLibraries.FileNames(CudaLibrary.Driver, windows: false));
    }

    [Fact]
    public void Windows_names_are_the_versioned_dlls()
    {
        Assert.Equal(["nvrtc64_130_0.dll", "nvrtc64_120_0.dll"], CudaLibraries.FileNames(CudaLibrary.Nvrtc, windows: true));
        Assert.Equal(["cublasLt64_13.dll", "cublasLt64_12.dll"], CudaLibraries.FileNames(CudaLibrary.CublasLt, windows: true));
        Assert.Equal(["nvcuda.dll"], CudaLibraries.FileNames(CudaLibrary.Driver, windows: true));
    }

    [Fact]
    public void Cuda_home_comes_first_then_the_system_loader_then_install_folders_newest_first()
    {
        var search = CudaLibraries.SearchDirectories(
            windows: false,
            name => name == "CUDA_HOME" ? "/opt/cuda" : null,
            ["/usr/local/cuda-12.4", "/usr/local/cuda-13.0", "/usr/local/cuda-12.10"]);

        var candidates = CudaLibraries.Candidates(CudaLibrary.Nvrtc, windows: false, search).ToList();

        var first = candidates.Take(3).ToList();
        Assert.Equal(["/opt/cuda/lib64/libnvrtc.so.13", "/opt/cuda/lib64/libnvrtc.so.12", "/opt/cuda/lib64/libnvrtc.so"], first);
        var bare = candidates.IndexOf("libnvrtc.so.13");
        var usrLocal = candidates.IndexOf("/usr/local/cuda/lib64/libnvrtc.so.13");
        var cuda13 = candidates.IndexOf("/usr/local/cuda-13.0/lib64/libnvrtc.so.13");
        var cuda1210 = candidates.IndexOf("/usr/local/cuda-12.10/lib64/libnvrtc.so.13");
        var cuda124 = candidates.IndexOf("/usr/local/cuda-12.4/lib64/libnvrtc.so.13");
        Assert.True(candidates.IndexOf("/opt/cuda/lib/libnvrtc.so.13") < bare);
        Assert.True(bare < usrLocal && usrLocal < cuda13 && cuda13 < cuda1210 && cuda1210 < cuda124, string.Join("\n", candidates));
        Assert.Equal(candidates.Count, candidates.Distinct().Count());
    }

    [Fact]
    public void The_driver_is_never_taken_from_a_toolkit_folder()
    {
        // A toolkit's lib64/stubs/libcuda.so fails every call; only the loader (and WSL's folder) may provide libcuda.
        var search = CudaLibraries.SearchDirectories(windows: false, name => name == "CUDA_HOME" ? "/opt/cuda" : null, ["/usr/local/cuda-13.0"]);

        var candidates = CudaLibraries.Candidates(CudaLibrary.Driver, windows: false, search);

        Assert.Equal(["libcuda.so.1", "libcuda.so", "/usr/lib/wsl/lib/libcuda.so.1"], candidates);
    }

    [Fact]
    public void Windows_searches_cuda_path_bin_and_bin_x64()
    {
        var search = CudaLibraries.SearchDirectories(windows: true, name => name == "CUDA_PATH" ? @"C:\CUDA\v13.0" : null, []);

        var candidates = CudaLibraries.Candidates(CudaLibrary.CublasLt, windows: true, search);

        Assert.Contains(Path.Combine(@"C:\CUDA\v13.0", "bin", "cublasLt64_13.dll"), candidates);
        Assert.Contains(Path.Combine(@"C:\CUDA\v13.0", Path.Combine("bin", "x64"), "cublasLt64_13.dll"), candidates);
        Assert.DoesNotContain(candidates, c => c.StartsWith("/usr/local", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_environment_variables_the_usual_install_folder_is_searched()
    {
        var search = CudaLibraries.SearchDirectories(windows: false, NoEnvironment, []);

        Assert.Empty(search.ExplicitDirectories);
        Assert.Contains("/usr/local/cuda/lib64", search.InstallDirectories);
    }
}
