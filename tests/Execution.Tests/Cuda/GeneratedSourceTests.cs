using Compiler.Runtime.Kernels;

namespace Execution.Tests.Cuda;

/// <summary>What the runtime hands NVRTC for each model: the generated source with the runtime's headers pasted in.</summary>
public sealed class GeneratedSourceTests
{
    public static TheoryData<string> Architectures => new(Compiler.Models.ModelCatalog.All.Keys);

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Generated_source_takes_the_launch_overlap_helpers_the_gemv_and_decode_attention_from_the_runtime_and_is_self_contained(string architecture)
    {
        var plan = Compiler.Models.ModelCatalog.All[architecture];

        var source = KernelSources.ResolveIncludes(plan.CudaSource);

        Assert.Contains("#include \"launch_overlap.cuh\"", plan.CudaSource);
        Assert.Contains("griddepcontrol.wait;", source);
        Assert.Contains("#include \"gemv.cuh\"", plan.CudaSource); // the GEMV prologue kernels
        Assert.Contains("#define GEMV_MAX_M", source);
        Assert.Contains("#include \"decode_attention.cu\"", plan.CudaSource); // the attention prologue kernels
        Assert.Contains("decode_attention_body<", source);
        // NVRTC ships cuda_bf16.h (each pasted header includes it too); every other include must have been pasted in.
        Assert.Equal(["<cuda_bf16.h>"], KernelIncludes.Of(source).Distinct());
    }

    [Fact]
    public void An_include_of_a_header_the_runtime_lacks_names_it()
    {
        var e = Assert.Throws<FileNotFoundException>(() => KernelSources.ResolveIncludes("#include \"missing.cuh\"\n"));

        Assert.Contains("missing.cuh", e.Message);
    }
}
