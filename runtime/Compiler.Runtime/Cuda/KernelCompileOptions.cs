namespace Compiler.Runtime.Cuda;

/// <summary>Options beyond the kernel's source and constants.</summary>
internal sealed record KernelCompileOptions
{
    public static KernelCompileOptions Default { get; } = new();

    /// <summary>Extra NVRTC options, e.g. "--use_fast_math", "-lineinfo", "--maxrregcount=128".</summary>
    public IReadOnlyList<string> ExtraOptions { get; init; } = [];

    /// <summary>Appended to the architecture, e.g. "a" for sm_90a (wgmma, setmaxnreg); dropped on the PTX fallback.</summary>
    public string ArchitectureSuffix { get; init; } = string.Empty;

    /// <summary>Whether to read and write the disk cache.</summary>
    public bool UseCache { get; init; } = true;
}
