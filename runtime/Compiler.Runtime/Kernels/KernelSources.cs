using System.Reflection;

namespace Compiler.Runtime.Kernels;

/// <summary>CUDA C sources of the library kernels, embedded in the runtime assembly from Kernels/*.cu.</summary>
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
        return reader.ReadToEnd();
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
