namespace Text.Tests;

/// <summary>Paths inside the repository.</summary>
internal static class RepoPaths
{
    public static string Root => RepoRoot.Path;

    public static string TokenizerDir(string name) => Path.Combine(Root, ".cache", "tokenizers", name);

    public static string Reference(string file) => Path.Combine(Root, "tests", "Text.Tests", "References", file);

    public static string Corpus => Path.Combine(Root, "scripts", "reference", "tokenizer_corpus.jsonl");
}
