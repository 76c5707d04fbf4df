using System.Text;

namespace Compiler.Generator.Emit;

/// <summary>An indented text writer with '\n' line endings, so generated files are identical on every OS.</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public SourceWriter Line(string line = "")
    {
        if (line.Length > 0) _text.Append(' ', _indent * 4).Append(line);
        _text.Append('\n');
        return this;
    }

    /// <summary>A line written as is, without indentation (raw string literal contents).</summary>
    public SourceWriter RawLine(string line)
    {
        _text.Append(line).Append('\n');
        return this;
    }

    public SourceWriter Raw(string text)
    {
        foreach (var line in text.Replace("\r\n", "\n").Split('\n')) Line(line);
        return this;
    }

    public SourceWriter Open(string line) { Line(line).Line("{"); _indent++; return this; }

    public SourceWriter Close(string suffix = "") { _indent--; return Line("}" + suffix); }

    public override string ToString() => _text.ToString();
}
