namespace Compiler.Runtime.Text.Templates;

internal sealed partial class TemplateRenderer
{
    private Value Eval(Expr expr, Scope scope)
    {
        switch (expr)
        {
            case Expr.Literal l:
                return l.Value;
            case Expr.Name n:
                return scope.TryGet(n.Identifier, out var v) ? v : UndefinedValue.Variable(n.Identifier);
            case Expr.ListLiteral list:
                return new ListValue(EvalAll(list.Items, scope));
            case Expr.TupleLiteral tuple:
                return new ListValue(EvalAll(tuple.Items, scope), isTuple: true);
            case Expr.DictLiteral dict:
            {
                var d = new DictValue();
                foreach (var (k, val) in dict.Pairs)
                    d.Entries[Eval(k, scope)] = Eval(val, scope);
                return d;
            }
            case Expr.GetAttr a:
                return Attributes.GetAttr(Eval(a.Target, scope), a.Attribute, a.Position);
            case Expr.GetItem g:
                return Attributes.GetItem(Eval(g.Target, scope), Eval(g.Key, scope), g.Position);
            case Expr.Slice s:
                return Attributes.Slice(Eval(s.Target, scope), EvalOpt(s.Start, scope), EvalOpt(s.Stop, scope), EvalOpt(s.Step, scope), s.Position);
            case Expr.Unary u:
            {
                var operand = Eval(u.Operand, scope);
                return u.Operator switch
                {
                    "not" => Value.From(!operand.IsTruthy),
                    "-" => PyOps.Negate(operand, u.Position),
                    _ => PyOps.IsNumber(operand) ? operand : throw u.Position.Error($"TypeError: bad operand type for unary +: '{operand.TypeName}'"),
                };
            }
            case Expr.Binary b:
                return EvalBinary(b, scope);
            case Expr.Compare c:
                return EvalCompare(c, scope);
            case Expr.Conditional c:
                return Eval(c.Condition, scope).IsTruthy
                    ? Eval(c.Then, scope)
                    : c.Otherwise is null ? new UndefinedValue("the inline if-expression evaluated to false and no else section was defined") : Eval(c.Otherwise, scope);
            case Expr.Filter f:
            {
                var target = Eval(f.Target, scope);
                var positional = EvalArgs(f.Args, scope, out var keyword);
                return Filters.Apply(f.FilterName, target, new CallArgs(f.FilterName, positional, keyword, f.Position));
            }
            case Expr.Test t:
            {
                var target = Eval(t.Target, scope);
                var positional = EvalArgs(t.Args, scope, out var keyword);
                var result = Tests.Apply(t.TestName, target, new CallArgs(t.TestName, positional, keyword, t.Position));
                return Value.From(result != t.Negated);
            }
            case Expr.Call call:
            {
                var callee = Eval(call.Callee, scope);
                var positional = EvalArgs(call.Args, scope, out var keyword);
                return Invoke(callee, positional, keyword, call.Position);
            }
            default:
                throw expr.Position.Error($"Unsupported expression {expr.GetType().Name}");
        }
    }

    private Value[] EvalAll(IReadOnlyList<Expr> items, Scope scope)
    {
        var values = new Value[items.Count];
        for (var i = 0; i < items.Count; i++)
            values[i] = Eval(items[i], scope);
        return values;
    }

    private Value? EvalOpt(Expr? e, Scope scope) => e is null ? null : Eval(e, scope);

    private List<Value> EvalArgs(Expr.Arguments args, Scope scope, out List<(string Name, Value Value)> keyword)
    {
        var positional = new List<Value>(args.Positional.Count);
        foreach (var p in args.Positional)
            positional.Add(Eval(p, scope));
        keyword = new List<(string, Value)>(args.Keyword.Count);
        foreach (var (name, value) in args.Keyword)
            keyword.Add((name, Eval(value, scope)));
        return positional;
    }

    private static Value Invoke(Value callee, List<Value> positional, List<(string Name, Value Value)> keyword, TemplatePosition at)
    {
        return callee switch
        {
            CallableValue c => c.Invoke(new CallArgs(c.Name, positional, keyword, at)),
            UndefinedValue u => throw u.Fail(at),
            _ => throw at.Error($"TypeError: '{callee.TypeName}' object is not callable"),
        };
    }

    private Value EvalBinary(Expr.Binary b, Scope scope)
    {
        var left = Eval(b.Left, scope);
        switch (b.Operator)
        {
            case "and":
                return left.IsTruthy ? Eval(b.Right, scope) : left;
            case "or":
                return left.IsTruthy ? left : Eval(b.Right, scope);
            case "~":
                return new StringValue(PyFormat.Str(left) + PyFormat.Str(Eval(b.Right, scope)));
            default:
                return PyOps.Binary(b.Operator, left, Eval(b.Right, scope), b.Position);
        }
    }

    private Value EvalCompare(Expr.Compare c, Scope scope)
    {
        var left = Eval(c.First, scope);
        foreach (var (op, operand) in c.Rest)
        {
            var right = Eval(operand, scope);
            var ok = op switch
            {
                "==" => PyOps.AreEqual(left, right),
                "!=" => !PyOps.AreEqual(left, right),
                "in" => PyOps.Contains(right, left, operand.Position),
                "not in" => !PyOps.Contains(right, left, operand.Position),
                "<" => PyOps.Compare(left, right, op, c.Position) < 0,
                "<=" => PyOps.Compare(left, right, op, c.Position) <= 0,
                ">" => PyOps.Compare(left, right, op, c.Position) > 0,
                ">=" => PyOps.Compare(left, right, op, c.Position) >= 0,
                _ => throw c.Position.Error($"Unknown comparison '{op}'"),
            };
            if (!ok)
                return BoolValue.False;
            left = right;
        }
        return BoolValue.True;
    }
}
