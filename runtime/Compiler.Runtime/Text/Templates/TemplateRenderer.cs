using System.Text;

namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// Tree-walking interpreter: executes statements into a <see cref="StringBuilder"/> and evaluates expressions with
/// jinja2's semantics (Python values, default Undefined, loop scoping). One instance renders one template call.
/// </summary>
internal sealed partial class TemplateRenderer
{
    private enum Flow
    {
        Normal,
        Break,
        Continue,
    }

    private StringBuilder _out = new();

    public static string Render(IReadOnlyList<Stmt> body, Scope scope)
    {
        var renderer = new TemplateRenderer();
        renderer.Exec(body, scope);
        return renderer._out.ToString();
    }

    private string Capture(IReadOnlyList<Stmt> body, Scope scope)
    {
        var saved = _out;
        _out = new StringBuilder();
        try
        {
            Exec(body, scope);
            return _out.ToString();
        }
        finally
        {
            _out = saved;
        }
    }

    private Flow Exec(IReadOnlyList<Stmt> body, Scope scope)
    {
        foreach (var stmt in body)
        {
            var flow = Exec(stmt, scope);
            if (flow != Flow.Normal)
                return flow;
        }
        return Flow.Normal;
    }

    private Flow Exec(Stmt stmt, Scope scope)
    {
        switch (stmt)
        {
            case Stmt.Text t:
                _out.Append(t.Value);
                return Flow.Normal;
            case Stmt.Output o:
                _out.Append(PyFormat.Str(Eval(o.Value, scope)));
                return Flow.Normal;
            case Stmt.If i:
                foreach (var (test, branch) in i.Branches)
                    if (Eval(test, scope).IsTruthy)
                        return Exec(branch, scope);
                return i.Else is null ? Flow.Normal : Exec(i.Else, scope);
            case Stmt.For f:
                ExecFor(f, scope);
                return Flow.Normal;
            case Stmt.Set s:
                Assign(s.Target, Eval(s.Value, scope), scope, s.Position);
                return Flow.Normal;
            case Stmt.SetBlock sb:
            {
                Value captured = new StringValue(Capture(sb.Body, scope));
                if (sb.Filter is not null)
                    captured = ApplyPlaceholder(sb.Filter, captured, scope);
                scope.Set(sb.Name, captured);
                return Flow.Normal;
            }
            case Stmt.Macro m:
                scope.Set(m.Name, MakeMacro(m.Name, m.Parameters, m.Body, scope));
                return Flow.Normal;
            case Stmt.CallBlock c:
            {
                var caller = MakeMacro("caller", c.Parameters, c.Body, scope);
                var callee = Eval(c.Call.Callee, scope);
                var args = EvalArgs(c.Call.Args, scope, out var keyword);
                keyword.Add(("caller", caller));
                _out.Append(PyFormat.Str(Invoke(callee, args, keyword, c.Call.Position)));
                return Flow.Normal;
            }
            case Stmt.FilterBlock fb:
                _out.Append(PyFormat.Str(ApplyPlaceholder(fb.Filter, new StringValue(Capture(fb.Body, scope)), scope)));
                return Flow.Normal;
            case Stmt.With w:
            {
                var inner = new Scope(scope);
                foreach (var (target, value) in w.Assignments)
                    Assign(target, Eval(value, scope), inner, w.Position);
                return Exec(w.Body, inner);
            }
            case Stmt.Generation g:
                return Exec(g.Body, scope);
            case Stmt.Break:
                return Flow.Break;
            case Stmt.Continue:
                return Flow.Continue;
            default:
                throw stmt.Position.Error($"Unsupported statement {stmt.GetType().Name}");
        }
    }

    private Value ApplyPlaceholder(Expr filter, Value input, Scope scope)
    {
        var inner = new Scope(scope);
        inner.Set(TemplateParser.FilterPlaceholder, input);
        return Eval(filter, inner);
    }

    private void ExecFor(Stmt.For f, Scope scope)
    {
        var source = PyOps.Iterate(Eval(f.Iterable, scope), f.Iterable.Position);
        IReadOnlyList<Value> items = source;
        if (f.Filter is not null)
        {
            var kept = new List<Value>();
            var probe = new Scope(scope);
            foreach (var item in source)
            {
                Assign(f.Target, item, probe, f.Position);
                if (Eval(f.Filter, probe).IsTruthy)
                    kept.Add(item);
            }
            items = kept;
        }
        if (items.Count == 0)
        {
            if (f.Else is not null)
                Exec(f.Else, scope);
            return;
        }
        var loop = new LoopValue(items);
        for (var i = 0; i < items.Count; i++)
        {
            loop.Index0 = i;
            var iteration = new Scope(scope);
            iteration.Set("loop", loop);
            Assign(f.Target, items[i], iteration, f.Position);
            if (Exec(f.Body, iteration) == Flow.Break)
                break;
        }
    }

    private void Assign(Expr target, Value value, Scope scope, TemplatePosition at)
    {
        switch (target)
        {
            case Expr.Name n:
                scope.Set(n.Identifier, value);
                break;
            case Expr.GetAttr { Target: Expr.Name owner } a:
            {
                var obj = Eval(owner, scope);
                if (obj is not NamespaceValue ns)
                    throw a.Position.Error($"Cannot assign attribute '{a.Attribute}' on non-namespace object '{owner.Identifier}' ({obj.TypeName}); use namespace()");
                ns.Attributes[a.Attribute] = value;
                break;
            }
            case Expr.TupleLiteral t:
            {
                var items = PyOps.Iterate(value, at);
                if (items.Count != t.Items.Count)
                    throw at.Error(items.Count > t.Items.Count
                        ? $"ValueError: too many values to unpack (expected {t.Items.Count})"
                        : $"ValueError: not enough values to unpack (expected {t.Items.Count}, got {items.Count})");
                for (var i = 0; i < items.Count; i++)
                    Assign(t.Items[i], items[i], scope, at);
                break;
            }
            default:
                throw target.Position.Error("Cannot assign to this expression");
        }
    }

    private CallableValue MakeMacro(string name, IReadOnlyList<(string Name, Expr? Default)> parameters, IReadOnlyList<Stmt> body, Scope defining)
    {
        return new CallableValue(name, args =>
        {
            var scope = new Scope(defining);
            var extraKeywords = new DictValue();
            for (var i = 0; i < parameters.Count; i++)
            {
                var (pname, dflt) = parameters[i];
                var v = args.Find(i, pname);
                scope.Set(pname, v ?? (dflt is null ? UndefinedValue.Variable(pname) : Eval(dflt, scope)));
            }
            var varargs = new List<Value>();
            for (var i = parameters.Count; i < args.Positional.Count; i++)
                varargs.Add(args.Positional[i]);
            foreach (var (k, v) in args.Keyword)
            {
                if (k == "caller")
                    scope.Set("caller", v);
                else if (!parameters.Any(p => p.Name == k))
                    extraKeywords.Set(k, v);
            }
            scope.Set("varargs", new ListValue(varargs, isTuple: true));
            scope.Set("kwargs", extraKeywords);
            return new StringValue(Capture(body, scope));
        });
    }
}
