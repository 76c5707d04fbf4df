using System.Globalization;
using System.Text;

namespace Compiler.Runtime.Text.Templates;

// Expressions, lowest precedence first: conditional, or, and, not, comparisons/in, + -, ~, * / // %, **,
// unary - +, then primaries with postfix . [] () and the filter/test chain | and is (jinja2's parser.py order).
internal sealed partial class TemplateParser
{
    private Expr ParseTuple(bool withCondExpr)
    {
        var first = Current.Position;
        var items = new List<Expr>();
        var sawComma = false;
        while (true)
        {
            if (items.Count > 0)
            {
                if (!Current.IsOperator(","))
                    break;
                _i++;
                sawComma = true;
            }
            if (IsTupleEnd())
                break;
            items.Add(ParseExpression(withCondExpr));
        }
        if (items.Count == 0)
            throw Fail($"Expected an expression, got {Current}");
        return items.Count == 1 && !sawComma ? items[0] : new Expr.TupleLiteral(items, first);
    }

    private bool IsTupleEnd() =>
        Current.Kind is TokenKind.BlockEnd or TokenKind.VariableEnd or TokenKind.Eof
        || Current.IsOperator(")") || Current.IsName("if") || Current.IsName("recursive");

    private Expr ParseExpression(bool withCondExpr) => withCondExpr ? ParseCondExpr() : ParseOr();

    private Expr ParseCondExpr()
    {
        var expr = ParseOr();
        while (Current.IsName("if"))
        {
            var at = Next().Position;
            var test = ParseOr();
            Expr? otherwise = null;
            if (Current.IsName("else"))
            {
                _i++;
                otherwise = ParseCondExpr();
            }
            expr = new Expr.Conditional(test, expr, otherwise, at);
        }
        return expr;
    }

    private Expr ParseOr()
    {
        var left = ParseAnd();
        while (Current.IsName("or"))
        {
            var at = Next().Position;
            left = new Expr.Binary("or", left, ParseAnd(), at);
        }
        return left;
    }

    private Expr ParseAnd()
    {
        var left = ParseNot();
        while (Current.IsName("and"))
        {
            var at = Next().Position;
            left = new Expr.Binary("and", left, ParseNot(), at);
        }
        return left;
    }

    private Expr ParseNot()
    {
        if (Current.IsName("not"))
        {
            var at = Next().Position;
            return new Expr.Unary("not", ParseNot(), at);
        }
        return ParseCompare();
    }

    private static readonly string[] CompareOps = ["==", "!=", "<", "<=", ">", ">="];

    private Expr ParseCompare()
    {
        var first = ParseMath1();
        List<(string, Expr)>? rest = null;
        while (true)
        {
            string op;
            if (Current.Kind == TokenKind.Operator && Array.IndexOf(CompareOps, Current.Text) >= 0)
                op = Next().Text;
            else if (Current.IsName("in"))
            {
                _i++;
                op = "in";
            }
            else if (Current.IsName("not") && Peek().IsName("in"))
            {
                _i += 2;
                op = "not in";
            }
            else
                break;
            (rest ??= new()).Add((op, ParseMath1()));
        }
        return rest is null ? first : new Expr.Compare(first, rest, first.Position);
    }

    private Expr ParseMath1()
    {
        var left = ParseConcat();
        while (Current.IsOperator("+") || Current.IsOperator("-"))
        {
            var op = Next();
            left = new Expr.Binary(op.Text, left, ParseConcat(), op.Position);
        }
        return left;
    }

    private Expr ParseConcat()
    {
        var left = ParseMath2();
        while (Current.IsOperator("~"))
        {
            var op = Next();
            left = new Expr.Binary("~", left, ParseMath2(), op.Position);
        }
        return left;
    }

    private Expr ParseMath2()
    {
        var left = ParsePow();
        while (Current.Kind == TokenKind.Operator && Current.Text is "*" or "/" or "//" or "%")
        {
            var op = Next();
            left = new Expr.Binary(op.Text, left, ParsePow(), op.Position);
        }
        return left;
    }

    private Expr ParsePow()
    {
        var left = ParseUnary(withFilter: true);
        while (Current.IsOperator("**"))
        {
            var op = Next();
            left = new Expr.Binary("**", left, ParseUnary(withFilter: true), op.Position);
        }
        return left;
    }

    private Expr ParseUnary(bool withFilter)
    {
        Expr node;
        if (Current.IsOperator("-") || Current.IsOperator("+"))
        {
            var op = Next();
            node = new Expr.Unary(op.Text, ParseUnary(withFilter: false), op.Position);
        }
        else
            node = ParsePostfix(ParsePrimary());
        return withFilter ? ParseFilterExpr(node) : node;
    }

    private Expr ParsePrimary()
    {
        var t = Next();
        switch (t.Kind)
        {
            case TokenKind.Name:
                return t.Text switch
                {
                    "true" or "True" => new Expr.Literal(BoolValue.True, t.Position),
                    "false" or "False" => new Expr.Literal(BoolValue.False, t.Position),
                    "none" or "None" => new Expr.Literal(NoneValue.Instance, t.Position),
                    _ => new Expr.Name(t.Text, t.Position),
                };
            case TokenKind.String:
            {
                if (Current.Kind != TokenKind.String)
                    return new Expr.Literal(new StringValue(t.Text), t.Position);
                var sb = new StringBuilder(t.Text);
                while (Current.Kind == TokenKind.String)
                    sb.Append(Next().Text);
                return new Expr.Literal(new StringValue(sb.ToString()), t.Position);
            }
            case TokenKind.Integer:
                if (!long.TryParse(t.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var l))
                    throw Fail($"Integer literal {t.Text} does not fit in 64 bits", t);
                return new Expr.Literal(new IntValue(l), t.Position);
            case TokenKind.Float:
                return new Expr.Literal(new FloatValue(double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture)), t.Position);
            case TokenKind.Operator when t.Text == "(":
            {
                if (Current.IsOperator(")"))
                {
                    _i++;
                    return new Expr.TupleLiteral([], t.Position);
                }
                var inner = ParseTuple(withCondExpr: true);
                Expect(TokenKind.Operator, ")");
                return inner;
            }
            case TokenKind.Operator when t.Text == "[":
                return new Expr.ListLiteral(ParseSequence("]"), t.Position);
            case TokenKind.Operator when t.Text == "{":
            {
                var pairs = new List<(Expr, Expr)>();
                while (!Current.IsOperator("}"))
                {
                    if (pairs.Count > 0)
                    {
                        Expect(TokenKind.Operator, ",");
                        if (Current.IsOperator("}"))
                            break;
                    }
                    var key = ParseExpression(withCondExpr: true);
                    Expect(TokenKind.Operator, ":");
                    pairs.Add((key, ParseExpression(withCondExpr: true)));
                }
                _i++;
                return new Expr.DictLiteral(pairs, t.Position);
            }
            default:
                throw Fail($"Unexpected {t} in expression", t);
        }
    }

    private List<Expr> ParseSequence(string close)
    {
        var items = new List<Expr>();
        while (!Current.IsOperator(close))
        {
            if (items.Count > 0)
            {
                Expect(TokenKind.Operator, ",");
                if (Current.IsOperator(close))
                    break;
            }
            items.Add(ParseExpression(withCondExpr: true));
        }
        _i++;
        return items;
    }

    private Expr ParsePostfix(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("."))
            {
                var dot = Next();
                var attr = Next();
                node = attr.Kind switch
                {
                    TokenKind.Name => new Expr.GetAttr(node, attr.Text, dot.Position),
                    TokenKind.Integer => new Expr.GetItem(node, new Expr.Literal(new IntValue(long.Parse(attr.Text, CultureInfo.InvariantCulture)), attr.Position), dot.Position),
                    _ => throw Fail($"Expected an attribute name after '.', got {attr}", attr),
                };
            }
            else if (Current.IsOperator("["))
                node = ParseSubscript(node, Next().Position);
            else if (Current.IsOperator("("))
                node = new Expr.Call(node, ParseCallArgs(), node.Position);
            else
                return node;
        }
    }

    private Expr ParseSubscript(Expr target, TemplatePosition at)
    {
        Expr? start = null, stop = null, step = null;
        if (!Current.IsOperator(":"))
        {
            start = ParseExpression(withCondExpr: true);
            if (Current.IsOperator("]"))
            {
                _i++;
                return new Expr.GetItem(target, start, at);
            }
        }
        Expect(TokenKind.Operator, ":", "':' or ']' in subscript");
        if (!Current.IsOperator("]") && !Current.IsOperator(":"))
            stop = ParseExpression(withCondExpr: true);
        if (Current.IsOperator(":"))
        {
            _i++;
            if (!Current.IsOperator("]"))
                step = ParseExpression(withCondExpr: true);
        }
        Expect(TokenKind.Operator, "]");
        return new Expr.Slice(target, start, stop, step, at);
    }

    private Expr.Arguments ParseCallArgs()
    {
        Expect(TokenKind.Operator, "(");
        var positional = new List<Expr>();
        var keyword = new List<(string, Expr)>();
        while (!Current.IsOperator(")"))
        {
            if (positional.Count + keyword.Count > 0)
            {
                Expect(TokenKind.Operator, ",");
                if (Current.IsOperator(")"))
                    break;
            }
            if (Current.IsOperator("*") || Current.IsOperator("**"))
                throw Fail("Unsupported: *args / **kwargs in calls");
            if (Current.Kind == TokenKind.Name && Peek().IsOperator("="))
            {
                var name = Next().Text;
                _i++;
                keyword.Add((name, ParseExpression(withCondExpr: true)));
            }
            else
            {
                if (keyword.Count > 0)
                    throw Fail("Positional argument follows keyword argument");
                positional.Add(ParseExpression(withCondExpr: true));
            }
        }
        _i++;
        return new Expr.Arguments(positional, keyword);
    }

    private Expr ParseFilterExpr(Expr node)
    {
        while (true)
        {
            if (Current.IsOperator("|"))
                node = ParseFilterChain(node);
            else if (Current.IsName("is"))
                node = ParseTest(node);
            else if (Current.IsOperator("("))
                node = new Expr.Call(node, ParseCallArgs(), node.Position);
            else
                return node;
        }
    }

    /// <summary>Parses <c>| f(args) | g ...</c> applied to <paramref name="node"/>.</summary>
    private Expr ParseFilterChain(Expr node, bool leadingPipe = true)
    {
        var first = true;
        while (Current.IsOperator("|") || (first && !leadingPipe))
        {
            if (!first || leadingPipe)
                _i++;
            first = false;
            var nameToken = Current;
            var name = ExpectName("a filter name");
            while (Current.IsOperator(".") && Peek().Kind == TokenKind.Name)
            {
                _i++;
                name += "." + Next().Text;
            }
            var args = Current.IsOperator("(") ? ParseCallArgs() : Expr.Arguments.Empty;
            node = new Expr.Filter(node, name, args, nameToken.Position);
        }
        return node;
    }

    private Expr ParseTest(Expr node)
    {
        var at = Next().Position;
        var negated = false;
        if (Current.IsName("not"))
        {
            _i++;
            negated = true;
        }
        var name = Current.Kind == TokenKind.Operator && Array.IndexOf(CompareOps, Current.Text) >= 0
            ? Next().Text
            : ExpectName("a test name after 'is'");
        while (Current.IsOperator(".") && Peek().Kind == TokenKind.Name)
        {
            _i++;
            name += "." + Next().Text;
        }
        var args = Expr.Arguments.Empty;
        if (Current.IsOperator("("))
            args = ParseCallArgs();
        else if ((Current.Kind is TokenKind.Name or TokenKind.String or TokenKind.Integer or TokenKind.Float
                  || Current.IsOperator("(") || Current.IsOperator("[") || Current.IsOperator("{"))
                 && !Current.IsName("else") && !Current.IsName("or") && !Current.IsName("and"))
        {
            if (Current.IsName("is"))
                throw Fail("You cannot chain multiple tests with 'is'");
            args = new Expr.Arguments([ParsePostfix(ParsePrimary())], []);
        }
        return new Expr.Test(node, name, args, negated, at);
    }
}
