namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>True</c>/<c>False</c>; like Python, it takes part in arithmetic as 1/0.</summary>
internal sealed class BoolValue : Value
{
    public static readonly BoolValue True = new(true);
    public static readonly BoolValue False = new(false);

    private BoolValue(bool value) => Value = value;

    public bool Value { get; }

    public override string TypeName => "bool";

    public override bool IsTruthy => Value;
}
