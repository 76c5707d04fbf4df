namespace Compiler.Runtime.Text.Templates;

/// <summary>jinja2's <c>namespace()</c>: the one mutable object, so loops can carry state out (<c>set ns.x = ...</c>).</summary>
internal sealed class NamespaceValue : Value
{
    public Dictionary<string, Value> Attributes { get; } = new(StringComparer.Ordinal);

    public override string TypeName => "Namespace";

    public override bool IsTruthy => true;
}
