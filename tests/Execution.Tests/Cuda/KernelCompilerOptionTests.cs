using Compiler.Runtime.Cuda;

namespace Execution.Tests.Cuda;

public sealed class KernelCompilerOptionTests
{
    [Fact]
    public void Options_put_architecture_first_then_includes_then_sorted_constants_then_extras()
    {
        var constants = new Dictionary<string, KernelConstant> { ["HIDDEN"] = 4096, ["EPS"] = 1e-6, ["BLOCK"] = 256L };

        var options = KernelCompiler.BuildOptions("sm_90", "/usr/local/cuda/include", constants, ["--use_fast_math"]);

        Assert.Equal(
            ["--gpu-architecture=sm_90", "-default-device", "--std=c++17", "-I/usr/local/cuda/include", "-DBLOCK=256", "-DEPS=1E-06", "-DHIDDEN=4096", "--use_fast_math"],
            options);
    }

    [Fact]
    public void Without_an_include_folder_no_I_option_is_passed()
    {
        var options = KernelCompiler.BuildOptions("sm_80", null, null, []);
        Assert.Equal(["--gpu-architecture=sm_80", "-default-device", "--std=c++17"], options);
    }

    [Theory]
    [InlineData("1X")]
    [InlineData("A-B")]
    [InlineData("")]
    [InlineData("A B")]
    public void A_constant_name_that_is_not_a_C_identifier_is_rejected(string name)
    {
        var constants = new Dictionary<string, KernelConstant> { [name] = 1 };
        var error = Assert.Throws<ArgumentException>(() => KernelCompiler.BuildOptions("sm_90", null, constants, []));
        Assert.Contains("not a C identifier", error.Message);
    }

    [Fact]
    public void Constants_print_as_C_literals_in_invariant_culture()
    {
        Assert.Equal("4096", ((KernelConstant)4096).ToSource());
        Assert.Equal("(-1)", ((KernelConstant)(-1L)).ToSource());
        Assert.Equal("2.0", ((KernelConstant)2.0).ToSource());
        Assert.Equal("0.5", ((KernelConstant)0.5).ToSource());
        Assert.Equal("1E-06", ((KernelConstant)1e-6).ToSource());
        Assert.Equal("(-0.125)", ((KernelConstant)(-0.125)).ToSource());
        Assert.True(((KernelConstant)3).IsInteger);
        Assert.False(((KernelConstant)3.0).IsInteger);
    }

    [Fact]
    public void Non_finite_constants_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => ((KernelConstant)double.NaN).ToSource());
        Assert.Throws<ArgumentException>(() => ((KernelConstant)double.PositiveInfinity).ToSource());
    }

    [Fact]
    public void A_supported_architecture_compiles_to_a_cubin_with_the_suffix()
    {
        Assert.Equal(("sm_90", false), KernelCompiler.ChooseTarget(90, [75, 80, 86, 89, 90, 100], string.Empty));
        Assert.Equal(("sm_90a", false), KernelCompiler.ChooseTarget(90, [75, 80, 86, 89, 90, 100], "a"));
    }

    [Fact]
    public void A_gpu_newer_than_nvrtc_gets_ptx_for_the_newest_older_architecture()
    {
        Assert.Equal(("compute_90", true), KernelCompiler.ChooseTarget(120, [75, 80, 86, 89, 90], "a"));
    }

    [Fact]
    public void A_gpu_older_than_every_supported_architecture_is_an_error_that_names_them()
    {
        var error = Assert.Throws<CudaException>(() => KernelCompiler.ChooseTarget(60, [75, 80], string.Empty));
        Assert.Contains("sm_75, sm_80", error.Message);
        Assert.Contains("6.0", error.Message);
    }
}
