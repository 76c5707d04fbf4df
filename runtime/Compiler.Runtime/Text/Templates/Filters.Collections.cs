namespace Compiler.Runtime.Text.Templates;

// The filters that walk sequences: select/reject(attr), map, sort, dictsort, unique, min/max, sum.
internal static partial class Filters
{
    private static Value Select(Value v, CallArgs a, bool byAttribute, bool keep)
    {
        var items = PyOps.Iterate(v, a.Position);
        var offset = byAttribute ? 1 : 0;
        var attribute = byAttribute ? a.Get(0, "attribute") : null;
        string? test = a.Positional.Count > offset ? Methods.Str(a, offset, "test") : null;
        var testArgs = new CallArgs(test ?? "truth", a.Positional.Skip(offset + 1).ToList(), CallArgs.NoKeywords, a.Position);
        var kept = new List<Value>();
        foreach (var item in items)
        {
            var subject = attribute is null ? item : AttributePath(item, attribute, a.Position);
            var ok = test is null ? subject.IsTruthy : Tests.Apply(test, subject, testArgs);
            if (ok == keep)
                kept.Add(item);
        }
        return new ListValue(kept);
    }

    private static Value Map(Value v, CallArgs a)
    {
        var items = PyOps.Iterate(v, a.Position);
        var result = new List<Value>(items.Count);
        if (a.Positional.Count == 0)
        {
            var attribute = a.Find(-1, "attribute") ?? throw a.Error("map() needs a filter name or attribute=...");
            var dflt = a.Find(-1, "default");
            foreach (var item in items)
            {
                var got = AttributePath(item, attribute, a.Position);
                result.Add(got.IsUndefined && dflt is not null ? dflt : got);
            }
            return new ListValue(result);
        }
        var filter = Methods.Str(a, 0, "filter");
        var filterArgs = new CallArgs(filter, a.Positional.Skip(1).ToList(), a.Keyword, a.Position);
        foreach (var item in items)
            result.Add(Apply(filter, item, filterArgs));
        return new ListValue(result);
    }

    private static Func<Value, Value> SortKey(CallArgs a, Value? attribute, bool caseSensitive) => item =>
    {
        var key = attribute is null ? item : AttributePath(item, attribute, a.Position);
        return !caseSensitive && key is StringValue s ? new StringValue(s.Value.ToLowerInvariant()) : key;
    };

    private static List<Value> Sorted(IEnumerable<Value> items, Func<Value, Value> key, bool reverse, CallArgs a)
    {
        var list = items.Select(i => (Key: key(i), Item: i)).ToList();
        // Python's sort is stable; List.Sort is not, so break ties on the original position.
        var indexed = list.Select((e, i) => (e.Key, e.Item, Index: i)).ToList();
        indexed.Sort((x, y) =>
        {
            var c = PyOps.Compare(x.Key, y.Key, "<", a.Position);
            if (reverse)
                c = -c;
            return c != 0 ? c : x.Index.CompareTo(y.Index);
        });
        return indexed.ConvertAll(e => e.Item);
    }

    private static Value Sort(Value v, CallArgs a)
    {
        var reverse = a.Get(0, "reverse", BoolValue.False).IsTruthy;
        var caseSensitive = a.Get(1, "case_sensitive", BoolValue.False).IsTruthy;
        var attribute = a.Find(2, "attribute");
        return new ListValue(Sorted(PyOps.Iterate(v, a.Position), SortKey(a, attribute, caseSensitive), reverse, a));
    }

    private static Value DictSort(Value v, CallArgs a)
    {
        if (v is not DictValue d)
            throw a.Error($"dictsort needs a mapping, not {v.TypeName}");
        var caseSensitive = a.Get(0, "case_sensitive", BoolValue.False).IsTruthy;
        var by = a.Find(1, "by") is StringValue s ? s.Value : "key";
        var reverse = a.Get(2, "reverse", BoolValue.False).IsTruthy;
        var pairs = d.Entries.Select(kv => (Value)new ListValue([kv.Key, kv.Value], isTuple: true));
        var position = by == "value" ? 1 : by == "key" ? 0 : throw a.Error("You can only sort by either 'key' or 'value'");
        Value Key(Value pair)
        {
            var k = ((ListValue)pair).Items[position];
            return !caseSensitive && k is StringValue ks ? new StringValue(ks.Value.ToLowerInvariant()) : k;
        }
        return new ListValue(Sorted(pairs, Key, reverse, a));
    }

    private static Value Unique(Value v, CallArgs a)
    {
        var caseSensitive = a.Get(0, "case_sensitive", BoolValue.False).IsTruthy;
        var key = SortKey(a, a.Find(1, "attribute"), caseSensitive);
        var seen = new HashSet<Value>(ValueComparer.Instance);
        var result = new List<Value>();
        foreach (var item in PyOps.Iterate(v, a.Position))
            if (seen.Add(key(item)))
                result.Add(item);
        return new ListValue(result);
    }

    private static Value MinMax(Value v, CallArgs a, bool max)
    {
        var caseSensitive = a.Get(0, "case_sensitive", BoolValue.False).IsTruthy;
        var key = SortKey(a, a.Find(1, "attribute"), caseSensitive);
        Value? best = null, bestKey = null;
        foreach (var item in PyOps.Iterate(v, a.Position))
        {
            var k = key(item);
            if (best is null || (max ? PyOps.Compare(k, bestKey!, ">", a.Position) > 0 : PyOps.Compare(k, bestKey!, "<", a.Position) < 0))
                (best, bestKey) = (item, k);
        }
        return best ?? new UndefinedValue($"No aggregated item, sequence was empty.");
    }

    private static Value Sum(Value v, CallArgs a)
    {
        var attribute = a.Find(0, "attribute");
        Value total = a.Get(1, "start", new IntValue(0));
        foreach (var item in PyOps.Iterate(v, a.Position))
            total = PyOps.Binary("+", total, attribute is null ? item : AttributePath(item, attribute, a.Position), a.Position);
        return total;
    }
}
