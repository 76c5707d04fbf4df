using System.Globalization;
using System.Text;

namespace Compiler.Runtime.Text.Templates;

/// <summary>Python's <c>str()</c> and <c>repr()</c> of template values: what jinja2 prints for <c>{{ x }}</c>.</summary>
internal static class PyFormat
{
    public static string Str(Value v) => v switch
    {
        StringValue s => s.Value,
        UndefinedValue => "",
        _ => Repr(v),
    };

    public static string Repr(Value v)
    {
        switch (v)
        {
            case StringValue s: return ReprString(s.Value);
            case NoneValue: return "None";
            case BoolValue b: return b.Value ? "True" : "False";
            case IntValue i: return i.Value.ToString(CultureInfo.InvariantCulture);
            case FloatValue f: return FloatRepr(f.Value);
            case UndefinedValue: return "Undefined";
            case CallableValue c: return $"<function {c.Name}>";
            case LoopValue l: return $"<LoopContext {l.Index0 + 1}/{l.Length}>";
            case ListValue l:
            {
                var sb = new StringBuilder(l.IsTuple ? "(" : "[");
                for (var i = 0; i < l.Count; i++)
                {
                    if (i > 0)
                        sb.Append(", ");
                    sb.Append(Repr(l.Items[i]));
                }
                if (l.IsTuple && l.Count == 1)
                    sb.Append(',');
                return sb.Append(l.IsTuple ? ')' : ']').ToString();
            }
            case DictValue d:
            {
                var sb = new StringBuilder("{");
                var first = true;
                foreach (var (k, val) in d.Entries)
                {
                    if (!first)
                        sb.Append(", ");
                    first = false;
                    sb.Append(Repr(k)).Append(": ").Append(Repr(val));
                }
                return sb.Append('}').ToString();
            }
            case NamespaceValue n:
                return "<Namespace " + string.Join(", ", n.Attributes.Select(kv => $"{kv.Key}={Repr(kv.Value)}")) + ">";
            default:
                return $"<{v.TypeName} object>";
        }
    }

    /// <summary>jinja2's <c>object_type_repr</c>, used in undefined-attribute messages.</summary>
    public static string ObjectDescription(Value v) => v is NoneValue ? "None" : $"{v.TypeName} object";

    /// <summary>Python <c>repr(str)</c>: single quotes unless the text has a single quote and no double quote.</summary>
    public static string ReprString(string s)
    {
        var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        var sb = new StringBuilder(s.Length + 2).Append(quote);
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == quote || c == '\\')
                sb.Append('\\').Append(c);
            else if (c == '\n')
                sb.Append("\\n");
            else if (c == '\r')
                sb.Append("\\r");
            else if (c == '\t')
                sb.Append("\\t");
            else if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                var cp = char.ConvertToUtf32(c, s[i + 1]);
                if (IsPrintable(CharUnicodeInfo.GetUnicodeCategory(cp)))
                    sb.Append(c).Append(s[i + 1]);
                else
                    sb.Append("\\U").Append(cp.ToString("x8", CultureInfo.InvariantCulture));
                i++;
            }
            else if (c == ' ' || IsPrintable(CharUnicodeInfo.GetUnicodeCategory(c)))
                sb.Append(c);
            else if (c < 0x100)
                sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
            else
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
        }
        return sb.Append(quote).ToString();
    }

    private static bool IsPrintable(UnicodeCategory cat) => cat is not (UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
        or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.SpaceSeparator);

    /// <summary>Python <c>repr(float)</c>: shortest round-trip digits, exponent form outside 1e-4 &lt;= |x| &lt; 1e16.</summary>
    public static string FloatRepr(double d)
    {
        if (double.IsNaN(d))
            return "nan";
        if (double.IsInfinity(d))
            return d > 0 ? "inf" : "-inf";
        if (d == 0)
            return double.IsNegative(d) ? "-0.0" : "0.0";

        var r = d.ToString("R", CultureInfo.InvariantCulture);
        var negative = r[0] == '-';
        if (negative)
            r = r[1..];
        var exp = 0;
        var e = r.IndexOf('E');
        if (e >= 0)
        {
            exp = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            r = r[..e];
        }
        var dot = r.IndexOf('.');
        var digits = dot < 0 ? r : r.Remove(dot, 1);
        var decpt = (dot < 0 ? r.Length : dot) + exp;
        var lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0')
            lead++;
        digits = digits[lead..].TrimEnd('0');
        decpt -= lead;
        if (digits.Length == 0)
            digits = "0";

        var sb = new StringBuilder();
        if (negative)
            sb.Append('-');
        if (decpt <= -4 || decpt > 16)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            var x = decpt - 1;
            sb.Append('e').Append(x < 0 ? '-' : '+').Append(Math.Abs(x).ToString("00", CultureInfo.InvariantCulture));
        }
        else if (decpt <= 0)
            sb.Append("0.").Append('0', -decpt).Append(digits);
        else if (decpt >= digits.Length)
            sb.Append(digits).Append('0', decpt - digits.Length).Append(".0");
        else
            sb.Append(digits, 0, decpt).Append('.').Append(digits, decpt, digits.Length - decpt);
        return sb.ToString();
    }
}
