namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// jinja2's default <c>Undefined</c>: prints as empty, is falsy, iterates as empty, has length 0, equals only
/// another undefined; attribute or item access, calls, arithmetic and JSON serialization raise with <see cref="Message"/>.
/// </summary>
internal sealed class UndefinedValue : Value
{
    public static readonly UndefinedValue Plain = new("value is undefined");

    public UndefinedValue(string message) => Message = message;

    /// <summary>Why it is undefined, in jinja2's words: <c>'x' is undefined</c> or <c>'dict object' has no attribute 'y'</c>.</summary>
    public string Message { get; }

    public static UndefinedValue Variable(string name) => new($"'{name}' is undefined");

    public static UndefinedValue Attribute(Value owner, string name) => new($"'{PyFormat.ObjectDescription(owner)}' has no attribute '{name}'");

    public static UndefinedValue Item(Value owner, Value key) => new($"'{PyFormat.ObjectDescription(owner)}' has no attribute '{key}'");

    public override string TypeName => "Undefined";

    public override bool IsTruthy => false;

    public override bool IsUndefined => true;

    public TemplateException Fail(TemplatePosition at) => at.Error(Message);
}
