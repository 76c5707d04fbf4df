using System.Collections.Generic;

namespace Compiler.Generator.Syntax;

/// <summary>Splits a model file into tokens. Newlines are tokens (they end statements); '#' starts a comment.</summary>
internal static class Lexer
{
    public static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        int i = 0, line = 0, lineStart = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == '#') { while (i < text.Length && text[i] != '\n') i++; continue; }
            if (c == '\n')
            {
                tokens.Add(new Token(TokenKind.NewLine, "\n", Span(i, 1)));
                i++; line++; lineStart = i;
                continue;
            }
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var start = i;
            if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Identifier, text.Substring(start, i - start), Span(start, i - start)));
                continue;
            }
            if (char.IsDigit(c))
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '.' ||
                       ((text[i] == '-' || text[i] == '+') && (text[i - 1] == 'e' || text[i - 1] == 'E')))) i++;
                tokens.Add(new Token(TokenKind.Number, text.Substring(start, i - start), Span(start, i - start)));
                continue;
            }
            if (c == '?' && i + 1 < text.Length && text[i + 1] == '?')
            {
                i += 2;
                tokens.Add(new Token(TokenKind.Coalesce, "??", Span(start, 2)));
                continue;
            }
            var kind = c switch
            {
                '{' => TokenKind.LeftBrace, '}' => TokenKind.RightBrace,
                '[' => TokenKind.LeftBracket, ']' => TokenKind.RightBracket,
                '(' => TokenKind.LeftParen, ')' => TokenKind.RightParen,
                ',' => TokenKind.Comma, '.' => TokenKind.Dot, '=' => TokenKind.Equals,
                '+' => TokenKind.Plus, '-' => TokenKind.Minus, '*' => TokenKind.Star, '/' => TokenKind.Slash,
                _ => TokenKind.Unknown,
            };
            i++;
            tokens.Add(new Token(kind, c.ToString(), Span(start, 1)));
        }
        tokens.Add(new Token(TokenKind.End, "", Span(text.Length, 0)));
        return tokens;

        SourceSpan Span(int start, int length) =>
            new(start, length, line, start - lineStart, line, start - lineStart + length);
    }
}
