namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>int</c> (64-bit here; overflow raises instead of growing).</summary>
internal sealed class IntValue : Value
{
    public IntValue(long value) => Value = value;

    public long Value { get; }

    public override string TypeName => "int";

    public override bool IsTruthy => Value != 0;
}
