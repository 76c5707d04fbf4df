namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>str</c>. Lengths, indices and slices count code points, as Python does.</summary>
internal sealed class StringValue : Value
{
    public static readonly StringValue Empty = new("");

    public StringValue(string value) => Value = value;

    public string Value { get; }

    public override string TypeName => "str";

    public override bool IsTruthy => Value.Length > 0;
}
