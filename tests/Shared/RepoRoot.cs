/// <summary>
/// The checkout's root, the folder holding Compiler.sln, found by walking up from the test binary: tests read
/// committed and fetched files (models, references, .cache) where the repository keeps them. Compiled into every
/// test project (tests/Directory.Build.props).
/// </summary>
internal static class RepoRoot
{
    private static readonly Lazy<string?> Found = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Compiler.sln"))) return dir.FullName;
        return null;
    });

    /// <summary>The root, or null when the tests run outside a checkout.</summary>
    public static string? TryFind() => Found.Value;

    public static string Path => Found.Value ?? throw new InvalidOperationException($"No Compiler.sln above {AppContext.BaseDirectory}: run the tests inside a checkout.");
}
