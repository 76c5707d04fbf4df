namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// The one error a chat template raises: a syntax error, a construct this interpreter does not support, or a
/// runtime error (a Python TypeError, an undefined variable used where jinja2 raises, <c>raise_exception</c>).
/// <see cref="Line"/> and <see cref="Column"/> (1-based) locate it in the template source; 0 when unknown.
/// </summary>
internal sealed class TemplateException : Exception
{
    public TemplateException(string message, int line = 0, int column = 0, Exception? inner = null)
        : base(line > 0 ? $"{message} (template line {line}, column {column})" : message, inner)
    {
        Reason = message;
        Line = line;
        Column = column;
    }

    /// <summary>The message without the position suffix.</summary>
    public string Reason { get; }

    public int Line { get; }

    public int Column { get; }

    /// <summary>True when the template itself called <c>raise_exception(...)</c>.</summary>
    public bool RaisedByTemplate { get; init; }
}
