namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>list</c> or <c>tuple</c> (immutable here: transformers renders in an immutable sandbox).</summary>
internal sealed class ListValue : Value
{
    public static readonly ListValue EmptyList = new([]);

    public ListValue(IReadOnlyList<Value> items, bool isTuple = false)
    {
        Items = items;
        IsTuple = isTuple;
    }

    public IReadOnlyList<Value> Items { get; }

    public bool IsTuple { get; }

    public int Count => Items.Count;

    public override string TypeName => IsTuple ? "tuple" : "list";

    public override bool IsTruthy => Items.Count > 0;
}
