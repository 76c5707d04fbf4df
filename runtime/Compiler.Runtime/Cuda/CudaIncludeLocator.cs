namespace Compiler.Runtime.Cuda;

/// <summary>
/// Finds the CUDA toolkit include folder (the one with cuda_fp16.h / cuda_bf16.h) to hand NVRTC as -I. The folder
/// next to the loaded libnvrtc comes first so headers match the compiler; then $CUDA_HOME, $CUDA_PATH,
/// /usr/local/cuda and versioned installs (newest first). When none exists the kernels compile without -I and
/// rely on the copies of those headers that NVRTC carries built in (recent NVRTC releases do).
/// </summary>
internal static class CudaIncludeLocator
{
    public const string ProbeHeader = "cuda_fp16.h";

    /// <summary>The folders to try, best first (pure; tests call it with fake inputs).</summary>
    public static IReadOnlyList<string> Candidates(string? nvrtcLibraryPath, Func<string, string?> environment, IEnumerable<string> versionedInstallRoots, bool windows) =>
        Candidates(nvrtcLibraryPath, CudaSearchPath.Toolkit(windows, environment, versionedInstallRoots));

    private static IReadOnlyList<string> Candidates(string? nvrtcLibraryPath, CudaSearchPath toolkit)
    {
        var candidates = new List<string>();
        if (!string.IsNullOrEmpty(nvrtcLibraryPath) && Path.IsPathRooted(nvrtcLibraryPath))
        {
            // <root>/lib64/libnvrtc.so.13 -> <root>/include; <root>\bin\x64\nvrtc64_130_0.dll -> <root>\include.
            var libDir = Path.GetDirectoryName(nvrtcLibraryPath);
            if (libDir is not null)
            {
                candidates.Add(Path.GetFullPath(Path.Combine(libDir, "..", "include")));
                candidates.Add(Path.GetFullPath(Path.Combine(libDir, "..", "..", "include")));
            }
        }

        var includes = toolkit.Under(root => [Path.Combine(root, "include")]);
        candidates.AddRange(includes.ExplicitDirectories);
        candidates.AddRange(includes.InstallDirectories);
        return candidates.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>The first candidate that holds <see cref="ProbeHeader"/>, or null.</summary>
    public static string? Find(IEnumerable<string> candidates, Func<string, bool> fileExists) =>
        candidates.FirstOrDefault(directory => fileExists(Path.Combine(directory, ProbeHeader)));

    /// <summary>The include folder for this process's NVRTC, or null (then NVRTC's built-in headers are used).</summary>
    public static string? FindForCurrentProcess() =>
        Find(Candidates(LoadedNvrtcPath(), CudaSearchPath.ToolkitForCurrentProcess()), File.Exists);

    /// <summary>The file libnvrtc was loaded from: the resolver's path, or (bare-name loads) from /proc/self/maps.</summary>
    private static string? LoadedNvrtcPath()
    {
        var loaded = CudaLibraries.LoadedFrom(CudaLibrary.Nvrtc);
        if (loaded is not null && Path.IsPathRooted(loaded))
        {
            return loaded;
        }

        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var slash = line.IndexOf('/');
                if (slash >= 0 && line.Contains("libnvrtc.so", StringComparison.Ordinal) && !line.Contains("builtins", StringComparison.Ordinal))
                {
                    return line[slash..].Trim();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }

        return null;
    }
}
