using Microsoft.CodeAnalysis;

namespace Compiler.Generator.Tests;

/// <summary>The generated C#, CUDA C and plan of every shipped model, compared with golden files.</summary>
public sealed class SnapshotTests
{
    public static TheoryData<string, string> Models => new()
    {
        { "Qwen3.model", "Qwen3ForCausalLM" },
        { "Llama.model", "LlamaForCausalLM" },
        { "Qwen2.model", "Qwen2ForCausalLM" },
    };

    [Theory, MemberData(nameof(Models))]
    public void GeneratedCSharpMatchesSnapshot(string file, string model)
    {
        var (_, output, diagnostics) = GeneratorHarness.Run(("/models/" + file, GeneratorHarness.ReadModel(file)));
        Assert.Empty(diagnostics);
        var generated = output.SyntaxTrees.Single(t => t.FilePath.EndsWith(model + ".g.cs", StringComparison.Ordinal));
        Snapshot.Match(model + ".g.cs", generated.ToString());
    }

    [Theory, MemberData(nameof(Models))]
    public void GeneratedCudaAndPlanMatchSnapshots(string file, string model)
    {
        var compiled = ModelCompiler.Compile(file, GeneratorHarness.ReadModel(file));
        Assert.Empty(compiled.Diagnostics);
        Snapshot.Match(model + ".cu", compiled.Cuda!);
        Snapshot.Match(model + ".plan.txt", compiled.Plan!);
    }

    [Fact]
    public void GeneratedCodeCompilesAgainstTheRuntime()
    {
        var models = new[] { "Qwen3.model", "Llama.model", "Qwen2.model" }.Select(f => ("/models/" + f, GeneratorHarness.ReadModel(f))).ToArray();
        var (_, output, diagnostics) = GeneratorHarness.Run(models);
        Assert.Empty(diagnostics);
        var errors = output.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        Assert.True(errors.Count == 0, string.Join("\n", errors));
        var catalog = output.SyntaxTrees.Single(t => t.FilePath.EndsWith("ModelCatalog.g.cs", StringComparison.Ordinal)).ToString();
        foreach (var name in new[] { "Qwen3ForCausalLM", "LlamaForCausalLM", "Qwen2ForCausalLM" })
            Assert.Contains($"[\"{name}\"] = {name}.Plan", catalog);
    }

    [Fact]
    public void OutputIsDeterministic()
    {
        var text = GeneratorHarness.ReadModel("Qwen3.model");
        var first = ModelCompiler.Compile("a/Qwen3.model", text);
        var second = ModelCompiler.Compile("b/Qwen3.model", text);
        Assert.Equal(first.CSharp, second.CSharp);
        Assert.Equal(first.Cuda, second.Cuda);
    }
}
