using System.Globalization;
using Compiler.Generator.Diagnostics;
using Compiler.Generator.Ir;
using Compiler.Generator.Passes;
using Compiler.Generator.Syntax;

namespace Compiler.Generator.Tests;

/// <summary>Numbers in the config block: a literal's text decides whether the constant is an integer or a float.</summary>
public sealed class ConfigConstantTests
{
    private static readonly string Qwen3 = GeneratorHarness.ReadModel("Qwen3.model");

    private static string WithEps(string value)
    {
        const string line = "eps      = rms_norm_eps";
        Assert.Contains(line, Qwen3);
        return Qwen3.Replace(line, "eps      = " + value);
    }

    private static (Graph? Graph, List<ModelDiagnostic> Diagnostics) Lower(string text)
    {
        var diagnostics = new List<ModelDiagnostic>();
        var syntax = Parser.Parse(text, diagnostics);
        Assert.Empty(diagnostics);
        return (LowerPass.Run(syntax!, diagnostics), diagnostics);
    }

    [Theory]
    [InlineData("1e-6", 1e-6)]
    [InlineData("1E-6", 1e-6)]
    [InlineData("1E+2", 100.0)]
    [InlineData("1.0E-05", 1e-5)]
    [InlineData("0.5", 0.5)]
    public void AFloatLiteralIsAFloatConstant(string literal, double value)
    {
        // rms_norm takes a float constant, so an eps literal read as an int would be rejected (and truncated to 0).
        var (graph, diagnostics) = Lower(WithEps(literal));
        Assert.True(diagnostics.Count == 0, string.Join("\n", diagnostics));
        var eps = graph!.Constants.Single(c => c.Symbol == "eps");
        Assert.Equal(ConstantKind.Float, eps.Kind);
        Assert.EndsWith("d", eps.Expression, StringComparison.Ordinal);
        Assert.Equal(value, double.Parse(eps.Expression.TrimEnd('d'), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void AnIntegerLiteralIsAnIntConstant()
    {
        var (graph, diagnostics) = Lower(Qwen3.Replace("kv_heads = num_key_value_heads ?? 32", "kv_heads = 8"));
        Assert.Empty(diagnostics);
        var kvHeads = graph!.Constants.Single(c => c.Symbol == "kv_heads");
        Assert.Equal(ConstantKind.Int, kvHeads.Kind);
        Assert.Equal("8", kvHeads.Expression);
    }

    [Fact]
    public void AnExponentLiteralCompilesEndToEnd()
    {
        var output = ModelCompiler.Compile("/models/Test.model", WithEps("1E-6"));
        Assert.Empty(output.Diagnostics);
        Assert.Contains("new(\"EPS\", ConstantKind.Float, \"1E-6\")", output.CSharp);
    }

    [Fact]
    public void AMalformedNumberIsASyntaxError()
    {
        // Not passed through into the generated C# (where it would fail to compile far from the model file).
        var (_, diagnostics) = Lower(WithEps("rms_norm_eps\n  extra    = 1x6"));
        var d = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticIds.Syntax, d.Id);
        Assert.Contains("'1x6'", d.Message);
    }
}
