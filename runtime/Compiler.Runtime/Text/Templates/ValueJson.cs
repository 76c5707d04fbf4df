using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Compiler.Runtime.Text.Templates;

/// <summary>JSON in (System.Text.Json nodes to template values, as Python's <c>json.loads</c> would type them)
/// and out (Python's <c>json.dumps</c>, which transformers' <c>tojson</c> filter calls).</summary>
internal static class ValueJson
{
    public static Value FromNode(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return NoneValue.Instance;
            case JsonObject o:
            {
                var d = new DictValue();
                foreach (var (k, v) in o)
                    d.Set(k, FromNode(v));
                return d;
            }
            case JsonArray a:
            {
                var items = new Value[a.Count];
                for (var i = 0; i < a.Count; i++)
                    items[i] = FromNode(a[i]);
                return new ListValue(items);
            }
            default:
            {
                var v = node.AsValue();
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String:
                        return new StringValue(v.TryGetValue<string>(out var s) ? s : JsonSerializer.Deserialize<string>(v.ToJsonString())!);
                    case JsonValueKind.Number:
                        return FromNumberText(v.ToJsonString());
                    case JsonValueKind.True:
                        return BoolValue.True;
                    case JsonValueKind.False:
                        return BoolValue.False;
                    default:
                        return NoneValue.Instance;
                }
            }
        }
    }

    public static Value FromElement(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => FromNode(JsonNode.Parse(e.GetRawText())),
        JsonValueKind.Array => FromNode(JsonNode.Parse(e.GetRawText())),
        JsonValueKind.String => new StringValue(e.GetString()!),
        JsonValueKind.Number => FromNumberText(e.GetRawText()),
        JsonValueKind.True => BoolValue.True,
        JsonValueKind.False => BoolValue.False,
        _ => NoneValue.Instance,
    };

    // json.loads: a literal with '.', 'e' or 'E' is a float, anything else an int.
    private static Value FromNumberText(string raw)
    {
        if (raw.AsSpan().IndexOfAny(".eE") < 0 && long.TryParse(raw, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
            return new IntValue(l);
        return new FloatValue(double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    /// <summary>Python <c>json.dumps(v, ensure_ascii, indent, separators, sort_keys)</c>.</summary>
    public static string Dumps(Value v, TemplatePosition at, string? indent = null, string? itemSeparator = null, string? keySeparator = null,
        bool sortKeys = false, bool ensureAscii = false)
    {
        var sb = new StringBuilder();
        new Writer(sb, indent, itemSeparator ?? (indent is null ? ", " : ","), keySeparator ?? ": ", sortKeys, ensureAscii, at).Write(v, 0);
        return sb.ToString();
    }

    private readonly record struct Writer(StringBuilder Sb, string? Indent, string ItemSep, string KeySep, bool SortKeys, bool EnsureAscii, TemplatePosition At)
    {
        public void Write(Value v, int depth)
        {
            switch (v)
            {
                case NoneValue: Sb.Append("null"); break;
                case BoolValue b: Sb.Append(b.Value ? "true" : "false"); break;
                case IntValue i: Sb.Append(i.Value.ToString(CultureInfo.InvariantCulture)); break;
                case FloatValue f: Sb.Append(FloatJson(f.Value)); break;
                case StringValue s: WriteString(s.Value); break;
                case ListValue l:
                    if (l.Count == 0)
                    {
                        Sb.Append("[]");
                        break;
                    }
                    Sb.Append('[');
                    for (var i = 0; i < l.Count; i++)
                    {
                        Sb.Append(i == 0 ? "" : ItemSep);
                        NewLine(depth + 1);
                        Write(l.Items[i], depth + 1);
                    }
                    NewLine(depth);
                    Sb.Append(']');
                    break;
                case DictValue d:
                    if (d.Count == 0)
                    {
                        Sb.Append("{}");
                        break;
                    }
                    Sb.Append('{');
                    var entries = new List<(string Key, Value Value)>(d.Count);
                    foreach (var (k, val) in d.Entries)
                        entries.Add((KeyString(k), val));
                    if (SortKeys)
                        entries.Sort((x, y) => string.CompareOrdinal(x.Key, y.Key));
                    var first = true;
                    foreach (var (key, value) in entries)
                    {
                        Sb.Append(first ? "" : ItemSep);
                        first = false;
                        NewLine(depth + 1);
                        WriteString(key);
                        Sb.Append(KeySep);
                        Write(value, depth + 1);
                    }
                    NewLine(depth);
                    Sb.Append('}');
                    break;
                default:
                    throw At.Error($"TypeError: Object of type {v.TypeName} is not JSON serializable");
            }
        }

        private void NewLine(int depth)
        {
            if (Indent is null)
                return;
            Sb.Append('\n');
            for (var i = 0; i < depth; i++)
                Sb.Append(Indent);
        }

        private string KeyString(Value k) => k switch
        {
            StringValue s => s.Value,
            BoolValue b => b.Value ? "true" : "false",
            IntValue i => i.Value.ToString(CultureInfo.InvariantCulture),
            FloatValue f => FloatJson(f.Value),
            NoneValue => "null",
            _ => throw At.Error($"TypeError: keys must be str, int, float, bool or None, not {k.TypeName}"),
        };

        private void WriteString(string s)
        {
            Sb.Append('"');
            foreach (var c in s)
            {
                switch (c)
                {
                    case '"': Sb.Append("\\\""); break;
                    case '\\': Sb.Append("\\\\"); break;
                    case '\n': Sb.Append("\\n"); break;
                    case '\r': Sb.Append("\\r"); break;
                    case '\t': Sb.Append("\\t"); break;
                    case '\b': Sb.Append("\\b"); break;
                    case '\f': Sb.Append("\\f"); break;
                    default:
                        if (c < 0x20 || (EnsureAscii && c > 0x7e))
                            Sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else
                            Sb.Append(c);
                        break;
                }
            }
            Sb.Append('"');
        }
    }

    private static string FloatJson(double d) =>
        double.IsNaN(d) ? "NaN" : double.IsPositiveInfinity(d) ? "Infinity" : double.IsNegativeInfinity(d) ? "-Infinity" : PyFormat.FloatRepr(d);
}
