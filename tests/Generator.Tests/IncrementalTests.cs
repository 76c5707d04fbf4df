using Microsoft.CodeAnalysis;

namespace Compiler.Generator.Tests;

/// <summary>The generator is incremental: an edit that changes nothing it generates re-uses the cached output.</summary>
public sealed class IncrementalTests
{
    private static IncrementalStepRunReason[] Reasons(GeneratorDriver driver, string step) =>
        driver.GetRunResult().Results.Single().TrackedSteps[step].SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    private static IncrementalStepRunReason[] SourceOutputReasons(GeneratorDriver driver) =>
        driver.GetRunResult().Results.Single().TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs).Select(o => o.Reason).ToArray();

    [Theory]
    [InlineData("# Qwen3ForCausalLM, as in", "# Qwen3ForCausalLM (edited comment), as in")]
    [InlineData("  h = rms_norm(x, input_layernorm.weight[hidden], eps)\n", "  # a new comment line\n  h = rms_norm(x, input_layernorm.weight[hidden], eps)\n")]
    public void CommentEditLeavesOutputCached(string from, string to)
    {
        var text = GeneratorHarness.ReadModel("Qwen3.model");
        var compilation = GeneratorHarness.CreateCompilation();
        var original = new TestText("/models/Qwen3.model", text);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().AddAdditionalTexts([original]);
        driver = driver.RunGenerators(compilation, TestContext.Current.CancellationToken);

        Assert.Contains(from, text);
        driver = driver.ReplaceAdditionalText(original, new TestText("/models/Qwen3.model", text.Replace(from, to)));
        driver = driver.RunGenerators(compilation, TestContext.Current.CancellationToken);

        Assert.Equal([IncrementalStepRunReason.Unchanged], Reasons(driver, ModelGenerator.CompileStep));
        Assert.All(SourceOutputReasons(driver), r => Assert.Equal(IncrementalStepRunReason.Cached, r));
    }

    [Fact]
    public void RealEditRegenerates()
    {
        var text = GeneratorHarness.ReadModel("Qwen3.model");
        var compilation = GeneratorHarness.CreateCompilation();
        var original = new TestText("/models/Qwen3.model", text);
        GeneratorDriver driver = GeneratorHarness.CreateDriver().AddAdditionalTexts([original]).RunGenerators(compilation, TestContext.Current.CancellationToken);
        driver = driver.ReplaceAdditionalText(original, new TestText("/models/Qwen3.model", text.Replace("eps      = rms_norm_eps", "eps      = layer_norm_eps")));
        driver = driver.RunGenerators(compilation, TestContext.Current.CancellationToken);
        Assert.Equal([IncrementalStepRunReason.Modified], Reasons(driver, ModelGenerator.CompileStep));
    }

    private sealed class TestText(string path, string text) : AdditionalText
    {
        public override string Path { get; } = path;
        public override Microsoft.CodeAnalysis.Text.SourceText GetText(CancellationToken cancellationToken = default) =>
            Microsoft.CodeAnalysis.Text.SourceText.From(text);
    }
}
