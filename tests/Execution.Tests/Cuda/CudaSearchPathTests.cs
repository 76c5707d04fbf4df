using Compiler.Runtime.Cuda;

namespace Execution.Tests.Cuda;

public sealed class CudaSearchPathTests
{
    [Fact]
    public void Toolkit_roots_are_the_named_ones_then_usr_local_cuda_then_versioned_installs_newest_first()
    {
        var toolkit = CudaSearchPath.Toolkit(
            windows: false,
            name => name switch { "CUDA_HOME" => "/opt/cuda", "CUDA_PATH" => "  ", _ => null },
            ["/usr/local/cuda-12.4", "/usr/local/cuda-13.0", "/usr/local/cuda-12.10"]);

        Assert.Equal(["/opt/cuda"], toolkit.ExplicitDirectories);
        Assert.Equal(["/usr/local/cuda", "/usr/local/cuda-13.0", "/usr/local/cuda-12.10", "/usr/local/cuda-12.4"], toolkit.InstallDirectories);
    }

    [Fact]
    public void Windows_has_no_usual_install_folder()
    {
        var toolkit = CudaSearchPath.Toolkit(windows: true, name => name == "CUDA_PATH" ? @"C:\CUDA\v13.0" : null, []);

        Assert.Equal([@"C:\CUDA\v13.0"], toolkit.ExplicitDirectories);
        Assert.Empty(toolkit.InstallDirectories);
    }

    [Fact]
    public void Under_maps_every_folder_keeping_tiers_and_order()
    {
        var search = new CudaSearchPath(["/a", "/b"], ["/c"]).Under(root => [root + "/lib64", root + "/lib"]);

        Assert.Equal(["/a/lib64", "/a/lib", "/b/lib64", "/b/lib"], search.ExplicitDirectories);
        Assert.Equal(["/c/lib64", "/c/lib"], search.InstallDirectories);
    }
}
