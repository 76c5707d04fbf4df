namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>float</c>; printed with Python's shortest round-trip repr.</summary>
internal sealed class FloatValue : Value
{
    public FloatValue(double value) => Value = value;

    public double Value { get; }

    public override string TypeName => "float";

    public override bool IsTruthy => Value != 0;
}
