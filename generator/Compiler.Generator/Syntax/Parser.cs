using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Diagnostics;

namespace Compiler.Generator.Syntax;

/// <summary>
/// Recursive-descent parser for model files:
/// <code>
/// model NAME
/// config { SYMBOL = EXPR ... }
/// embedding { STATEMENT ... }
/// layer PREFIX.{i} repeat SYMBOL { STATEMENT ... }
/// head { STATEMENT ... }
/// </code>
/// A statement is <c>name = expr</c> on one line. Errors are collected; the parser resynchronises at the next line.
/// </summary>
internal sealed class Parser
{
    private readonly List<Token> _tokens;
    private readonly List<ModelDiagnostic> _diagnostics;
    private int _pos;

    private Parser(string text, List<ModelDiagnostic> diagnostics)
    {
        _tokens = Lexer.Tokenize(text);
        _diagnostics = diagnostics;
    }

    public static ModelSyntax? Parse(string text, List<ModelDiagnostic> diagnostics) => new Parser(text, diagnostics).ParseModel();

    private Token Current => _tokens[_pos];

    private Token Next() => _tokens[_pos++ < _tokens.Count - 1 ? _pos - 1 : _tokens.Count - 1];

    private void SkipNewLines() { while (Current.Kind == TokenKind.NewLine) _pos++; }

    private bool IsKeyword(string word) => Current.Kind == TokenKind.Identifier && Current.Text == word;

    private sealed class ParseError : System.Exception { }

    private ParseError Error(Token at, string message)
    {
        var what = at.Kind switch { TokenKind.End => "end of file", TokenKind.NewLine => "end of line", _ => $"'{at.Text}'" };
        _diagnostics.Add(new ModelDiagnostic(DiagnosticIds.Syntax, $"{message}, found {what}", at.Span));
        return new ParseError();
    }

    private Token Expect(TokenKind kind, string what)
    {
        if (Current.Kind != kind) throw Error(Current, $"Expected {what}");
        return Next();
    }

    private void ExpectEndOfLine()
    {
        if (Current.Kind is TokenKind.NewLine) { SkipNewLines(); return; }
        if (Current.Kind is TokenKind.End or TokenKind.RightBrace) return;
        throw Error(Current, "Expected the end of the statement");
    }

    private void SkipLine()
    {
        while (Current.Kind is not (TokenKind.NewLine or TokenKind.End)) _pos++;
        SkipNewLines();
    }

    private ModelSyntax? ParseModel()
    {
        SkipNewLines();
        string name;
        SourceSpan nameSpan;
        try
        {
            if (!IsKeyword("model")) throw Error(Current, "A model file starts with 'model ArchitectureName' (the Hugging Face 'architectures' entry)");
            Next();
            var nameToken = Expect(TokenKind.Identifier, "the architecture name after 'model'");
            (name, nameSpan) = (nameToken.Text, nameToken.Span);
            ExpectEndOfLine();
        }
        catch (ParseError) { return null; }

        var config = new List<ConfigEntrySyntax>();
        var blocks = new List<BlockSyntax>();
        while (Current.Kind != TokenKind.End)
        {
            try
            {
                var keyword = Current;
                if (IsKeyword("config")) { Next(); ParseBraced(() => config.Add(ParseConfigEntry())); }
                else if (IsKeyword("embedding")) blocks.Add(ParseBlock(BlockKind.Embedding));
                else if (IsKeyword("layer")) blocks.Add(ParseBlock(BlockKind.Layer));
                else if (IsKeyword("head")) blocks.Add(ParseBlock(BlockKind.Head));
                else throw Error(keyword, "Expected a section: 'config', 'embedding', 'layer' or 'head'");
                SkipNewLines();
            }
            catch (ParseError) { SkipToNextSection(); }
        }
        return new ModelSyntax(name, nameSpan, config, blocks);
    }

    private void SkipToNextSection()
    {
        var depth = 0;
        while (Current.Kind != TokenKind.End)
        {
            if (Current.Kind == TokenKind.LeftBrace) depth++;
            if (Current.Kind == TokenKind.RightBrace && --depth <= 0) { Next(); SkipNewLines(); return; }
            Next();
        }
    }

    /// <summary>Parses <c>{ item* }</c>, one item per line, recovering from errors line by line.</summary>
    private void ParseBraced(System.Action item)
    {
        Expect(TokenKind.LeftBrace, "'{'");
        SkipNewLines();
        while (Current.Kind != TokenKind.RightBrace)
        {
            if (Current.Kind == TokenKind.End) throw Error(Current, "Expected '}' to close the section");
            try { item(); ExpectEndOfLine(); }
            catch (ParseError) { SkipLine(); }
        }
        Next();
    }

    private ConfigEntrySyntax ParseConfigEntry()
    {
        var symbol = Expect(TokenKind.Identifier, "a constant name (e.g. 'hidden = hidden_size')");
        Expect(TokenKind.Equals, "'=' after the constant name");
        return new ConfigEntrySyntax(symbol.Text, symbol.Span, ParseExpression());
    }

    private BlockSyntax ParseBlock(BlockKind kind)
    {
        var keyword = Next();
        var prefix = "";
        string? repeat = null;
        var repeatSpan = keyword.Span;
        if (kind == BlockKind.Layer)
        {
            prefix = ParseLayerPrefix();
            if (!IsKeyword("repeat")) throw Error(Current, "Expected 'repeat COUNT' after the layer prefix (e.g. 'layer model.layers.{i} repeat layers')");
            Next();
            var count = Expect(TokenKind.Identifier, "the config constant that counts the layers");
            (repeat, repeatSpan) = (count.Text, count.Span);
        }
        var statements = new List<StatementSyntax>();
        ParseBraced(() => statements.Add(ParseStatement()));
        return new BlockSyntax(kind, keyword.Span, prefix, repeat, repeatSpan, statements);
    }

    /// <summary>A dotted tensor-name prefix containing exactly one <c>{i}</c> segment, e.g. <c>model.layers.{i}</c>.</summary>
    private string ParseLayerPrefix()
    {
        var parts = new List<string>();
        while (true)
        {
            if (Current.Kind == TokenKind.LeftBrace)
            {
                Next();
                var index = Expect(TokenKind.Identifier, "'i' inside '{}' of the layer prefix");
                if (index.Text != "i") throw Error(index, "The layer index in a prefix is written '{i}'");
                Expect(TokenKind.RightBrace, "'}' after '{i'");
                parts.Add("{i}");
            }
            else parts.Add(Expect(TokenKind.Identifier, "the layer's tensor-name prefix (e.g. 'model.layers.{i}')").Text);
            if (Current.Kind != TokenKind.Dot) break;
            Next();
        }
        if (parts.Count(p => p == "{i}") != 1) throw Error(Current, "The layer prefix needs exactly one '{i}' segment (e.g. 'model.layers.{i}')");
        return string.Join(".", parts);
    }

    private StatementSyntax ParseStatement()
    {
        var target = Expect(TokenKind.Identifier, "a statement 'name = expression'");
        Expect(TokenKind.Equals, $"'=' after '{target.Text}'");
        return new StatementSyntax(target.Text, target.Span, ParseExpression());
    }

    // expression := sum ('??' sum)*
    private ExprSyntax ParseExpression()
    {
        var left = ParseSum();
        while (Current.Kind == TokenKind.Coalesce)
        {
            Next();
            var right = ParseSum();
            left = new BinarySyntax("??", left, right, SourceSpan.Cover(left.Span, right.Span));
        }
        return left;
    }

    private ExprSyntax ParseSum()
    {
        var left = ParseProduct();
        while (Current.Kind is TokenKind.Plus or TokenKind.Minus)
        {
            var op = Next().Text;
            var right = ParseProduct();
            left = new BinarySyntax(op, left, right, SourceSpan.Cover(left.Span, right.Span));
        }
        return left;
    }

    private ExprSyntax ParseProduct()
    {
        var left = ParsePrimary();
        while (Current.Kind is TokenKind.Star or TokenKind.Slash)
        {
            var op = Next().Text;
            var right = ParsePrimary();
            left = new BinarySyntax(op, left, right, SourceSpan.Cover(left.Span, right.Span));
        }
        return left;
    }

    private ExprSyntax ParsePrimary()
    {
        var token = Current;
        switch (token.Kind)
        {
            case TokenKind.Number:
                Next();
                return new NumberSyntax(token.Text, token.Span);
            case TokenKind.LeftParen:
                Next();
                var inner = ParseExpression();
                Expect(TokenKind.RightParen, "')'");
                return inner;
            case TokenKind.Identifier:
                Next();
                if (Current.Kind == TokenKind.LeftParen) return ParseCall(token);
                if (Current.Kind == TokenKind.Dot) return ParseWeight(token);
                return new NameSyntax(token.Text, token.Span);
            default:
                throw Error(token, "Expected a value: a name, a number, a call such as 'linear(h, ...)' or a tensor such as 'mlp.up_proj.weight[inter, hidden]'");
        }
    }

    private ExprSyntax ParseCall(Token function)
    {
        Next(); // (
        var args = new List<ExprSyntax>();
        if (Current.Kind != TokenKind.RightParen)
        {
            args.Add(ParseExpression());
            while (Current.Kind == TokenKind.Comma) { Next(); args.Add(ParseExpression()); }
        }
        var close = Expect(TokenKind.RightParen, $"',' or ')' in the arguments of '{function.Text}'");
        return new CallSyntax(function.Text, function.Span, args, SourceSpan.Cover(function.Span, close.Span));
    }

    private ExprSyntax ParseWeight(Token first)
    {
        var name = ParseDottedRest(first.Text);
        Expect(TokenKind.LeftBracket, $"the shape of tensor '{name}' in brackets, e.g. '{name}[hidden]'");
        var shape = new List<ExprSyntax> { ParseSum() };
        while (Current.Kind == TokenKind.Comma) { Next(); shape.Add(ParseSum()); }
        var close = Expect(TokenKind.RightBracket, "',' or ']' in the tensor shape");
        string? tiedTo = null, tiedIf = null;
        var end = close.Span;
        if (IsKeyword("tied"))
        {
            Next();
            var other = Expect(TokenKind.Identifier, "the tensor this one is tied to");
            tiedTo = ParseDottedRest(other.Text);
            if (!IsKeyword("if")) throw Error(Current, "Expected 'if FLAG' naming the config flag that ties the tensors");
            Next();
            var flag = Expect(TokenKind.Identifier, "the config flag after 'if'");
            (tiedIf, end) = (flag.Text, flag.Span);
        }
        return new WeightSyntax(name, shape, tiedTo, tiedIf, SourceSpan.Cover(first.Span, end));
    }

    private string ParseDottedRest(string first)
    {
        var parts = new List<string> { first };
        while (Current.Kind == TokenKind.Dot)
        {
            Next();
            if (Current.Kind is TokenKind.Identifier or TokenKind.Number) parts.Add(Next().Text);
            else throw Error(Current, "Expected a name segment after '.'");
        }
        return string.Join(".", parts);
    }
}
