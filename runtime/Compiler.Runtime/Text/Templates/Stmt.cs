namespace Compiler.Runtime.Text.Templates;

/// <summary>Statement nodes of the template AST (a closed hierarchy, nested to keep it in one place).</summary>
internal abstract record Stmt(TemplatePosition Position)
{
    internal sealed record Text(string Value, TemplatePosition Position) : Stmt(Position);

    /// <summary><c>{{ expr }}</c>: prints Python <c>str(value)</c>, undefined prints nothing.</summary>
    internal sealed record Output(Expr Value, TemplatePosition Position) : Stmt(Position);

    internal sealed record If(IReadOnlyList<(Expr Test, IReadOnlyList<Stmt> Body)> Branches, IReadOnlyList<Stmt>? Else, TemplatePosition Position) : Stmt(Position);

    /// <summary><c>for target in iterable [if filter]</c> ... <c>[else]</c> ... <c>endfor</c>.</summary>
    internal sealed record For(Expr Target, Expr Iterable, Expr? Filter, IReadOnlyList<Stmt> Body, IReadOnlyList<Stmt>? Else, TemplatePosition Position) : Stmt(Position);

    /// <summary><c>set target = value</c>; target is a name, a tuple of names, or <c>namespace.attr</c>.</summary>
    internal sealed record Set(Expr Target, Expr Value, TemplatePosition Position) : Stmt(Position);

    /// <summary><c>set name [| filters] %}body{% endset</c>.</summary>
    internal sealed record SetBlock(string Name, Expr? Filter, IReadOnlyList<Stmt> Body, TemplatePosition Position) : Stmt(Position);

    internal sealed record Macro(string Name, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Stmt> Body, TemplatePosition Position) : Stmt(Position);

    /// <summary><c>call [(params)] macro(args)</c> ... <c>endcall</c>: the body becomes the macro's <c>caller()</c>.</summary>
    internal sealed record CallBlock(Expr.Call Call, IReadOnlyList<(string Name, Expr? Default)> Parameters, IReadOnlyList<Stmt> Body, TemplatePosition Position) : Stmt(Position);

    /// <summary><c>filter f | g</c> ... <c>endfilter</c>; <see cref="Filter"/> applies to a placeholder name.</summary>
    internal sealed record FilterBlock(Expr Filter, IReadOnlyList<Stmt> Body, TemplatePosition Position) : Stmt(Position);

    internal sealed record With(IReadOnlyList<(Expr Target, Expr Value)> Assignments, IReadOnlyList<Stmt> Body, TemplatePosition Position) : Stmt(Position);

    /// <summary>transformers' <c>{% generation %}</c> marks assistant text for masks; rendering just emits the body.</summary>
    internal sealed record Generation(IReadOnlyList<Stmt> Body, TemplatePosition Position) : Stmt(Position);

    internal sealed record Break(TemplatePosition Position) : Stmt(Position);

    internal sealed record Continue(TemplatePosition Position) : Stmt(Position);
}
