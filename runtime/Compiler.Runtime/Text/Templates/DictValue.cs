namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>dict</c>: insertion-ordered, keys compared with Python equality (1 == 1.0 == True).</summary>
internal sealed class DictValue : Value
{
    public DictValue(OrderedDictionary<Value, Value> entries) => Entries = entries;

    public DictValue()
        : this(new OrderedDictionary<Value, Value>(ValueComparer.Instance))
    {
    }

    public OrderedDictionary<Value, Value> Entries { get; }

    public int Count => Entries.Count;

    public override string TypeName => "dict";

    public override bool IsTruthy => Entries.Count > 0;

    public bool TryGet(string key, out Value value) => Entries.TryGetValue(new StringValue(key), out value!);

    public bool TryGet(Value key, out Value value) => Entries.TryGetValue(key, out value!);

    public void Set(string key, Value value) => Entries[new StringValue(key)] = value;
}
