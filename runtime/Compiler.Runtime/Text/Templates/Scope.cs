namespace Compiler.Runtime.Text.Templates;

/// <summary>A variable frame. For-loop iterations, macros and <c>with</c> get a child frame (assignments inside
/// stay inside, reads fall through to the parent); <c>if</c> does not, as in jinja2.</summary>
internal sealed class Scope
{
    private readonly Dictionary<string, Value> _vars = new(StringComparer.Ordinal);

    public Scope(Scope? parent) => Parent = parent;

    public Scope? Parent { get; }

    public bool TryGet(string name, out Value value)
    {
        for (var s = this; s is not null; s = s.Parent)
            if (s._vars.TryGetValue(name, out value!))
                return true;
        value = null!;
        return false;
    }

    public void Set(string name, Value value) => _vars[name] = value;
}
