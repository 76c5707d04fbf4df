using System.Text.Json.Nodes;
using Compiler.Runtime.Text.Templates;

namespace Compiler.Text.Tests.Templates;

/// <summary>
/// ~130 small templates (whitespace control, printing, operators, tests, filters, string methods, loops, scoping,
/// macros, errors) rendered by real jinja2 configured as transformers configures it
/// (Fixtures/jinja_cases.jsonl, from scripts/reference/chat_template_jinja_cases.py): the interpreter must print
/// the same bytes, and raise a <see cref="TemplateException"/> exactly where jinja2 raised.
/// </summary>
public sealed class JinjaCompatibilityTests
{
    private static readonly Lazy<Dictionary<string, JsonObject>> Rows = new(() =>
        File.ReadLines(TemplateTestPaths.Fixture("jinja_cases.jsonl"))
            .Where(l => l.Trim().Length > 0)
            .Select(l => JsonNode.Parse(l)!.AsObject())
            .ToDictionary(o => o["name"]!.GetValue<string>()));

    public static TheoryData<string> Names()
    {
        var data = new TheoryData<string>();
        foreach (var name in Rows.Value.Keys)
            data.Add(name);
        return data;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Renders_like_jinja2(string name)
    {
        var row = Rows.Value[name];
        var context = JsonNode.Parse(File.ReadAllText(TemplateTestPaths.Fixture("jinja_context.json")))!.AsObject();
        var source = row["template"]!.GetValue<string>();
        if (row["error"] is { } error)
        {
            var ex = Assert.Throws<TemplateException>(() => Template.Parse(source).Render(context));
            Assert.True(ex.Line > 0, $"error without a position: {ex.Message} (jinja2: {error})");
            return;
        }
        Assert.Equal(row["output"]!.GetValue<string>(), Template.Parse(source).Render(context));
    }
}
