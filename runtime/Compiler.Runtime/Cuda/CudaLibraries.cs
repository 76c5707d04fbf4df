using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// Finds the CUDA 12 / 13 native libraries by their usual names and serves them to the <c>[LibraryImport]</c>
/// bindings through this assembly's DllImport resolver. The bindings use the logical names below; each is
/// resolved once: the first candidate that loads wins. This assembly's resolver lives here, so any other native
/// library the runtime binds must be added to <see cref="Resolve"/> rather than installing a second resolver.
/// </summary>
internal static class CudaLibraries
{
    public const string DriverName = "cuda-driver";
    public const string NvrtcName = "cuda-nvrtc";
    public const string CublasLtName = "cuda-cublaslt";

    private static readonly ConcurrentDictionary<CudaLibrary, Lazy<LoadResult>> Loaded = new();
    private static int resolverInstalled;

    /// <summary>Installs the resolver (idempotent). Every entry point into the bindings calls this first.</summary>
    public static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref resolverInstalled, 1) == 0)
        {
            NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
        }
    }

    /// <summary>Loads <paramref name="library"/> or throws a <see cref="CudaException"/> that lists every name tried.</summary>
    public static nint Require(CudaLibrary library)
    {
        EnsureResolver();
        var result = Load(library);
        if (result.Handle != 0)
        {
            return result.Handle;
        }

        throw new CudaException(
            $"Could not load the {Describe(library)} library; tried, in order: {string.Join(", ", result.Tried)}. " +
            Hint(library));
    }

    /// <summary>Loads <paramref name="library"/> if it can; never throws.</summary>
    public static bool TryRequire(CudaLibrary library, out nint handle)
    {
        try
        {
            EnsureResolver();
            handle = Load(library).Handle;
            return handle != 0;
        }
        catch (Exception)
        {
            handle = 0;
            return false;
        }
    }

    /// <summary>The path or name that loaded <paramref name="library"/>, or null when it has not loaded.</summary>
    public static string? LoadedFrom(CudaLibrary library) =>
        Loaded.TryGetValue(library, out var lazy) && lazy.IsValueCreated ? lazy.Value.LoadedFrom : null;

    /// <summary>
    /// The names and paths to try for <paramref name="library"/>, best first: the explicit toolkit folders
    /// ($CUDA_HOME, $CUDA_PATH), then bare names for the system loader (LD_LIBRARY_PATH, ldconfig, PATH), then the
    /// usual install folders. Within a folder newer major versions come first and the unversioned symlink last.
    /// </summary>
    public static IReadOnlyList<string> Candidates(CudaLibrary library, bool windows, CudaSearchPath searchPath)
    {
        var names = FileNames(library, windows);
        var candidates = new List<string>();
        if (library == CudaLibrary.Driver)
        {
            // The driver comes with the GPU driver, never from a toolkit folder: a toolkit's lib64/stubs/libcuda.so is
            // a link-time stub that fails every call, so only the system loader (and WSL's driver folder) is asked.
            candidates.AddRange(names);
            if (!windows)
            {
                candidates.Add("/usr/lib/wsl/lib/libcuda.so.1");
            }

            return candidates;
        }

        AddAll(candidates, searchPath.ExplicitDirectories, names);
        candidates.AddRange(names);
        AddAll(candidates, searchPath.InstallDirectories, names);
        return candidates.Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Toolkit library folders to search: explicit ones from $CUDA_HOME and $CUDA_PATH (their lib64, lib, bin),
    /// then /usr/local/cuda and the versioned installs given (newest version first).
    /// </summary>
    public static CudaSearchPath SearchDirectories(bool windows, Func<string, string?> environment, IEnumerable<string> versionedInstallRoots) =>
        CudaSearchPath.Toolkit(windows, environment, versionedInstallRoots).Under(root => LibraryFolders(root, windows));

    /// <summary>File names of <paramref name="library"/> on this kind of OS, newest major version first.</summary>
    public static IReadOnlyList<string> FileNames(CudaLibrary library, bool windows) => (library, windows) switch
    {
        (CudaLibrary.Driver, false) => ["libcuda.so.1", "libcuda.so"],
        (CudaLibrary.Driver, true) => ["nvcuda.dll"],
        (CudaLibrary.Nvrtc, false) => ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so"],
        (CudaLibrary.Nvrtc, true) => ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll"],
        (CudaLibrary.CublasLt, false) => ["libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"],
        (CudaLibrary.CublasLt, true) => ["cublasLt64_13.dll", "cublasLt64_12.dll"],
        _ => throw new ArgumentOutOfRangeException(nameof(library), library, "Unknown CUDA library."),
    };

    private static void AddAll(List<string> candidates, IReadOnlyList<string> directories, IReadOnlyList<string> names)
    {
        foreach (var directory in directories)
        {
            foreach (var name in names)
            {
                candidates.Add(Path.Combine(directory, name));
            }
        }
    }

    private static IEnumerable<string> LibraryFolders(string root, bool windows)
    {
        string[] subdirectories = windows ? ["bin", Path.Combine("bin", "x64")] : ["lib64", "lib", Path.Combine("targets", "x86_64-linux", "lib")];
        return subdirectories.Select(sub => Path.Combine(root, sub));
    }

    private static LoadResult Load(CudaLibrary library) =>
        Loaded.GetOrAdd(library, static lib => new Lazy<LoadResult>(() => LoadUncached(lib))).Value;

    private static LoadResult LoadUncached(CudaLibrary library)
    {
        var windows = OperatingSystem.IsWindows();
        var candidates = Candidates(library, windows, CudaSearchPath.ToolkitForCurrentProcess().Under(root => LibraryFolders(root, windows)));
        foreach (var candidate in candidates)
        {
            if (Path.IsPathRooted(candidate) && !File.Exists(candidate))
            {
                continue;
            }

            if (NativeLibrary.TryLoad(candidate, out var handle))
            {
                return new LoadResult(handle, candidate, candidates);
            }
        }

        return new LoadResult(0, null, candidates);
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        var library = libraryName switch
        {
            DriverName => CudaLibrary.Driver,
            NvrtcName => CudaLibrary.Nvrtc,
            CublasLtName => CudaLibrary.CublasLt,
            _ => (CudaLibrary?)null,
        };

        // Returning 0 hands anything else back to the default probing.
        return library is { } lib ? Load(lib).Handle : 0;
    }

    private static string Describe(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => "CUDA driver (libcuda)",
        CudaLibrary.Nvrtc => "NVRTC (libnvrtc)",
        CudaLibrary.CublasLt => "cuBLASLt (libcublasLt)",
        _ => library.ToString(),
    };

    private static string Hint(CudaLibrary library) => library == CudaLibrary.Driver
        ? "Install the NVIDIA GPU driver (it provides libcuda), or run on a machine with an NVIDIA GPU."
        : "Install the CUDA 12 or 13 toolkit, or set CUDA_HOME to its root, or add its lib64 folder to LD_LIBRARY_PATH.";

    private sealed record LoadResult(nint Handle, string? LoadedFrom, IReadOnlyList<string> Tried);
}
