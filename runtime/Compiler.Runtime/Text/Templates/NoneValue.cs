namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>None</c> (JSON null).</summary>
internal sealed class NoneValue : Value
{
    public static readonly NoneValue Instance = new();

    private NoneValue()
    {
    }

    public override string TypeName => "NoneType";

    public override bool IsTruthy => false;
}
