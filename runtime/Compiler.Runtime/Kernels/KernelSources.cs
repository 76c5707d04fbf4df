using System.Reflection;

namespace Compiler.Runtime.Kernels;

/// <summary>CUDA C sources of the library kernels, embedded in the runtime assembly from Kernels/*.cu; a line
/// <c>#include "x.cuh"</c> (or <c>"x.cu"</c>) is replaced by the embedded file, so NVRTC compiles one self-contained
/// source.</summary>
internal static class KernelSources
{
    private const string Prefix = "Compiler.Runtime.Kernels.";

    /// <summary>Returns the text of an embedded kernel source, e.g. <c>Load("decode_attention.cu")</c>.</summary>
    public static string Load(string fileName)
    {
        var assembly = typeof(KernelSources).Assembly;
        using var stream = assembly.GetManifestResourceStream(Prefix + fileName)
            ?? throw new FileNotFoundException(
                $"Kernel source '{fileName}' is not embedded in {assembly.GetName().Name} (looked for resource " +
                $"'{Prefix}{fileName}'). Embedded kernels: {string.Join(", ", Names())}. Check that the file is " +
                "under runtime/Compiler.Runtime/Kernels/ and the csproj embeds Kernels/**/*.cu.");
        using var reader = new StreamReader(stream);
        return ResolveIncludes(reader.ReadToEnd());
    }

    /// <summary>Replaces each line <c>#include "x.cuh"</c> or <c>"x.cu"</c> of a CUDA source with the embedded Kernels/x:
    /// for the library kernels and for a model's generated source, which takes launch_overlap.cuh, gemv.cuh and
    /// decode_attention.cu from here.</summary>
    public static string ResolveIncludes(string source)
    {
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.StartsWith("#include \"", StringComparison.Ordinal) && (line.EndsWith(".cuh\"", StringComparison.Ordinal) || line.EndsWith(".cu\"", StringComparison.Ordinal)))
                lines[i] = Load(line["#include \"".Length..^1]).TrimEnd('\n');
        }
        return string.Join('\n', lines);
    }

    /// <summary>File names of every embedded kernel source.</summary>
    public static IReadOnlyList<string> Names()
    {
        var names = new List<string>();
        foreach (var resource in typeof(KernelSources).Assembly.GetManifestResourceNames())
        {
            if (resource.StartsWith(Prefix, StringComparison.Ordinal) && resource.EndsWith(".cu", StringComparison.Ordinal))
                names.Add(resource[Prefix.Length..]);
        }
        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
