namespace Compiler.Runtime.Text.Templates;

/// <summary>Python equality and hashing for dict keys: numbers compare by value across int/float/bool.</summary>
internal sealed class ValueComparer : IEqualityComparer<Value>
{
    public static readonly ValueComparer Instance = new();

    public bool Equals(Value? x, Value? y) => x is not null && y is not null && PyOps.AreEqual(x, y);

    public int GetHashCode(Value v) => v switch
    {
        StringValue s => string.GetHashCode(s.Value, StringComparison.Ordinal),
        IntValue i => i.Value.GetHashCode(),
        BoolValue b => b.Value ? 1L.GetHashCode() : 0L.GetHashCode(),
        FloatValue f => f.Value == Math.Floor(f.Value) && Math.Abs(f.Value) < 9.2e18 ? ((long)f.Value).GetHashCode() : f.Value.GetHashCode(),
        NoneValue => 0x4e6f6e65,
        ListValue l => l.Count,
        _ => System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(v),
    };
}
