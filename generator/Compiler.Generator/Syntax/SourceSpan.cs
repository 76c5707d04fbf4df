namespace Compiler.Generator.Syntax;

/// <summary>Where something is in a model file: character offsets plus zero-based line/column, for diagnostics.</summary>
internal readonly record struct SourceSpan(int Start, int Length, int Line, int Column, int EndLine, int EndColumn)
{
    public static SourceSpan Cover(SourceSpan first, SourceSpan last) =>
        new(first.Start, last.Start + last.Length - first.Start, first.Line, first.Column, last.EndLine, last.EndColumn);
}
