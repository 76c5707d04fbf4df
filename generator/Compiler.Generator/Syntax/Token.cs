namespace Compiler.Generator.Syntax;

internal enum TokenKind
{
    Identifier, Number, NewLine, End,
    LeftBrace, RightBrace, LeftBracket, RightBracket, LeftParen, RightParen,
    Comma, Dot, Equals, Plus, Minus, Star, Slash, Coalesce, Unknown,
}

internal readonly record struct Token(TokenKind Kind, string Text, SourceSpan Span);
