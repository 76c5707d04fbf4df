namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// A template value with Python semantics (what jinja2 sees): None, bool, int, float, str, list/tuple, dict,
/// namespace, callables, loop objects and jinja2's Undefined. JSON in through <see cref="ValueJson"/>.
/// </summary>
internal abstract class Value
{
    /// <summary>The Python type name, for error messages that match Python's.</summary>
    public abstract string TypeName { get; }

    /// <summary>Python truthiness (<c>bool(x)</c>); undefined is falsy.</summary>
    public abstract bool IsTruthy { get; }

    public virtual bool IsUndefined => false;

    /// <summary>Python <c>str(x)</c>.</summary>
    public override string ToString() => PyFormat.Str(this);

    public static Value From(bool b) => b ? BoolValue.True : BoolValue.False;

    public static Value From(long i) => new IntValue(i);

    public static Value From(string s) => new StringValue(s);
}
