namespace Compiler.Runtime.Text.Templates;

/// <summary>Expression nodes of the template AST (a closed hierarchy, nested to keep it in one place).</summary>
internal abstract record Expr(TemplatePosition Position)
{
    internal sealed record Literal(Value Value, TemplatePosition Position) : Expr(Position);

    internal sealed record Name(string Identifier, TemplatePosition Position) : Expr(Position);

    internal sealed record ListLiteral(IReadOnlyList<Expr> Items, TemplatePosition Position) : Expr(Position);

    internal sealed record TupleLiteral(IReadOnlyList<Expr> Items, TemplatePosition Position) : Expr(Position);

    internal sealed record DictLiteral(IReadOnlyList<(Expr Key, Expr Value)> Pairs, TemplatePosition Position) : Expr(Position);

    /// <summary><c>obj.name</c>: Python attribute first (methods), then item (jinja2's <c>getattr</c>).</summary>
    internal sealed record GetAttr(Expr Target, string Attribute, TemplatePosition Position) : Expr(Position);

    /// <summary><c>obj[key]</c>: item first, then attribute (jinja2's <c>getitem</c>).</summary>
    internal sealed record GetItem(Expr Target, Expr Key, TemplatePosition Position) : Expr(Position);

    internal sealed record Slice(Expr Target, Expr? Start, Expr? Stop, Expr? Step, TemplatePosition Position) : Expr(Position);

    /// <summary><c>-x</c>, <c>+x</c>, <c>not x</c>.</summary>
    internal sealed record Unary(string Operator, Expr Operand, TemplatePosition Position) : Expr(Position);

    /// <summary>Arithmetic, <c>~</c>, and the short-circuit <c>and</c> / <c>or</c>.</summary>
    internal sealed record Binary(string Operator, Expr Left, Expr Right, TemplatePosition Position) : Expr(Position);

    /// <summary>A comparison chain <c>a &lt; b &lt;= c</c>, <c>x in y</c>, <c>x not in y</c>.</summary>
    internal sealed record Compare(Expr First, IReadOnlyList<(string Operator, Expr Operand)> Rest, TemplatePosition Position) : Expr(Position);

    /// <summary><c>then if test else otherwise</c>; a missing else yields undefined.</summary>
    internal sealed record Conditional(Expr Condition, Expr Then, Expr? Otherwise, TemplatePosition Position) : Expr(Position);

    internal sealed record Filter(Expr Target, string FilterName, Arguments Args, TemplatePosition Position) : Expr(Position);

    internal sealed record Test(Expr Target, string TestName, Arguments Args, bool Negated, TemplatePosition Position) : Expr(Position);

    internal sealed record Call(Expr Callee, Arguments Args, TemplatePosition Position) : Expr(Position);

    /// <summary>Call arguments as written: positional, then <c>name=value</c>.</summary>
    internal sealed record Arguments(IReadOnlyList<Expr> Positional, IReadOnlyList<(string Name, Expr Value)> Keyword)
    {
        public static readonly Arguments Empty = new([], []);
    }
}
