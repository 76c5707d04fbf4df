namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// jinja2's attribute and item lookup: <c>x.name</c> tries the Python attribute (a method) before the item,
/// <c>x[key]</c> the item before the attribute; a miss is an Undefined, and only an Undefined owner raises.
/// </summary>
internal static class Attributes
{
    public static Value GetAttr(Value obj, string name, TemplatePosition at)
    {
        switch (obj)
        {
            case UndefinedValue u:
                throw u.Fail(at);
            case DictValue d:
                return Methods.ForDict(d, name, at) ?? (d.TryGet(name, out var v) ? v : UndefinedValue.Attribute(obj, name));
            case StringValue s:
                return Methods.ForString(s, name, at) ?? UndefinedValue.Attribute(obj, name);
            case ListValue l:
                return Methods.ForList(l, name, at) ?? UndefinedValue.Attribute(obj, name);
            case NamespaceValue n:
                return n.Attributes.TryGetValue(name, out var a) ? a : UndefinedValue.Attribute(obj, name);
            case LoopValue loop:
                return loop.GetAttribute(name);
            default:
                return UndefinedValue.Attribute(obj, name);
        }
    }

    public static Value GetItem(Value obj, Value key, TemplatePosition at)
    {
        switch (obj)
        {
            case UndefinedValue u:
                throw u.Fail(at);
            case DictValue d when d.TryGet(key, out var v):
                return v;
            case ListValue l when key is IntValue or BoolValue:
            {
                var i = PyOps.AsLong(key);
                if (i < 0)
                    i += l.Count;
                if (i >= 0 && i < l.Count)
                    return l.Items[(int)i];
                break;
            }
            case StringValue s when key is IntValue or BoolValue:
            {
                var i = PyOps.AsLong(key);
                if (!PyStr.HasSurrogates(s.Value))
                {
                    if (i < 0)
                        i += s.Value.Length;
                    if (i >= 0 && i < s.Value.Length)
                        return new StringValue(s.Value[(int)i].ToString());
                    break;
                }
                var points = PyStr.CodePoints(s.Value);
                if (i < 0)
                    i += points.Count;
                if (i >= 0 && i < points.Count)
                    return new StringValue(points[(int)i]);
                break;
            }
        }
        if (key is StringValue name && obj is not DictValue)
            return GetAttr(obj, name.Value, at);
        if (key is StringValue dictAttr)
            return Methods.ForDict((DictValue)obj, dictAttr.Value, at) ?? UndefinedValue.Attribute(obj, dictAttr.Value);
        return new UndefinedValue($"'{PyFormat.ObjectDescription(obj)}' has no element {PyFormat.Repr(key)}");
    }

    /// <summary>Python slicing <c>x[start:stop:step]</c> of lists, tuples and strings.</summary>
    public static Value Slice(Value obj, Value? start, Value? stop, Value? step, TemplatePosition at)
    {
        if (obj is UndefinedValue u)
            throw u.Fail(at);
        IReadOnlyList<Value>? items = null;
        List<string>? points = null;
        int length;
        switch (obj)
        {
            case ListValue l:
                items = l.Items;
                length = l.Count;
                break;
            case StringValue s:
                points = PyStr.CodePoints(s.Value);
                length = points.Count;
                break;
            default:
                throw at.Error($"TypeError: '{obj.TypeName}' object is not subscriptable");
        }
        var st = SliceInt(step, at) ?? 1;
        if (st == 0)
            throw at.Error("ValueError: slice step cannot be zero");
        var (first, last) = AdjustIndices(length, SliceInt(start, at), SliceInt(stop, at), st);
        var picked = new List<int>();
        for (var i = first; st > 0 ? i < last : i > last; i += (int)st)
            picked.Add((int)i);
        if (points is not null)
            return new StringValue(string.Concat(picked.Select(i => points[i])));
        return new ListValue(picked.ConvertAll(i => items![i]), ((ListValue)obj).IsTuple);
    }

    private static long? SliceInt(Value? v, TemplatePosition at) => v switch
    {
        null or NoneValue => null,
        IntValue or BoolValue => PyOps.AsLong(v),
        _ => throw at.Error("TypeError: slice indices must be integers or None"),
    };

    // CPython's PySlice_AdjustIndices.
    private static (long First, long Last) AdjustIndices(long length, long? start, long? stop, long step)
    {
        long s, e;
        if (step > 0)
        {
            s = start is null ? 0 : Clamp(start.Value, length, 0, length);
            e = stop is null ? length : Clamp(stop.Value, length, 0, length);
        }
        else
        {
            s = start is null ? length - 1 : Clamp(start.Value, length, -1, length - 1);
            e = stop is null ? -1 : Clamp(stop.Value, length, -1, length - 1);
        }
        return (s, e);
    }

    private static long Clamp(long index, long length, long low, long high)
    {
        if (index < 0)
            index += length;
        return Math.Min(Math.Max(index, low), high);
    }
}
