using Microsoft.CodeAnalysis;

namespace Compiler.Generator.Tests;

/// <summary>Each kind of mistake in a model file is a compiler error with its own ID, the file and line, and a hint.</summary>
public sealed class DiagnosticTests
{
    private static readonly string Qwen3 = GeneratorHarness.ReadModel("Qwen3.model");

    private static Diagnostic Single(string text, string id)
    {
        var diagnostics = GeneratorHarness.Diagnostics(text);
        Assert.True(diagnostics.Length >= 1, "expected a diagnostic");
        var d = diagnostics.First();
        Assert.True(d.Id == id, $"expected {id}, got {string.Join("; ", diagnostics)}");
        Assert.Equal(DiagnosticSeverity.Error, d.Severity);
        Assert.Equal("/models/Test.model", d.Location.GetLineSpan().Path);
        Assert.DoesNotContain(diagnostics, x => x.Id is "CS8785" or "MC9999");
        return d;
    }

    private static int LineOf(string text, string fragment) =>
        text[..text.IndexOf(fragment, StringComparison.Ordinal)].Count(c => c == '\n') + 1;

    private static int Line(Diagnostic d) => d.Location.GetLineSpan().StartLinePosition.Line + 1;

    private static string Replace(string from, string to)
    {
        Assert.Contains(from, Qwen3);
        return Qwen3.Replace(from, to);
    }

    [Fact]
    public void UnknownOp()
    {
        var text = Replace("g = linear(h, mlp.gate_proj", "g = lineer(h, mlp.gate_proj");
        var d = Single(text, "MC0002");
        Assert.Equal(LineOf(text, "lineer"), Line(d));
        Assert.Contains("did you mean 'linear'", d.GetMessage());
    }

    [Fact]
    public void UnknownConfigKey()
    {
        var text = Replace("inter    = intermediate_size", "inter    = intermediat_size");
        var d = Single(text, "MC0003");
        Assert.Equal(LineOf(text, "intermediat_size"), Line(d));
        Assert.Contains("did you mean 'intermediate_size'", d.GetMessage());
    }

    [Fact]
    public void UndefinedTensor()
    {
        var text = Replace("u = linear(h, mlp.up_proj", "u = linear(hh, mlp.up_proj");
        var d = Single(text, "MC0004");
        Assert.Equal(LineOf(text, "linear(hh"), Line(d));
        Assert.Contains("did you mean 'h'", d.GetMessage());
    }

    [Fact]
    public void MisspelledConstantInAShape()
    {
        var text = Replace("mlp.up_proj.weight[inter, hidden]", "mlp.up_proj.weight[intr, hidden]");
        var d = Single(text, "MC0004");
        Assert.Contains("did you mean 'inter'", d.GetMessage());
    }

    [Fact]
    public void ShapeMismatch()
    {
        var text = Replace("self_attn.k_proj.weight[kv_heads * head_dim, hidden]", "self_attn.k_proj.weight[kv_heads * head_dim, inter]");
        var d = Single(text, "MC0005");
        Assert.Equal(LineOf(text, "k = linear("), Line(d));
        Assert.Contains("takes INTER input features but 'h' has HIDDEN", d.GetMessage());
    }

    [Fact]
    public void NormWeightOfTheWrongSize()
    {
        var text = Replace("post_attention_layernorm.weight[hidden]", "post_attention_layernorm.weight[inter]");
        Assert.Contains("has INTER elements but its input 'x' has HIDDEN", Single(text, "MC0005").GetMessage());
    }

    [Fact]
    public void Cycle()
    {
        var text = Replace("  g = linear(h, mlp.gate_proj.weight[inter, hidden])",
            "  g = silu(t)\n  t = silu(g)");
        var d = Single(text, "MC0006");
        Assert.Equal(LineOf(text, "g = silu(t)"), Line(d));
        Assert.Contains("g -> t -> g", d.GetMessage());
    }

    [Fact]
    public void UseBeforeDefinition()
    {
        var text = Replace("  u = linear(h, mlp.up_proj.weight[inter, hidden])", "  u = linear(w2, mlp.up_proj.weight[inter, hidden])\n  w2 = silu(h)");
        Assert.Contains("used before it is defined", Single(text, "MC0004").GetMessage());
    }

    [Fact]
    public void MissingLmHead()
    {
        var text = Replace("  logits = lm_head(x, lm_head.weight[vocab, hidden] tied model.embed_tokens.weight if tied)\n", "");
        var d = Single(text, "MC0007");
        Assert.Equal(LineOf(text, "head {"), Line(d));
        Assert.Contains("lm_head", d.GetMessage());
    }

    [Fact]
    public void SyntaxError()
    {
        var text = Replace("q = rope(q, positions, head_dim)", "q = rope(q, positions, head_dim");
        var d = Single(text, "MC0001");
        Assert.Equal(LineOf(text, "q = rope("), Line(d));
    }

    [Fact]
    public void WrongArgumentCount()
    {
        var text = Replace("q = rope(q, positions, head_dim)", "q = rope(q, positions)");
        Assert.Contains("'rope' takes 3 arguments", Single(text, "MC0008").GetMessage());
    }

    [Fact]
    public void DuplicateArchitecture()
    {
        var (_, _, diagnostics) = GeneratorHarness.Run(("/models/A.model", Qwen3), ("/models/B.model", Qwen3));
        Assert.Contains(diagnostics, d => d.Id == "MC0010" && d.GetMessage().Contains("A.model and B.model"));
    }

    [Fact]
    public void NoInputMakesTheGeneratorThrow()
    {
        // Truncations and random edits of a real model file: every one compiles or gives MC diagnostics, never a crash.
        var random = new Random(1234);
        const string alphabet = "abcxyz_.,()[]{}=+*/?#\n 0123456789";
        var texts = new List<string>();
        for (var cut = 0; cut < Qwen3.Length; cut += 37) texts.Add(Qwen3[..cut]);
        for (var i = 0; i < 300; i++)
        {
            var chars = Qwen3.ToCharArray();
            for (var k = 0; k < 1 + i % 4; k++) chars[random.Next(chars.Length)] = alphabet[random.Next(alphabet.Length)];
            texts.Add(new string(chars));
        }
        foreach (var text in texts)
        {
            var output = ModelCompiler.Compile("/models/Test.model", text);
            Assert.DoesNotContain(output.Diagnostics, d => d.Id == "MC9999");
            Assert.True(output.CSharp is not null || output.Diagnostics.Count > 0, "no output and no diagnostic for:\n" + text);
        }
    }
}
