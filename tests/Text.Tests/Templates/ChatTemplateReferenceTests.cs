using System.Text.Json.Nodes;
using Compiler.Runtime.Text.Templates;

namespace Compiler.Text.Tests.Templates;

/// <summary>
/// Renders every case of scripts/reference/chat_template_cases.jsonl with the real Qwen3 and Llama 3 templates (and
/// the Llama 3.1 tool-calling template fixture) and compares with what transformers' apply_chat_template produced
/// (References/*.chat.jsonl, written by scripts/reference/chat_template_reference.py): byte-identical prompts, and an
/// error exactly where the Python template raised.
/// </summary>
public sealed class ChatTemplateReferenceTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in new[] { "qwen3", "llama3", "llama3.1" })
            foreach (var line in File.ReadLines(TemplateTestPaths.Cases).Where(l => l.Trim().Length > 0))
                data.Add(target, JsonNode.Parse(line)!["name"]!.GetValue<string>());
        return data;
    }

    private static readonly Dictionary<string, ChatTemplate> Templates = new();

    private static ChatTemplate TemplateFor(string target)
    {
        lock (Templates)
        {
            if (Templates.TryGetValue(target, out var t))
                return t;
            var tokenizer = ChatTemplate.Load(TemplateTestPaths.TokenizerDir(target == "llama3.1" ? "llama3" : target));
            t = target == "llama3.1"
                ? new ChatTemplate(File.ReadAllText(TemplateTestPaths.Fixture("llama3.1.jinja")),
                    new Dictionary<string, string> { ["bos_token"] = tokenizer.BosToken!, ["eos_token"] = tokenizer.EosToken! })
                : tokenizer;
            return Templates[target] = t;
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_transformers(string target, string caseName)
    {
        var referencePath = Path.Combine(TemplateTestPaths.References, $"{target}.chat.jsonl");
        Assert.SkipUnless(File.Exists(referencePath),
            $"{referencePath} is missing: run `python3 scripts/reference/chat_template_reference.py .cache/tokenizers` where transformers is installed");
        var expected = File.ReadLines(referencePath).Select(l => JsonNode.Parse(l)!.AsObject())
            .Single(o => o["name"]!.GetValue<string>() == caseName);
        var input = File.ReadLines(TemplateTestPaths.Cases).Select(l => JsonNode.Parse(l)!.AsObject())
            .Single(o => o["name"]!.GetValue<string>() == caseName);
        input.Remove("name");

        var template = TemplateFor(target);
        if (expected["error"] is { } error)
        {
            var ex = Assert.Throws<TemplateException>(() => template.Render(input));
            Assert.False(string.IsNullOrEmpty(ex.Message), $"transformers raised: {error}");
            return;
        }
        var prompt = template.Render(input);
        Assert.Equal(expected["prompt"]!.GetValue<string>(), prompt);
    }
}
