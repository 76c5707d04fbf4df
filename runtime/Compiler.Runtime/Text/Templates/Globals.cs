using System.Globalization;
using System.Text;

namespace Compiler.Runtime.Text.Templates;

/// <summary>The global functions a chat template can call: jinja2's <c>range</c>, <c>dict</c>, <c>namespace</c>,
/// <c>joiner</c>, <c>cycler</c> and transformers' <c>raise_exception</c> and <c>strftime_now</c>.</summary>
internal static class Globals
{
    // jinja2's sandbox caps range() at this many items.
    private const int MaxRange = 100_000;

    public static void AddTo(Scope scope, Func<DateTime> now)
    {
        scope.Set("range", new CallableValue("range", Range));
        scope.Set("dict", new CallableValue("dict", Dict));
        scope.Set("namespace", new CallableValue("namespace", Namespace));
        scope.Set("joiner", new CallableValue("joiner", Joiner));
        scope.Set("cycler", new CallableValue("cycler", Cycler));
        scope.Set("raise_exception", new CallableValue("raise_exception", a =>
            throw new TemplateException(PyFormat.Str(a.Get(0, "message")), a.Position.Line, a.Position.Column) { RaisedByTemplate = true }));
        scope.Set("strftime_now", new CallableValue("strftime_now", a => new StringValue(Strftime(now(), Methods.Str(a, 0, "format")))));
    }

    private static Value Range(CallArgs a)
    {
        a.Expect(3);
        long Int(int i) => a.Positional[i] is IntValue or BoolValue ? PyOps.AsLong(a.Positional[i])
            : throw a.Error($"TypeError: '{a.Positional[i].TypeName}' object cannot be interpreted as an integer");
        long start = 0, stop, step = 1;
        switch (a.Positional.Count)
        {
            case 1: stop = Int(0); break;
            case 2: start = Int(0); stop = Int(1); break;
            case 3: start = Int(0); stop = Int(1); step = Int(2); break;
            default: throw a.Error("range expected at least 1 argument, got 0");
        }
        if (step == 0)
            throw a.Error("ValueError: range() arg 3 must not be zero");
        var items = new List<Value>();
        for (var i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            if (items.Count >= MaxRange)
                throw a.Error($"OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE ({MaxRange}).");
            items.Add(new IntValue(i));
        }
        return new ListValue(items);
    }

    private static Value Dict(CallArgs a)
    {
        var d = new DictValue();
        if (a.Positional.Count > 0)
        {
            if (a.Positional[0] is DictValue src)
                foreach (var (k, v) in src.Entries)
                    d.Entries[k] = v;
            else
                foreach (var pair in PyOps.Iterate(a.Positional[0], a.Position))
                {
                    var kv = PyOps.Iterate(pair, a.Position);
                    if (kv.Count != 2)
                        throw a.Error("ValueError: dictionary update sequence element has wrong length");
                    d.Entries[kv[0]] = kv[1];
                }
        }
        foreach (var (k, v) in a.Keyword)
            d.Set(k, v);
        return d;
    }

    private static Value Namespace(CallArgs a)
    {
        var ns = new NamespaceValue();
        if (a.Positional.Count > 0 && a.Positional[0] is DictValue init)
            foreach (var (k, v) in init.Entries)
                ns.Attributes[PyFormat.Str(k)] = v;
        foreach (var (k, v) in a.Keyword)
            ns.Attributes[k] = v;
        return ns;
    }

    private static Value Joiner(CallArgs a)
    {
        var sep = a.Get(0, "sep", new StringValue(", "));
        var used = false;
        return new CallableValue("joiner", _ =>
        {
            if (used)
                return sep;
            used = true;
            return StringValue.Empty;
        });
    }

    private static Value Cycler(CallArgs a)
    {
        var items = a.Positional.ToArray();
        if (items.Length == 0)
            throw a.Error("cycler() needs at least one item");
        var ns = new NamespaceValue();
        var pos = 0;
        ns.Attributes["next"] = new CallableValue("cycler.next", _ => items[pos++ % items.Length]);
        ns.Attributes["reset"] = new CallableValue("cycler.reset", _ =>
        {
            pos = 0;
            return NoneValue.Instance;
        });
        return ns;
    }

    /// <summary>Python's <c>datetime.strftime</c> for the directives date templates use (C locale).</summary>
    public static string Strftime(DateTime t, string format)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 == format.Length)
            {
                sb.Append(format[i]);
                continue;
            }
            var d = format[++i];
            sb.Append(d switch
            {
                'd' => t.ToString("dd", inv),
                'm' => t.ToString("MM", inv),
                'Y' => t.Year.ToString("0000", inv),
                'y' => t.ToString("yy", inv),
                'b' or 'h' => t.ToString("MMM", inv),
                'B' => t.ToString("MMMM", inv),
                'a' => t.ToString("ddd", inv),
                'A' => t.ToString("dddd", inv),
                'H' => t.ToString("HH", inv),
                'I' => t.ToString("hh", inv),
                'M' => t.ToString("mm", inv),
                'S' => t.ToString("ss", inv),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => t.DayOfYear.ToString("000", inv),
                'f' => (t.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", inv),
                'w' => ((int)t.DayOfWeek).ToString(inv),
                'e' => t.Day.ToString(inv).PadLeft(2),
                '%' => "%",
                _ => "%" + d,
            });
        }
        return sb.ToString();
    }
}
