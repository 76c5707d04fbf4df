using System.Text.RegularExpressions;

namespace Execution.Tests;

/// <summary>The #include targets of a CUDA source: NVRTC ships cuda_bf16.h and nothing else the kernels may rely on.</summary>
internal static partial class KernelIncludes
{
    public static string[] Of(string source) => IncludeRegex().Matches(source).Select(m => m.Groups[1].Value).ToArray();

    [GeneratedRegex(@"^\s*#\s*include\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex IncludeRegex();
}
