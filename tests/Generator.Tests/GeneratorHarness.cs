using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Compiler.Generator;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace Compiler.Generator.Tests;

/// <summary>Runs the model generator in-process over model files, as the build does.</summary>
internal static class GeneratorHarness
{
    public static string ModelsDirectory { get; } = FindModels();

    public static string ReadModel(string file) => File.ReadAllText(Path.Combine(ModelsDirectory, file));

    public static GeneratorDriver CreateDriver(params (string Path, string Text)[] models) =>
        CSharpGeneratorDriver.Create(
            [new ModelGenerator().AsSourceGenerator()],
            models.Select(m => (AdditionalText)new InMemoryText(m.Path, m.Text)),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    public static CSharpCompilation CreateCompilation() =>
        CSharpCompilation.Create("Compiler.Models",
            [CSharpSyntaxTree.ParseText("namespace Compiler.Models; internal static class Anchor { }")],
            References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Runs the generator; returns the driver (for incremental runs) and the compilation with generated code.</summary>
    public static (GeneratorDriver Driver, Compilation Output, ImmutableArray<Diagnostic> Diagnostics) Run(params (string Path, string Text)[] models)
    {
        var driver = CreateDriver(models).RunGeneratorsAndUpdateCompilation(CreateCompilation(), out var output, out var diagnostics);
        return (driver, output, diagnostics);
    }

    public static ImmutableArray<Diagnostic> Diagnostics(string text, string path = "/models/Test.model") => Run((path, text)).Diagnostics;

    private static IEnumerable<MetadataReference> References()
    {
        var trusted = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator);
        foreach (var path in trusted) yield return MetadataReference.CreateFromFile(path);
        yield return MetadataReference.CreateFromFile(typeof(Compiler.Runtime.Plan.ModelPlan).Assembly.Location);
    }

    private static string FindModels([CallerFilePath] string source = "")
    {
        for (var dir = Path.GetDirectoryName(source); dir is not null; dir = Path.GetDirectoryName(dir))
            if (Directory.Exists(Path.Combine(dir, "models", "Compiler.Models"))) return Path.Combine(dir, "models", "Compiler.Models");
        throw new DirectoryNotFoundException("models/Compiler.Models not found above " + source);
    }

    private sealed class InMemoryText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;
        public override SourceText GetText(CancellationToken cancellationToken = default) => SourceText.From(text);
    }
}
