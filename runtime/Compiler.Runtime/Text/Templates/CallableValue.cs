namespace Compiler.Runtime.Text.Templates;

/// <summary>A function the template can call: a global (<c>range</c>, <c>raise_exception</c>), a bound method
/// (<c>s.split</c>), a macro or <c>caller</c>.</summary>
internal sealed class CallableValue : Value
{
    public CallableValue(string name, Func<CallArgs, Value> invoke)
    {
        Name = name;
        Invoke = invoke;
    }

    public string Name { get; }

    public Func<CallArgs, Value> Invoke { get; }

    public override string TypeName => "function";

    public override bool IsTruthy => true;
}
