namespace Compiler.Runtime.Text.Templates;

/// <summary>One lexer token; <see cref="Text"/> is the decoded value for strings, the spelling otherwise.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, TemplatePosition Position)
{
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;

    public bool IsName(string name) => Kind == TokenKind.Name && Text == name;

    public bool IsOperator(string op) => Kind == TokenKind.Operator && Text == op;

    public override string ToString() => Kind switch
    {
        TokenKind.Eof => "end of template",
        TokenKind.String => $"string '{Text}'",
        TokenKind.Text => "template text",
        _ => $"'{Text}'",
    };
}
