namespace Compiler.Runtime.Cuda;

/// <summary>
/// Where to look for the CUDA toolkit, in two tiers: folders the user named ($CUDA_HOME, $CUDA_PATH), searched before
/// the system loader, and the usual install folders (/usr/local/cuda, then /usr/local/cuda-X.Y newest first), searched
/// after it. <see cref="Toolkit"/> gives the toolkit roots; <see cref="Under"/> maps them to the sub-folders one
/// consumer needs (library folders for <see cref="CudaLibraries"/>, include for <see cref="CudaIncludeLocator"/>).
/// </summary>
internal sealed record CudaSearchPath(IReadOnlyList<string> ExplicitDirectories, IReadOnlyList<string> InstallDirectories)
{
    /// <summary>The toolkit roots (pure; tests call it with fake inputs).</summary>
    public static CudaSearchPath Toolkit(bool windows, Func<string, string?> environment, IEnumerable<string> versionedInstallRoots)
    {
        var explicitRoots = new List<string>();
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH" })
        {
            var root = environment(variable);
            if (!string.IsNullOrWhiteSpace(root))
            {
                explicitRoots.Add(root);
            }
        }

        var installRoots = new List<string>();
        if (!windows)
        {
            installRoots.Add("/usr/local/cuda");
        }

        installRoots.AddRange(versionedInstallRoots.OrderByDescending(VersionOf));
        return new CudaSearchPath(explicitRoots, installRoots);
    }

    /// <summary>The toolkit roots of this process: its environment and the /usr/local/cuda-* folders present.</summary>
    public static CudaSearchPath ToolkitForCurrentProcess()
    {
        var windows = OperatingSystem.IsWindows();
        return Toolkit(windows, Environment.GetEnvironmentVariable, VersionedInstallRoots(windows));
    }

    /// <summary>Each folder replaced by the sub-folders <paramref name="subdirectories"/> names under it, tiers and order kept.</summary>
    public CudaSearchPath Under(Func<string, IEnumerable<string>> subdirectories) =>
        new(ExplicitDirectories.SelectMany(subdirectories).ToList(), InstallDirectories.SelectMany(subdirectories).ToList());

    /// <summary>The versioned installs (/usr/local/cuda-X.Y) on this machine; none on Windows.</summary>
    private static List<string> VersionedInstallRoots(bool windows)
    {
        var roots = new List<string>();
        if (!windows && Directory.Exists("/usr/local"))
        {
            try
            {
                roots.AddRange(Directory.EnumerateDirectories("/usr/local", "cuda-*"));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }

        return roots;
    }

    private static Version VersionOf(string root)
    {
        var name = Path.GetFileName(root.TrimEnd('/', '\\'));
        var dash = name.LastIndexOf('-');
        return dash >= 0 && Version.TryParse(name[(dash + 1)..], out var version) ? version : new Version(0, 0);
    }
}
