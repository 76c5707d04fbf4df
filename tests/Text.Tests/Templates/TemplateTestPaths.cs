namespace Compiler.Text.Tests.Templates;

/// <summary>The chat-template tests' files inside the repository.</summary>
internal static class TemplateTestPaths
{
    private static string Root => RepoRoot.Path;

    public static string TokenizerDir(string name) => global::Text.Tests.RepoPaths.TokenizerDir(name);

    public static string References => Path.Combine(Root, "tests", "Text.Tests", "Templates", "References");

    public static string Fixture(string name) => Path.Combine(Root, "tests", "Text.Tests", "Templates", "Fixtures", name);

    public static string Cases => Path.Combine(Root, "scripts", "reference", "chat_template_cases.jsonl");
}
