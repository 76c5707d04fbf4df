namespace Compiler.Runtime.Text.Templates;

/// <summary>A 1-based line and column in a template's source.</summary>
internal readonly record struct TemplatePosition(int Line, int Column)
{
    public TemplateException Error(string message) => new(message, Line, Column);
}
