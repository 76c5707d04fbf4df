namespace Compiler.Runtime.Text.Templates;

/// <summary>Evaluated call arguments with Python-style binding helpers; errors name the callee and position.</summary>
internal sealed class CallArgs
{
    public static readonly IReadOnlyList<(string Name, Value Value)> NoKeywords = [];

    public CallArgs(string callee, IReadOnlyList<Value> positional, IReadOnlyList<(string Name, Value Value)> keyword, TemplatePosition position)
    {
        Callee = callee;
        Positional = positional;
        Keyword = keyword;
        Position = position;
    }

    public string Callee { get; }

    public IReadOnlyList<Value> Positional { get; }

    public IReadOnlyList<(string Name, Value Value)> Keyword { get; }

    public TemplatePosition Position { get; }

    /// <summary>The argument at <paramref name="index"/> or named <paramref name="name"/>; <c>null</c> if absent.</summary>
    public Value? Find(int index, string name)
    {
        if (index >= 0 && index < Positional.Count)
            return Positional[index];
        foreach (var (n, v) in Keyword)
            if (n == name)
                return v;
        return null;
    }

    public Value Get(int index, string name) =>
        Find(index, name) ?? throw Error($"{Callee}() missing required argument '{name}'");

    public Value Get(int index, string name, Value fallback) => Find(index, name) ?? fallback;

    public void Expect(int maxPositional, params string[] keywords)
    {
        if (Positional.Count > maxPositional)
            throw Error($"{Callee}() takes at most {maxPositional} positional argument{(maxPositional == 1 ? "" : "s")} ({Positional.Count} given)");
        foreach (var (n, _) in Keyword)
            if (Array.IndexOf(keywords, n) < 0)
                throw Error($"{Callee}() got an unexpected keyword argument '{n}'");
    }

    public TemplateException Error(string message) => Position.Error(message);
}
