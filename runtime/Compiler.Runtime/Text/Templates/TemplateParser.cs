namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// Recursive-descent parser from tokens to the statement/expression AST, following jinja2's grammar and operator
/// precedence. Tags jinja2 knows but this interpreter does not (<c>include</c>, <c>extends</c>, <c>do</c>, ...)
/// fail with a <see cref="TemplateException"/> naming the tag and its position.
/// </summary>
internal sealed partial class TemplateParser
{
    private static readonly HashSet<string> Unsupported =
        ["extends", "block", "include", "import", "from", "do", "autoescape", "trans", "pluralize", "print", "debug"];

    private readonly List<Token> _tokens;
    private int _i;

    private TemplateParser(List<Token> tokens) => _tokens = tokens;

    public static IReadOnlyList<Stmt> Parse(string source)
    {
        var parser = new TemplateParser(TemplateLexer.Tokenize(source));
        var body = parser.ParseBody([]);
        return body;
    }

    private Token Current => _tokens[_i];

    private Token Peek(int ahead = 1) => _tokens[Math.Min(_i + ahead, _tokens.Count - 1)];

    private Token Next() => _tokens[_i++];

    private TemplateException Fail(string message, Token? at = null) => (at ?? Current).Position.Error(message);

    private Token Expect(TokenKind kind, string? text = null, string? what = null)
    {
        var t = Current;
        if (t.Kind != kind || (text is not null && t.Text != text))
            throw Fail($"Expected {what ?? (text is not null ? $"'{text}'" : kind.ToString())}, got {t}");
        _i++;
        return t;
    }

    private string ExpectName(string what) => Expect(TokenKind.Name, what: what).Text;

    private void ExpectBlockEnd(string tag)
    {
        if (Current.Kind != TokenKind.BlockEnd)
            throw Fail($"Expected end of '{tag}' tag ('%}}'), got {Current}");
        _i++;
    }

    /// <summary>Parses statements until a block tag named in <paramref name="endTags"/>; leaves <c>{%</c> name at the cursor.</summary>
    private List<Stmt> ParseBody(string[] endTags)
    {
        var body = new List<Stmt>();
        while (true)
        {
            var t = Current;
            switch (t.Kind)
            {
                case TokenKind.Eof:
                    if (endTags.Length > 0)
                        throw Fail($"Unexpected end of template; expected {string.Join(" or ", endTags.Select(e => $"'{{% {e} %}}'"))}");
                    return body;
                case TokenKind.Text:
                    _i++;
                    body.Add(new Stmt.Text(t.Text, t.Position));
                    break;
                case TokenKind.VariableBegin:
                {
                    _i++;
                    var expr = ParseTuple(withCondExpr: true);
                    if (Current.Kind != TokenKind.VariableEnd)
                        throw Fail($"Expected end of print statement ('}}}}'), got {Current}");
                    _i++;
                    body.Add(new Stmt.Output(expr, t.Position));
                    break;
                }
                case TokenKind.BlockBegin:
                {
                    var name = Peek();
                    if (name.Kind != TokenKind.Name)
                        throw Fail($"Expected a tag name after '{{%', got {name}", name);
                    if (Array.IndexOf(endTags, name.Text) >= 0)
                        return body;
                    _i += 2;
                    body.Add(ParseStatement(name));
                    break;
                }
                default:
                    throw Fail($"Unexpected {t}");
            }
        }
    }

    private Stmt ParseStatement(Token tag)
    {
        switch (tag.Text)
        {
            case "if": return ParseIf(tag);
            case "for": return ParseFor(tag);
            case "set": return ParseSet(tag);
            case "macro": return ParseMacro(tag);
            case "call": return ParseCallBlock(tag);
            case "filter": return ParseFilterBlock(tag);
            case "with": return ParseWith(tag);
            case "generation":
            {
                ExpectBlockEnd("generation");
                var body = ParseBody(["endgeneration"]);
                EndTag("endgeneration");
                return new Stmt.Generation(body, tag.Position);
            }
            case "break":
                ExpectBlockEnd("break");
                return new Stmt.Break(tag.Position);
            case "continue":
                ExpectBlockEnd("continue");
                return new Stmt.Continue(tag.Position);
        }
        if (Unsupported.Contains(tag.Text))
            throw Fail($"Unsupported tag '{{% {tag.Text} %}}': chat templates are rendered standalone, without {tag.Text}", tag);
        if (tag.Text.StartsWith("end", StringComparison.Ordinal) || tag.Text is "elif" or "else")
            throw Fail($"Unexpected '{{% {tag.Text} %}}' with no matching opening tag", tag);
        throw Fail($"Unknown tag '{{% {tag.Text} %}}'", tag);
    }

    private void EndTag(string name)
    {
        Expect(TokenKind.BlockBegin);
        Expect(TokenKind.Name, name);
        ExpectBlockEnd(name);
    }

    private Stmt ParseIf(Token tag)
    {
        var branches = new List<(Expr, IReadOnlyList<Stmt>)>();
        List<Stmt>? otherwise = null;
        var test = ParseTuple(withCondExpr: true);
        ExpectBlockEnd("if");
        while (true)
        {
            var body = ParseBody(["elif", "else", "endif"]);
            branches.Add((test, body));
            Expect(TokenKind.BlockBegin);
            var kw = Next();
            if (kw.Text == "elif")
            {
                test = ParseTuple(withCondExpr: true);
                ExpectBlockEnd("elif");
                continue;
            }
            if (kw.Text == "else")
            {
                ExpectBlockEnd("else");
                otherwise = ParseBody(["endif"]);
                EndTag("endif");
            }
            else
                ExpectBlockEnd("endif");
            return new Stmt.If(branches, otherwise, tag.Position);
        }
    }

    private Stmt ParseFor(Token tag)
    {
        var target = ParseAssignTarget(allowTuple: true, allowAttribute: false);
        Expect(TokenKind.Name, "in", "'in' in for loop");
        var iterable = ParseTuple(withCondExpr: false);
        Expr? filter = null;
        if (Current.IsName("if"))
        {
            _i++;
            filter = ParseExpression(withCondExpr: true);
        }
        if (Current.IsName("recursive"))
            throw Fail("Unsupported: recursive for loops");
        ExpectBlockEnd("for");
        var body = ParseBody(["endfor", "else"]);
        List<Stmt>? otherwise = null;
        Expect(TokenKind.BlockBegin);
        if (Next().Text == "else")
        {
            ExpectBlockEnd("else");
            otherwise = ParseBody(["endfor"]);
            EndTag("endfor");
        }
        else
            ExpectBlockEnd("endfor");
        return new Stmt.For(target, iterable, filter, body, otherwise, tag.Position);
    }

    private Stmt ParseSet(Token tag)
    {
        var target = ParseAssignTarget(allowTuple: true, allowAttribute: true);
        if (Current.IsOperator("="))
        {
            _i++;
            var value = ParseTuple(withCondExpr: true);
            ExpectBlockEnd("set");
            return new Stmt.Set(target, value, tag.Position);
        }
        if (target is not Expr.Name name)
            throw Fail("A block set ('{% set x %}...{% endset %}') needs a single variable name", tag);
        Expr? filter = null;
        if (Current.IsOperator("|"))
            filter = ParseFilterChain(new Expr.Name(FilterPlaceholder, Current.Position));
        ExpectBlockEnd("set");
        var body = ParseBody(["endset"]);
        EndTag("endset");
        return new Stmt.SetBlock(name.Identifier, filter, body, tag.Position);
    }

    /// <summary>The name a filter block or block set's filter chain is applied to.</summary>
    internal const string FilterPlaceholder = "\0filtered";

    private Expr ParseAssignTarget(bool allowTuple, bool allowAttribute)
    {
        var items = new List<Expr>();
        do
        {
            var t = Current;
            if (t.Kind == TokenKind.Operator && t.Text == "(" && allowTuple)
            {
                _i++;
                var inner = ParseAssignTarget(allowTuple: true, allowAttribute: false);
                Expect(TokenKind.Operator, ")");
                items.Add(inner);
                continue;
            }
            var name = ExpectName("a variable name");
            Expr target = new Expr.Name(name, t.Position);
            if (allowAttribute && Current.IsOperator("."))
            {
                _i++;
                target = new Expr.GetAttr(target, ExpectName("an attribute name"), t.Position);
            }
            items.Add(target);
        }
        while (allowTuple && Current.IsOperator(",") && Skip());
        return items.Count == 1 ? items[0] : new Expr.TupleLiteral(items, items[0].Position);
    }

    private bool Skip()
    {
        _i++;
        return true;
    }

    private List<(string, Expr?)> ParseParameters()
    {
        var parameters = new List<(string, Expr?)>();
        Expect(TokenKind.Operator, "(");
        while (!Current.IsOperator(")"))
        {
            if (parameters.Count > 0)
                Expect(TokenKind.Operator, ",");
            if (Current.IsOperator(")"))
                break;
            var name = ExpectName("a parameter name");
            Expr? dflt = null;
            if (Current.IsOperator("="))
            {
                _i++;
                dflt = ParseExpression(withCondExpr: true);
            }
            else if (parameters.Count > 0 && parameters[^1].Item2 is not null)
                throw Fail($"Parameter '{name}' without a default follows one with a default");
            parameters.Add((name, dflt));
        }
        _i++;
        return parameters;
    }

    private Stmt ParseMacro(Token tag)
    {
        var name = ExpectName("a macro name");
        var parameters = ParseParameters();
        ExpectBlockEnd("macro");
        var body = ParseBody(["endmacro"]);
        EndTag("endmacro");
        return new Stmt.Macro(name, parameters, body, tag.Position);
    }

    private Stmt ParseCallBlock(Token tag)
    {
        var parameters = Current.IsOperator("(") ? ParseParameters() : [];
        var call = ParseExpression(withCondExpr: true) as Expr.Call ?? throw Fail("'{% call %}' needs a macro call, e.g. {% call m(x) %}", tag);
        ExpectBlockEnd("call");
        var body = ParseBody(["endcall"]);
        EndTag("endcall");
        return new Stmt.CallBlock(call, parameters, body, tag.Position);
    }

    private Stmt ParseFilterBlock(Token tag)
    {
        var filter = ParseFilterChain(new Expr.Name(FilterPlaceholder, tag.Position), leadingPipe: false);
        ExpectBlockEnd("filter");
        var body = ParseBody(["endfilter"]);
        EndTag("endfilter");
        return new Stmt.FilterBlock(filter, body, tag.Position);
    }

    private Stmt ParseWith(Token tag)
    {
        var assignments = new List<(Expr, Expr)>();
        while (Current.Kind != TokenKind.BlockEnd)
        {
            if (assignments.Count > 0)
                Expect(TokenKind.Operator, ",");
            var target = ParseAssignTarget(allowTuple: false, allowAttribute: false);
            Expect(TokenKind.Operator, "=");
            assignments.Add((target, ParseExpression(withCondExpr: true)));
        }
        ExpectBlockEnd("with");
        var body = ParseBody(["endwith"]);
        EndTag("endwith");
        return new Stmt.With(assignments, body, tag.Position);
    }
}
