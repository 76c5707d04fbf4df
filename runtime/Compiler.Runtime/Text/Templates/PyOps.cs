namespace Compiler.Runtime.Text.Templates;

/// <summary>Python operator semantics for template values: equality, ordering, arithmetic, <c>in</c>,
/// iteration and <c>len</c>, raising Python's TypeError messages as <see cref="TemplateException"/>.</summary>
internal static class PyOps
{
    public static bool IsNumber(Value v) => v is IntValue or FloatValue or BoolValue;

    private static bool IsIntegral(Value v) => v is IntValue or BoolValue;

    public static long AsLong(Value v) => v switch
    {
        IntValue i => i.Value,
        BoolValue b => b.Value ? 1 : 0,
        _ => throw new InvalidOperationException("not an integer"),
    };

    public static double AsDouble(Value v) => v switch
    {
        FloatValue f => f.Value,
        IntValue i => i.Value,
        BoolValue b => b.Value ? 1 : 0,
        _ => throw new InvalidOperationException("not a number"),
    };

    public static bool AreEqual(Value a, Value b)
    {
        if (ReferenceEquals(a, b))
            return true;
        if (IsNumber(a) && IsNumber(b))
            return IsIntegral(a) && IsIntegral(b) ? AsLong(a) == AsLong(b) : AsDouble(a) == AsDouble(b);
        switch (a)
        {
            case StringValue sa: return b is StringValue sb && sa.Value == sb.Value;
            case NoneValue: return b is NoneValue;
            case UndefinedValue: return b is UndefinedValue;
            case ListValue la:
            {
                if (b is not ListValue lb || la.IsTuple != lb.IsTuple || la.Count != lb.Count)
                    return false;
                for (var i = 0; i < la.Count; i++)
                    if (!AreEqual(la.Items[i], lb.Items[i]))
                        return false;
                return true;
            }
            case DictValue da:
            {
                if (b is not DictValue db || da.Count != db.Count)
                    return false;
                foreach (var (k, v) in da.Entries)
                    if (!db.TryGet(k, out var other) || !AreEqual(v, other))
                        return false;
                return true;
            }
            default: return false;
        }
    }

    /// <summary>Python ordering; returns &lt;0, 0, &gt;0 or raises TypeError for unorderable types.</summary>
    public static int Compare(Value a, Value b, string op, TemplatePosition at)
    {
        if (a is UndefinedValue ua)
            throw ua.Fail(at);
        if (b is UndefinedValue ub)
            throw ub.Fail(at);
        if (IsNumber(a) && IsNumber(b))
            return IsIntegral(a) && IsIntegral(b) ? AsLong(a).CompareTo(AsLong(b)) : AsDouble(a).CompareTo(AsDouble(b));
        if (a is StringValue sa && b is StringValue sb)
            return Math.Sign(string.CompareOrdinal(sa.Value, sb.Value));
        if (a is ListValue la && b is ListValue lb && la.IsTuple == lb.IsTuple)
        {
            for (var i = 0; i < Math.Min(la.Count, lb.Count); i++)
                if (!AreEqual(la.Items[i], lb.Items[i]))
                    return Compare(la.Items[i], lb.Items[i], op, at);
            return la.Count.CompareTo(lb.Count);
        }
        throw at.Error($"TypeError: '{op}' not supported between instances of '{a.TypeName}' and '{b.TypeName}'");
    }

    public static Value Binary(string op, Value a, Value b, TemplatePosition at)
    {
        if (a is UndefinedValue ua)
            throw ua.Fail(at);
        if (b is UndefinedValue ub)
            throw ub.Fail(at);
        if (IsNumber(a) && IsNumber(b))
            return Arithmetic(op, a, b, at);
        switch (op)
        {
            case "+" when a is StringValue sa && b is StringValue sb:
                return new StringValue(sa.Value + sb.Value);
            case "+" when a is ListValue la && b is ListValue lb && la.IsTuple == lb.IsTuple:
                return new ListValue([.. la.Items, .. lb.Items], la.IsTuple);
            case "+" when a is StringValue || (a is ListValue { IsTuple: false }):
                throw at.Error($"TypeError: can only concatenate {a.TypeName} (not \"{b.TypeName}\") to {a.TypeName}");
            case "*" when a is StringValue || a is ListValue:
                return Repeat(a, b, at);
            case "*" when b is StringValue || b is ListValue:
                return Repeat(b, a, at);
            case "%" when a is StringValue:
                throw at.Error("printf-style string formatting ('...' % value) is not supported; use '~' or the format filter");
        }
        throw at.Error($"TypeError: unsupported operand type(s) for {op}: '{a.TypeName}' and '{b.TypeName}'");
    }

    private static Value Repeat(Value seq, Value times, TemplatePosition at)
    {
        if (!IsIntegral(times))
            throw at.Error($"TypeError: can't multiply sequence by non-int of type '{times.TypeName}'");
        var n = (int)Math.Max(0, AsLong(times));
        if (seq is StringValue s)
            return new StringValue(string.Concat(Enumerable.Repeat(s.Value, n)));
        var l = (ListValue)seq;
        var items = new List<Value>(l.Count * n);
        for (var i = 0; i < n; i++)
            items.AddRange(l.Items);
        return new ListValue(items, l.IsTuple);
    }

    private static Value Arithmetic(string op, Value a, Value b, TemplatePosition at)
    {
        if (IsIntegral(a) && IsIntegral(b) && op != "/")
        {
            long x = AsLong(a), y = AsLong(b);
            try
            {
                switch (op)
                {
                    case "+": return new IntValue(checked(x + y));
                    case "-": return new IntValue(checked(x - y));
                    case "*": return new IntValue(checked(x * y));
                    case "//":
                        if (y == 0)
                            throw at.Error("ZeroDivisionError: integer division or modulo by zero");
                        return new IntValue(FloorDiv(x, y));
                    case "%":
                        if (y == 0)
                            throw at.Error("ZeroDivisionError: integer division or modulo by zero");
                        return new IntValue(x - FloorDiv(x, y) * y);
                    case "**":
                        if (y < 0)
                            return new FloatValue(Math.Pow(x, y));
                        long r = 1;
                        for (long i = 0; i < y; i++)
                            r = checked(r * x);
                        return new IntValue(r);
                }
            }
            catch (OverflowException)
            {
                throw at.Error($"integer overflow in '{op}' (this interpreter's ints are 64-bit)");
            }
        }
        double p = AsDouble(a), q = AsDouble(b);
        switch (op)
        {
            case "+": return new FloatValue(p + q);
            case "-": return new FloatValue(p - q);
            case "*": return new FloatValue(p * q);
            case "**": return new FloatValue(Math.Pow(p, q));
            case "/":
                if (q == 0)
                    throw at.Error("ZeroDivisionError: division by zero");
                return new FloatValue(p / q);
            case "//":
                if (q == 0)
                    throw at.Error("ZeroDivisionError: float floor division by zero");
                return new FloatValue(Math.Floor(p / q));
            case "%":
                if (q == 0)
                    throw at.Error("ZeroDivisionError: float modulo");
                var m = p % q;
                return new FloatValue(m != 0 && (m < 0) != (q < 0) ? m + q : m);
        }
        throw at.Error($"unknown operator '{op}'");
    }

    private static long FloorDiv(long x, long y)
    {
        var q = x / y;
        return (x % y != 0 && (x < 0) != (y < 0)) ? q - 1 : q;
    }

    /// <summary>Python <c>item in container</c>.</summary>
    public static bool Contains(Value container, Value item, TemplatePosition at)
    {
        switch (container)
        {
            case StringValue s:
                if (item is not StringValue needle)
                    throw at.Error($"TypeError: 'in <string>' requires string as left operand, not {item.TypeName}");
                return s.Value.Contains(needle.Value, StringComparison.Ordinal);
            case ListValue l:
                foreach (var x in l.Items)
                    if (AreEqual(x, item))
                        return true;
                return false;
            case DictValue d:
                return d.TryGet(item, out _);
            case UndefinedValue:
                return false;
            case NamespaceValue n:
                return item is StringValue key && n.Attributes.ContainsKey(key.Value);
            default:
                throw at.Error($"TypeError: argument of type '{container.TypeName}' is not iterable");
        }
    }

    /// <summary>Python <c>iter(x)</c> materialized: list items, dict keys, string code points; undefined is empty.</summary>
    public static IReadOnlyList<Value> Iterate(Value v, TemplatePosition at)
    {
        switch (v)
        {
            case ListValue l: return l.Items;
            case DictValue d: return d.Entries.Keys.ToList();
            case StringValue s: return PyStr.CodePoints(s.Value).ConvertAll<Value>(c => new StringValue(c));
            case UndefinedValue: return [];
            default: throw at.Error($"TypeError: '{v.TypeName}' object is not iterable");
        }
    }

    /// <summary>Python <c>len(x)</c>; jinja2's undefined has length 0.</summary>
    public static int Length(Value v, TemplatePosition at) => v switch
    {
        StringValue s => PyStr.Length(s.Value),
        ListValue l => l.Count,
        DictValue d => d.Count,
        UndefinedValue => 0,
        _ => throw at.Error($"TypeError: object of type '{v.TypeName}' has no len()"),
    };

    public static Value Negate(Value v, TemplatePosition at) => v switch
    {
        IntValue i => new IntValue(-i.Value),
        BoolValue b => new IntValue(b.Value ? -1 : 0),
        FloatValue f => new FloatValue(-f.Value),
        UndefinedValue u => throw u.Fail(at),
        _ => throw at.Error($"TypeError: bad operand type for unary -: '{v.TypeName}'"),
    };
}
