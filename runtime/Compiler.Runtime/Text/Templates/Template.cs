using System.Text.Json.Nodes;

namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// A parsed Jinja template, rendered with jinja2's semantics under transformers' settings (trim_blocks,
/// lstrip_blocks, loopcontrols, immutable sandbox). Parse once, render many times; rendering is thread-safe.
/// </summary>
internal sealed class Template
{
    private readonly IReadOnlyList<Stmt> _body;

    private Template(string source, IReadOnlyList<Stmt> body)
    {
        Source = source;
        _body = body;
    }

    public string Source { get; }

    /// <summary>The clock <c>strftime_now</c> reads; tests pin it.</summary>
    public Func<DateTime> Clock { get; init; } = () => DateTime.Now;

    /// <exception cref="TemplateException">The source has a syntax error or uses an unsupported tag.</exception>
    public static Template Parse(string source) => new(source, TemplateParser.Parse(source));

    public Template WithClock(Func<DateTime> clock) => new(Source, _body) { Clock = clock };

    /// <summary>Renders with the given variables (JSON values become Python values as json.loads types them).</summary>
    public string Render(JsonObject variables)
    {
        var values = new Dictionary<string, Value>(StringComparer.Ordinal);
        foreach (var (name, node) in variables)
            values[name] = ValueJson.FromNode(node);
        return Render(values);
    }

    public string Render(IReadOnlyDictionary<string, Value> variables)
    {
        var globals = new Scope(null);
        Globals.AddTo(globals, Clock);
        var context = new Scope(globals);
        foreach (var (name, value) in variables)
            context.Set(name, value);
        return TemplateRenderer.Render(_body, context);
    }
}
