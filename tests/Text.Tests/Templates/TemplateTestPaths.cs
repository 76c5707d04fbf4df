namespace Compiler.Text.Tests.Templates;

/// <summary>Finds the repository (the folder holding Compiler.sln) from the test binary's location.</summary>
internal static class TemplateTestPaths
{
    private static readonly Lazy<string> RootLazy = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Compiler.sln")))
                return dir.FullName;
        throw new InvalidOperationException($"No Compiler.sln above {AppContext.BaseDirectory}");
    });

    public static string Root => RootLazy.Value;

    public static string TokenizerDir(string name) => Path.Combine(Root, ".cache", "tokenizers", name);

    public static string References => Path.Combine(Root, "tests", "Text.Tests", "Templates", "References");

    public static string Fixture(string name) => Path.Combine(Root, "tests", "Text.Tests", "Templates", "Fixtures", name);

    public static string Cases => Path.Combine(Root, "scripts", "reference", "chat_template_cases.jsonl");
}
