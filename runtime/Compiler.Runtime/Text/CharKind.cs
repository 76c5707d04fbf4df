namespace Compiler.Runtime.Text;

/// <summary>
/// The character classes the byte-level BPE split regexes test: <c>\p{L}</c>, <c>\p{N}</c>, <c>\s</c> (Unicode
/// White_Space, as Oniguruma's <c>\s</c>), with <c>\r</c>/<c>\n</c> apart, and everything else.
/// </summary>
internal enum CharKind : byte
{
    Other = 0,
    Letter = 1,
    Number = 2,
    Space = 3,
    /// <summary>'\r' or '\n' (also whitespace).</summary>
    Newline = 4,
}
