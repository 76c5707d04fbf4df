namespace Text.Tests;

/// <summary>Paths inside the repository, found by walking up from the test binary to the folder holding
/// Compiler.sln.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string TokenizerDir(string name) => Path.Combine(Root, ".cache", "tokenizers", name);

    public static string Reference(string file) => Path.Combine(Root, "tests", "Text.Tests", "References", file);

    public static string Corpus => Path.Combine(Root, "scripts", "reference", "tokenizer_corpus.jsonl");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compiler.sln"))) return dir.FullName;
        throw new InvalidOperationException($"No Compiler.sln above {AppContext.BaseDirectory}.");
    }
}
