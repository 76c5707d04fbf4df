namespace Compiler.Runtime.Text.Templates;

/// <summary>jinja2's tests (<c>x is defined</c>, <c>x is string</c>, <c>x is divisibleby 3</c>, ...), with Python's
/// type rules: bool is a number, a string is iterable, undefined is iterable (it iterates as empty).</summary>
internal static class Tests
{
    public static bool Apply(string name, Value v, CallArgs a)
    {
        switch (name)
        {
            case "defined": return !v.IsUndefined;
            case "undefined": return v.IsUndefined;
            case "none": return v is NoneValue;
            case "boolean": return v is BoolValue;
            case "true": return v is BoolValue { Value: true };
            case "false": return v is BoolValue { Value: false };
            case "integer": return v is IntValue;
            case "float": return v is FloatValue;
            case "number": return PyOps.IsNumber(v);
            case "string": return v is StringValue;
            case "mapping": return v is DictValue;
            case "iterable": return v is StringValue or ListValue or DictValue or UndefinedValue;
            case "sequence": return v is StringValue or ListValue or DictValue or UndefinedValue;
            case "callable": return v is CallableValue;
            case "lower": return v is StringValue ls && ls.Value.Any(char.IsLower) && !ls.Value.Any(char.IsUpper);
            case "upper": return v is StringValue us && us.Value.Any(char.IsUpper) && !us.Value.Any(char.IsLower);
            case "escaped": return false;
            case "odd": return Integer(v, a) % 2 != 0;
            case "even": return Integer(v, a) % 2 == 0;
            case "divisibleby":
            {
                var d = Integer(a.Get(0, "num"), a);
                if (d == 0)
                    throw a.Error("ZeroDivisionError: integer division or modulo by zero");
                return Integer(v, a) % d == 0;
            }
            case "sameas":
            {
                var other = a.Get(0, "other");
                return ReferenceEquals(v, other) || (v is NoneValue && other is NoneValue)
                    || (v is BoolValue bv && other is BoolValue bo && bv.Value == bo.Value);
            }
            case "eq" or "equalto" or "==": return PyOps.AreEqual(v, a.Get(0, "other"));
            case "ne" or "!=": return !PyOps.AreEqual(v, a.Get(0, "other"));
            case "lt" or "lessthan" or "<": return PyOps.Compare(v, a.Get(0, "other"), "<", a.Position) < 0;
            case "le" or "<=": return PyOps.Compare(v, a.Get(0, "other"), "<=", a.Position) <= 0;
            case "gt" or "greaterthan" or ">": return PyOps.Compare(v, a.Get(0, "other"), ">", a.Position) > 0;
            case "ge" or ">=": return PyOps.Compare(v, a.Get(0, "other"), ">=", a.Position) >= 0;
            case "in": return PyOps.Contains(a.Get(0, "seq"), v, a.Position);
        }
        throw a.Error($"No test named '{name}'");
    }

    private static long Integer(Value v, CallArgs a) => v switch
    {
        IntValue or BoolValue => PyOps.AsLong(v),
        FloatValue f when f.Value == Math.Floor(f.Value) => (long)f.Value,
        UndefinedValue u => throw u.Fail(a.Position),
        _ => throw a.Error($"TypeError: test '{a.Callee}' needs an integer, not {v.TypeName}"),
    };
}
