using System.Globalization;
using System.Text;

namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// Splits a Jinja template into tokens the way jinja2's lexer does with transformers' settings
/// (<c>trim_blocks</c>, <c>lstrip_blocks</c>, <c>keep_trailing_newline=False</c>): whitespace control
/// (<c>{%- -%} {{- -}} {#- -#}</c>, <c>+</c> to opt out), comments dropped, <c>{% raw %}</c> kept verbatim,
/// and expression tokens inside tags with balanced brackets so <c>}}</c> inside a dict literal does not end a tag.
/// </summary>
internal sealed class TemplateLexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "|", ";"];

    private readonly string _src;
    private readonly List<Token> _tokens = new();
    private readonly int[] _lineStarts;
    private int _pos;
    private bool _lineStarting = true;

    private TemplateLexer(string source)
    {
        // jinja2 normalizes newlines in data and strings to \n, and drops one trailing newline.
        var src = source.Contains('\r') ? source.Replace("\r\n", "\n").Replace('\r', '\n') : source;
        if (src.EndsWith('\n'))
            src = src[..^1];
        _src = src;
        var starts = new List<int> { 0 };
        for (var i = 0; i < src.Length; i++)
            if (src[i] == '\n')
                starts.Add(i + 1);
        _lineStarts = starts.ToArray();
    }

    public static List<Token> Tokenize(string source)
    {
        var lexer = new TemplateLexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private TemplatePosition PositionOf(int offset)
    {
        var line = Array.BinarySearch(_lineStarts, offset);
        if (line < 0)
            line = ~line - 1;
        return new TemplatePosition(line + 1, offset - _lineStarts[line] + 1);
    }

    private void Run()
    {
        while (_pos < _src.Length)
        {
            var start = FindTagStart(_pos);
            if (start < 0)
            {
                EmitText(_src[_pos..], _pos);
                _pos = _src.Length;
                break;
            }

            var kind = _src[start + 1];
            var sign = start + 2 < _src.Length && (_src[start + 2] == '-' || _src[start + 2] == '+') ? _src[start + 2] : '\0';
            var text = _src[_pos..start];
            if (sign == '-')
                text = RStrip(text);
            else if (sign != '+' && kind != '{')
                text = LStrip(text);
            EmitText(text, _pos);

            var inner = start + 2 + (sign == '\0' ? 0 : 1);
            switch (kind)
            {
                case '#':
                    LexComment(start, inner);
                    break;
                case '{':
                    _tokens.Add(new Token(TokenKind.VariableBegin, "{{", PositionOf(start)));
                    _pos = inner;
                    LexTag(isBlock: false, start);
                    break;
                default:
                    if (TryLexRaw(start, inner))
                        break;
                    _tokens.Add(new Token(TokenKind.BlockBegin, "{%", PositionOf(start)));
                    _pos = inner;
                    LexTag(isBlock: true, start);
                    break;
            }
        }
        _tokens.Add(new Token(TokenKind.Eof, "", PositionOf(_src.Length)));
    }

    private int FindTagStart(int from)
    {
        for (var i = _src.IndexOf('{', from); i >= 0 && i + 1 < _src.Length; i = _src.IndexOf('{', i + 1))
        {
            var c = _src[i + 1];
            if (c == '{' || c == '%' || c == '#')
                return i;
        }
        return -1;
    }

    // lstrip_blocks: whitespace between the start of a line and a block or comment tag is removed.
    private string LStrip(string text)
    {
        var lineStart = text.LastIndexOf('\n') + 1;
        if (lineStart == 0 && !_lineStarting)
            return text;
        if (lineStart == text.Length)
            return text;
        for (var i = lineStart; i < text.Length; i++)
            if (!PyStr.IsSpace(text[i]))
                return text;
        return text[..lineStart];
    }

    private void EmitText(string text, int offset)
    {
        if (text.Length > 0)
            _tokens.Add(new Token(TokenKind.Text, text, PositionOf(offset)));
    }

    // After a tag: '-' strips all following whitespace; otherwise trim_blocks drops one newline (blocks, comments).
    private void AfterTagEnd(int end, char sign, bool trimNewline)
    {
        _pos = end;
        if (sign == '-')
            _pos = SkipWhitespace(_pos);
        else if (sign != '+' && trimNewline && _pos < _src.Length && _src[_pos] == '\n')
            _pos++;
        _lineStarting = _pos > 0 && _src[_pos - 1] == '\n';
    }

    private void LexComment(int start, int inner)
    {
        var end = _src.IndexOf("#}", inner, StringComparison.Ordinal);
        if (end < 0)
            throw PositionOf(start).Error("Unclosed comment: '{#' has no matching '#}'");
        var sign = end > inner && (_src[end - 1] == '-' || _src[end - 1] == '+') ? _src[end - 1] : '\0';
        AfterTagEnd(end + 2, sign, trimNewline: true);
    }

    private bool TryLexRaw(int start, int inner)
    {
        var i = SkipWhitespace(inner);
        if (string.CompareOrdinal(_src, i, "raw", 0, 3) != 0 || (i + 3 < _src.Length && IsNameChar(_src[i + 3])))
            return false;
        i = SkipWhitespace(i + 3);
        var beginSign = i < _src.Length && _src[i] == '-' ? '-' : '\0';
        if (beginSign != '\0')
            i++;
        if (string.CompareOrdinal(_src, i, "%}", 0, 2) != 0)
            throw PositionOf(start).Error("Malformed raw tag: expected '%}' after 'raw'");
        var contentStart = i + 2;
        if (beginSign == '-')
            contentStart = SkipWhitespace(contentStart);
        for (var search = contentStart; ;)
        {
            var tag = _src.IndexOf("{%", search, StringComparison.Ordinal);
            if (tag < 0)
                throw PositionOf(start).Error("Unclosed raw block: '{% raw %}' has no matching '{% endraw %}'");
            var sign = tag + 2 < _src.Length && (_src[tag + 2] == '-' || _src[tag + 2] == '+') ? _src[tag + 2] : '\0';
            var j = SkipWhitespace(tag + 2 + (sign == '\0' ? 0 : 1));
            if (string.CompareOrdinal(_src, j, "endraw", 0, 6) != 0)
            {
                search = tag + 2;
                continue;
            }
            j = SkipWhitespace(j + 6);
            var endSign = j < _src.Length && (_src[j] == '-' || _src[j] == '+') ? _src[j] : '\0';
            if (endSign != '\0')
                j++;
            if (string.CompareOrdinal(_src, j, "%}", 0, 2) != 0)
                throw PositionOf(tag).Error("Malformed endraw tag: expected '%}' after 'endraw'");
            var content = _src[contentStart..tag];
            if (sign == '-')
                content = RStrip(content);
            else if (sign != '+')
            {
                _lineStarting = false;
                content = LStrip(content);
            }
            EmitText(content, contentStart);
            AfterTagEnd(j + 2, endSign, trimNewline: true);
            return true;
        }
    }

    // jinja2 matches whitespace with Python's \s (str.isspace) everywhere: around tag contents and raw/endraw, in
    // '-' stripping (str.rstrip / \s*) and in lstrip_blocks (\s+ between the line start and the tag).
    private int SkipWhitespace(int i)
    {
        while (i < _src.Length && PyStr.IsSpace(_src[i]))
            i++;
        return i;
    }

    private static string RStrip(string text) => PyStr.Strip(text, null, left: false, right: true);

    private static bool IsNameStart(char c) => c == '_' || char.IsLetter(c);

    private static bool IsNameChar(char c) => c == '_' || char.IsLetterOrDigit(c);

    private void LexTag(bool isBlock, int tagStart)
    {
        var depth = 0;
        while (true)
        {
            _pos = SkipWhitespace(_pos);
            if (_pos >= _src.Length)
                throw PositionOf(tagStart).Error(isBlock ? "Unclosed block tag: '{%' has no matching '%}'" : "Unclosed variable tag: '{{' has no matching '}}'");
            if (depth == 0 && TryTagEnd(isBlock))
                return;

            var c = _src[_pos];
            var at = PositionOf(_pos);
            if (IsNameStart(c))
            {
                var s = _pos;
                while (_pos < _src.Length && IsNameChar(_src[_pos]))
                    _pos++;
                _tokens.Add(new Token(TokenKind.Name, _src[s.._pos], at));
            }
            else if (char.IsAsciiDigit(c))
                LexNumber(at);
            else if (c == '\'' || c == '"')
                _tokens.Add(new Token(TokenKind.String, LexString(c, at), at));
            else
            {
                var op = Array.Find(Operators, o => string.CompareOrdinal(_src, _pos, o, 0, o.Length) == 0)
                    ?? throw at.Error($"Unexpected character '{c}' in {(isBlock ? "block" : "variable")} tag");
                if (op is "(" or "[" or "{")
                    depth++;
                else if (op is ")" or "]" or "}")
                {
                    if (depth == 0)
                        throw at.Error($"Unbalanced '{op}' in tag");
                    depth--;
                }
                _pos += op.Length;
                _tokens.Add(new Token(TokenKind.Operator, op, at));
            }
        }
    }

    private bool TryTagEnd(bool isBlock)
    {
        var close = isBlock ? "%}" : "}}";
        var sign = '\0';
        var i = _pos;
        if ((_src[i] == '-' || (isBlock && _src[i] == '+')) && string.CompareOrdinal(_src, i + 1, close, 0, 2) == 0)
        {
            sign = _src[i];
            i++;
        }
        if (string.CompareOrdinal(_src, i, close, 0, 2) != 0)
            return false;
        _tokens.Add(new Token(isBlock ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, PositionOf(i)));
        AfterTagEnd(i + 2, sign, trimNewline: isBlock);
        return true;
    }

    private void LexNumber(TemplatePosition at)
    {
        var s = _pos;
        ReadDigits();
        var isFloat = false;
        if (_pos + 1 < _src.Length && _src[_pos] == '.' && char.IsAsciiDigit(_src[_pos + 1]))
        {
            isFloat = true;
            _pos++;
            ReadDigits();
        }
        if (_pos < _src.Length && (_src[_pos] == 'e' || _src[_pos] == 'E'))
        {
            var e = _pos + 1;
            if (e < _src.Length && (_src[e] == '+' || _src[e] == '-'))
                e++;
            if (e < _src.Length && char.IsAsciiDigit(_src[e]))
            {
                isFloat = true;
                _pos = e;
                ReadDigits();
            }
        }
        _tokens.Add(new Token(isFloat ? TokenKind.Float : TokenKind.Integer, _src[s.._pos].Replace("_", ""), at));
    }

    private void ReadDigits()
    {
        while (_pos < _src.Length && (char.IsAsciiDigit(_src[_pos]) || (_src[_pos] == '_' && _pos + 1 < _src.Length && char.IsAsciiDigit(_src[_pos + 1]))))
            _pos++;
    }

    // Python string literal escapes (jinja2 decodes with 'unicode-escape'); unknown escapes keep the backslash.
    private string LexString(char quote, TemplatePosition at)
    {
        var sb = new StringBuilder();
        _pos++;
        while (true)
        {
            if (_pos >= _src.Length)
                throw at.Error("Unterminated string literal");
            var c = _src[_pos++];
            if (c == quote)
                return sb.ToString();
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_pos >= _src.Length)
                throw at.Error("Unterminated string literal");
            var e = _src[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case '\\': sb.Append('\\'); break;
                case '\'': sb.Append('\''); break;
                case '"': sb.Append('"'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\n': break;
                case 'x': sb.Append(HexEscape(2, at)); break;
                case 'u': sb.Append(HexEscape(4, at)); break;
                case 'U': sb.Append(HexEscape(8, at)); break;
                case >= '0' and <= '7':
                {
                    var v = e - '0';
                    for (var k = 0; k < 2 && _pos < _src.Length && _src[_pos] is >= '0' and <= '7'; k++)
                        v = v * 8 + (_src[_pos++] - '0');
                    sb.Append((char)v);
                    break;
                }
                default: sb.Append('\\').Append(e); break;
            }
        }
    }

    private string HexEscape(int digits, TemplatePosition at)
    {
        if (_pos + digits > _src.Length || !int.TryParse(_src.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var cp))
            throw at.Error($"Malformed \\{(digits == 2 ? 'x' : digits == 4 ? 'u' : 'U')} escape in string literal");
        _pos += digits;
        return char.ConvertFromUtf32(cp);
    }
}
