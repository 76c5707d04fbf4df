using System.Text;

namespace Compiler.Runtime.Text.Templates;

/// <summary>The Python methods templates call on str, dict and list (<c>s.split('x')</c>, <c>d.items()</c>);
/// mutating ones fail as in transformers' immutable sandbox.</summary>
internal static class Methods
{
    private static readonly HashSet<string> UnsupportedStr =
        ["format", "format_map", "encode", "casefold", "expandtabs", "partition", "rpartition", "translate", "maketrans",
         "center", "ljust", "rjust", "swapcase", "isdecimal", "isnumeric", "isidentifier", "isprintable", "istitle", "isascii",
         "removeprefix", "removesuffix"];

    private static readonly HashSet<string> Mutating =
        ["append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update", "setdefault", "popitem"];

    private static CallableValue Method(string name, Func<CallArgs, Value> f) => new(name, f);

    public static Value? ForString(StringValue sv, string name, TemplatePosition at)
    {
        var s = sv.Value;
        switch (name)
        {
            case "upper": return Method("str.upper", a => new StringValue(s.ToUpperInvariant()));
            case "lower": return Method("str.lower", a => new StringValue(s.ToLowerInvariant()));
            case "title": return Method("str.title", a => new StringValue(PyStr.Title(s)));
            case "capitalize": return Method("str.capitalize", a => new StringValue(PyStr.Capitalize(s)));
            case "strip": return Method("str.strip", a => new StringValue(PyStr.Strip(s, OptStr(a, 0, "chars"), true, true)));
            case "lstrip": return Method("str.lstrip", a => new StringValue(PyStr.Strip(s, OptStr(a, 0, "chars"), true, false)));
            case "rstrip": return Method("str.rstrip", a => new StringValue(PyStr.Strip(s, OptStr(a, 0, "chars"), false, true)));
            case "split":
            case "rsplit":
                return Method("str." + name, a =>
                {
                    var sep = OptStr(a, 0, "sep");
                    var max = (int)OptLong(a, 1, "maxsplit", -1);
                    if (sep is not null && sep.Length == 0)
                        throw a.Error("ValueError: empty separator");
                    var parts = name == "split" || sep is null ? PyStr.Split(s, sep, max) : PyStr.RSplit(s, sep, max);
                    return new ListValue(parts.ConvertAll<Value>(p => new StringValue(p)));
                });
            case "splitlines":
                return Method("str.splitlines", a =>
                {
                    var lines = s.Replace("\r\n", "\n").Split('\n', '\r').ToList();
                    if (lines.Count > 0 && lines[^1].Length == 0)
                        lines.RemoveAt(lines.Count - 1);
                    return new ListValue(lines.ConvertAll<Value>(p => new StringValue(p)));
                });
            case "startswith":
            case "endswith":
                return Method("str." + name, a =>
                {
                    var arg = a.Get(0, "prefix");
                    var candidates = arg is ListValue { IsTuple: true } t ? t.Items : [arg];
                    foreach (var c in candidates)
                    {
                        if (c is not StringValue cs)
                            throw a.Error($"TypeError: {name} first arg must be str or a tuple of str, not {c.TypeName}");
                        if (name == "startswith" ? s.StartsWith(cs.Value, StringComparison.Ordinal) : s.EndsWith(cs.Value, StringComparison.Ordinal))
                            return BoolValue.True;
                    }
                    return BoolValue.False;
                });
            case "replace":
                return Method("str.replace", a => new StringValue(PyStr.Replace(s, Str(a, 0, "old"), Str(a, 1, "new"), (int)OptLong(a, 2, "count", -1))));
            case "find":
            case "rfind":
            case "index":
            case "rindex":
                return Method("str." + name, a =>
                {
                    var sub = Str(a, 0, "sub");
                    var k = name is "find" or "index" ? s.IndexOf(sub, StringComparison.Ordinal) : s.LastIndexOf(sub, StringComparison.Ordinal);
                    if (k < 0 && name is "index" or "rindex")
                        throw a.Error("ValueError: substring not found");
                    return new IntValue(k < 0 ? -1 : PyStr.CodePointIndex(s, k));
                });
            case "count":
                return Method("str.count", a =>
                {
                    var sub = Str(a, 0, "sub");
                    if (sub.Length == 0)
                        return new IntValue(PyStr.Length(s) + 1);
                    var n = 0;
                    for (var k = s.IndexOf(sub, StringComparison.Ordinal); k >= 0; k = s.IndexOf(sub, k + sub.Length, StringComparison.Ordinal))
                        n++;
                    return new IntValue(n);
                });
            case "join":
                return Method("str.join", a =>
                {
                    var sb = new StringBuilder();
                    var items = PyOps.Iterate(a.Get(0, "iterable"), a.Position);
                    for (var i = 0; i < items.Count; i++)
                    {
                        if (items[i] is not StringValue item)
                            throw a.Error($"TypeError: sequence item {i}: expected str instance, {items[i].TypeName} found");
                        if (i > 0)
                            sb.Append(s);
                        sb.Append(item.Value);
                    }
                    return new StringValue(sb.ToString());
                });
            case "zfill":
                return Method("str.zfill", a =>
                {
                    var width = (int)OptLong(a, 0, "width", 0);
                    var pad = width - PyStr.Length(s);
                    if (pad <= 0)
                        return sv;
                    var sign = s.Length > 0 && s[0] is '+' or '-' ? 1 : 0;
                    return new StringValue(s[..sign] + new string('0', pad) + s[sign..]);
                });
            case "isdigit": return Predicate(name, s, char.IsDigit);
            case "isalpha": return Predicate(name, s, char.IsLetter);
            case "isalnum": return Predicate(name, s, char.IsLetterOrDigit);
            case "isspace": return Predicate(name, s, PyStr.IsSpace);
            case "isupper": return Method("str.isupper", a => Value.From(s.Any(char.IsUpper) && !s.Any(char.IsLower)));
            case "islower": return Method("str.islower", a => Value.From(s.Any(char.IsLower) && !s.Any(char.IsUpper)));
        }
        if (UnsupportedStr.Contains(name))
            throw at.Error($"Unsupported string method '{name}'");
        return null;
    }

    private static CallableValue Predicate(string name, string s, Func<char, bool> test) =>
        Method("str." + name, a => Value.From(s.Length > 0 && s.All(test)));

    public static Value? ForDict(DictValue d, string name, TemplatePosition at)
    {
        switch (name)
        {
            case "items":
                return Method("dict.items", a => new ListValue(d.Entries.Select(kv => (Value)new ListValue([kv.Key, kv.Value], isTuple: true)).ToList()));
            case "keys":
                return Method("dict.keys", a => new ListValue(d.Entries.Keys.ToList()));
            case "values":
                return Method("dict.values", a => new ListValue(d.Entries.Values.ToList()));
            case "get":
                return Method("dict.get", a => d.TryGet(a.Get(0, "key"), out var v) ? v : a.Get(1, "default", NoneValue.Instance));
            case "copy":
                return Method("dict.copy", a => new DictValue(new OrderedDictionary<Value, Value>(d.Entries, ValueComparer.Instance)));
        }
        return Mutating.Contains(name) ? Unsafe(d, name) : null;
    }

    public static Value? ForList(ListValue l, string name, TemplatePosition at)
    {
        switch (name)
        {
            case "index":
                return Method("list.index", a =>
                {
                    var x = a.Get(0, "value");
                    for (var i = 0; i < l.Count; i++)
                        if (PyOps.AreEqual(l.Items[i], x))
                            return new IntValue(i);
                    throw a.Error($"ValueError: {PyFormat.Repr(x)} is not in list");
                });
            case "count":
                return Method("list.count", a =>
                {
                    var x = a.Get(0, "value");
                    return new IntValue(l.Items.Count(i => PyOps.AreEqual(i, x)));
                });
        }
        return Mutating.Contains(name) ? Unsafe(l, name) : null;
    }

    // The immutable sandbox turns mutating methods into an undefined that raises when used (called).
    private static UndefinedValue Unsafe(Value owner, string name) =>
        new($"SecurityError: access to attribute '{name}' of '{owner.TypeName}' object is unsafe (transformers renders chat templates in an immutable sandbox)");

    public static string Str(CallArgs a, int index, string name) => a.Get(index, name) switch
    {
        StringValue s => s.Value,
        var v => throw a.Error($"TypeError: {a.Callee}() argument '{name}' must be str, not {v.TypeName}"),
    };

    public static string? OptStr(CallArgs a, int index, string name) => a.Find(index, name) switch
    {
        null or NoneValue => null,
        StringValue s => s.Value,
        var v => throw a.Error($"TypeError: {a.Callee}() argument '{name}' must be str or None, not {v.TypeName}"),
    };

    public static long OptLong(CallArgs a, int index, string name, long fallback) => a.Find(index, name) switch
    {
        null => fallback,
        IntValue or BoolValue => PyOps.AsLong(a.Find(index, name)!),
        var v => throw a.Error($"TypeError: {a.Callee}() argument '{name}' must be int, not {v.TypeName}"),
    };
}
