using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Compiler.Runtime.Text.Templates;

/// <summary>jinja2's built-in filters as chat templates use them, plus transformers' <c>tojson</c>
/// (<c>json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)</c>).</summary>
internal static partial class Filters
{
    private static readonly HashSet<string> Unsupported =
        ["format", "pprint", "groupby", "xmlattr", "urlize", "striptags", "wordwrap", "filesizeformat", "urlencode", "truncate", "forceescape", "slice"];

    public static Value Apply(string name, Value v, CallArgs a)
    {
        switch (name)
        {
            case "tojson":
            {
                a.Expect(4, "ensure_ascii", "indent", "separators", "sort_keys");
                var indent = a.Find(1, "indent") switch
                {
                    null or NoneValue => null,
                    (IntValue or BoolValue) and var n => new string(' ', (int)Math.Max(0, PyOps.AsLong(n))),
                    StringValue s => s.Value,
                    var other => throw a.Error($"TypeError: tojson indent must be int or str, not {other.TypeName}"),
                };
                string? itemSep = null, keySep = null;
                if (a.Find(2, "separators") is ListValue { Count: 2 } seps && seps.Items[0] is StringValue i0 && seps.Items[1] is StringValue k0)
                    (itemSep, keySep) = (i0.Value, k0.Value);
                return new StringValue(ValueJson.Dumps(v, a.Position, indent, itemSep, keySep,
                    sortKeys: a.Get(3, "sort_keys", BoolValue.False).IsTruthy, ensureAscii: a.Get(0, "ensure_ascii", BoolValue.False).IsTruthy));
            }
            case "trim":
                return new StringValue(PyStr.Strip(PyFormat.Str(v), Methods.OptStr(a, 0, "chars"), true, true));
            case "length":
            case "count":
                return new IntValue(PyOps.Length(v, a.Position));
            case "lower":
                return new StringValue(PyFormat.Str(v).ToLowerInvariant());
            case "upper":
                return new StringValue(PyFormat.Str(v).ToUpperInvariant());
            case "capitalize":
                return new StringValue(PyStr.Capitalize(PyFormat.Str(v)));
            case "title":
                return new StringValue(JinjaTitle(PyFormat.Str(v)));
            case "default":
            case "d":
            {
                var fallback = a.Get(0, "default_value", StringValue.Empty);
                var boolean = a.Get(1, "boolean", BoolValue.False).IsTruthy;
                return v.IsUndefined || (boolean && !v.IsTruthy) ? fallback : v;
            }
            case "first":
            {
                var items = PyOps.Iterate(v, a.Position);
                return items.Count > 0 ? items[0] : new UndefinedValue("No first item, sequence was empty.");
            }
            case "last":
            {
                if (v is UndefinedValue u)
                    throw u.Fail(a.Position);
                var items = PyOps.Iterate(v, a.Position);
                return items.Count > 0 ? items[^1] : new UndefinedValue("No last item, sequence was empty.");
            }
            case "join":
                return Join(v, a);
            case "replace":
            {
                var s = PyFormat.Str(v);
                var count = a.Find(2, "count") is { } c and not NoneValue ? (int)PyOps.AsLong(c) : -1;
                return new StringValue(PyStr.Replace(s, Methods.Str(a, 0, "old"), Methods.Str(a, 1, "new"), count));
            }
            case "list":
                return new ListValue(PyOps.Iterate(v, a.Position).ToList());
            case "items":
                if (v is UndefinedValue)
                    return ListValue.EmptyList;
                if (v is not DictValue d)
                    throw a.Error($"TypeError: Can only get item pairs from a mapping, not {v.TypeName}");
                return new ListValue(d.Entries.Select(kv => (Value)new ListValue([kv.Key, kv.Value], isTuple: true)).ToList());
            case "string":
                return new StringValue(PyFormat.Str(v));
            case "safe":
                return v is StringValue ? v : new StringValue(PyFormat.Str(v));
            case "e":
            case "escape":
                return new StringValue(HtmlEscape(PyFormat.Str(v)));
            case "int":
                return ToInt(v, a);
            case "float":
                return ToFloat(v, a);
            case "abs":
                return v switch
                {
                    IntValue i => new IntValue(Math.Abs(i.Value)),
                    BoolValue b => new IntValue(b.Value ? 1 : 0),
                    FloatValue f => new FloatValue(Math.Abs(f.Value)),
                    _ => throw a.Error($"TypeError: bad operand type for abs(): '{v.TypeName}'"),
                };
            case "round":
                return Round(v, a);
            case "reverse":
                if (v is StringValue rs)
                    return new StringValue(string.Concat(Enumerable.Reverse(PyStr.CodePoints(rs.Value))));
                return new ListValue(PyOps.Iterate(v, a.Position).Reverse().ToList());
            case "indent":
                return Indent(v, a);
            case "center":
            {
                var s = PyFormat.Str(v);
                var width = (int)Methods.OptLong(a, 0, "width", 80);
                var pad = width - PyStr.Length(s);
                if (pad <= 0)
                    return new StringValue(s);
                var left = pad / 2 + (pad & width & 1);
                return new StringValue(new string(' ', left) + s + new string(' ', pad - left));
            }
            case "wordcount":
                return new IntValue(Regex.Matches(PyFormat.Str(v), @"\w+").Count);
            case "attr":
            {
                // Python getattr only: on a dict that is a method, never a key.
                var attrName = Methods.Str(a, 0, "name");
                return v is DictValue dv ? Methods.ForDict(dv, attrName, a.Position) ?? UndefinedValue.Attribute(v, attrName) : Attributes.GetAttr(v, attrName, a.Position);
            }
            case "batch":
            {
                var size = (int)Methods.OptLong(a, 0, "linecount", 1);
                if (size <= 0)
                    throw a.Error("batch size must be positive");
                var fill = a.Find(1, "fill_with");
                var items = PyOps.Iterate(v, a.Position);
                var batches = new List<Value>();
                for (var i = 0; i < items.Count; i += size)
                {
                    var chunk = items.Skip(i).Take(size).ToList();
                    while (fill is not null && chunk.Count < size)
                        chunk.Add(fill);
                    batches.Add(new ListValue(chunk));
                }
                return new ListValue(batches);
            }
            case "select":
            case "reject":
            case "selectattr":
            case "rejectattr":
                return Select(v, a, byAttribute: name.EndsWith("attr", StringComparison.Ordinal), keep: name.StartsWith("select", StringComparison.Ordinal));
            case "map":
                return Map(v, a);
            case "sort":
                return Sort(v, a);
            case "dictsort":
                return DictSort(v, a);
            case "unique":
                return Unique(v, a);
            case "min":
            case "max":
                return MinMax(v, a, name == "max");
            case "sum":
                return Sum(v, a);
        }
        if (Unsupported.Contains(name))
            throw a.Error($"Unsupported filter '{name}'");
        throw a.Error($"No filter named '{name}'");
    }

    private static string JinjaTitle(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var part in WordBeginning().Split(s))
        {
            if (part.Length == 0)
                continue;
            sb.Append(char.ToUpperInvariant(part[0])).Append(part[1..].ToLowerInvariant());
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"([-\s({\[<]+)")]
    private static partial Regex WordBeginning();

    public static string HtmlEscape(string s) =>
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    private static Value Join(Value v, CallArgs a)
    {
        var sep = a.Find(0, "d") is { } d ? PyFormat.Str(d) : "";
        var attribute = a.Find(1, "attribute");
        var items = PyOps.Iterate(v, a.Position);
        var sb = new StringBuilder();
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
                sb.Append(sep);
            var item = attribute is null ? items[i] : AttributePath(items[i], attribute, a.Position);
            sb.Append(PyFormat.Str(item));
        }
        return new StringValue(sb.ToString());
    }

    /// <summary>jinja2's attribute getter: <c>"a.b.0"</c> walks items, numeric parts index lists.</summary>
    public static Value AttributePath(Value item, Value path, TemplatePosition at)
    {
        if (path is IntValue)
            return Attributes.GetItem(item, path, at);
        foreach (var part in PyFormat.Str(path).Split('.'))
        {
            Value key = long.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? new IntValue(n) : new StringValue(part);
            item = Attributes.GetItem(item, key, at);
        }
        return item;
    }

    private static Value ToInt(Value v, CallArgs a)
    {
        var fallback = a.Get(0, "default", new IntValue(0));
        var numberBase = (int)Methods.OptLong(a, 1, "base", 10);
        switch (v)
        {
            case IntValue: return v;
            case BoolValue b: return new IntValue(b.Value ? 1 : 0);
            case FloatValue f when double.IsFinite(f.Value): return new IntValue((long)Math.Truncate(f.Value));
            case StringValue s:
            {
                var text = s.Value.Trim().Replace("_", "");
                if (numberBase == 10 && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                    return new IntValue(l);
                if (numberBase != 10)
                {
                    try
                    {
                        var digits = text.ToLowerInvariant();
                        if (digits.StartsWith("0x") || digits.StartsWith("0o") || digits.StartsWith("0b"))
                            digits = digits[2..];
                        return new IntValue(Convert.ToInt64(digits, numberBase));
                    }
                    catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
                    {
                        return fallback;
                    }
                }
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
                    return new IntValue((long)Math.Truncate(d));
                return fallback;
            }
            default: return fallback;
        }
    }

    private static Value ToFloat(Value v, CallArgs a)
    {
        var fallback = a.Get(0, "default", new FloatValue(0));
        return v switch
        {
            FloatValue => v,
            IntValue or BoolValue => new FloatValue(PyOps.AsDouble(v)),
            StringValue s when double.TryParse(s.Value.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => new FloatValue(d),
            _ => fallback,
        };
    }

    private static Value Round(Value v, CallArgs a)
    {
        if (!PyOps.IsNumber(v))
            throw a.Error($"TypeError: round filter needs a number, not {v.TypeName}");
        var precision = (int)Methods.OptLong(a, 0, "precision", 0);
        var method = a.Find(1, "method") is StringValue m ? m.Value : "common";
        var x = PyOps.AsDouble(v);
        var scale = Math.Pow(10, precision);
        var r = method switch
        {
            // jinja2's 'common' is Python's round(): half to even.
            "common" => precision is >= 0 and <= 15 ? Math.Round(x, precision, MidpointRounding.ToEven) : Math.Round(x * scale, MidpointRounding.ToEven) / scale,
            "ceil" => Math.Ceiling(x * scale) / scale,
            "floor" => Math.Floor(x * scale) / scale,
            _ => throw a.Error("round method must be 'common', 'ceil' or 'floor'"),
        };
        return new FloatValue(r);
    }

    private static Value Indent(Value v, CallArgs a)
    {
        var widthArg = a.Get(0, "width", new IntValue(4));
        var indention = widthArg is StringValue ws ? ws.Value : new string(' ', (int)Math.Max(0, PyOps.AsLong(widthArg)));
        var first = a.Get(1, "first", BoolValue.False).IsTruthy;
        var blank = a.Get(2, "blank", BoolValue.False).IsTruthy;
        var s = PyFormat.Str(v) + "\n";
        var lines = s.Replace("\r\n", "\n").Split('\n').ToList();
        lines.RemoveAt(lines.Count - 1);
        string rv;
        if (blank)
            rv = string.Join("\n" + indention, lines);
        else
        {
            rv = lines[0];
            if (lines.Count > 1)
                rv += "\n" + string.Join("\n", lines.Skip(1).Select(l => l.Length > 0 ? indention + l : l));
        }
        return new StringValue(first ? indention + rv : rv);
    }
}
