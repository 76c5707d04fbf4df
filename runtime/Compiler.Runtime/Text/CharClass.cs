using System.Globalization;
using System.Runtime.CompilerServices;

namespace Compiler.Runtime.Text;

/// <summary>Classifies code points into <see cref="CharKind"/>; a table for the BMP, a category lookup beyond.</summary>
internal static class CharClass
{
    private static readonly CharKind[] Bmp = BuildBmp();

    /// <summary>The kind of the code point at <paramref name="i"/> and its length in UTF-16 units. A lone
    /// surrogate is <see cref="CharKind.Other"/> (it becomes U+FFFD in UTF-8, also Other).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static CharKind At(ReadOnlySpan<char> s, int i, out int width)
    {
        char c = s[i];
        if (!char.IsHighSurrogate(c) || i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
        {
            width = 1;
            return Bmp[c];
        }
        width = 2;
        return OfCategory(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, s[i + 1])));
    }

    public static bool IsWhiteSpace(int cp) => cp switch
    {
        >= 0x09 and <= 0x0D => true,
        0x20 or 0x85 or 0xA0 or 0x1680 or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        >= 0x2000 and <= 0x200A => true,
        _ => false,
    };

    private static CharKind OfCategory(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharKind.Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharKind.Number,
        _ => CharKind.Other,
    };

    private static CharKind[] BuildBmp()
    {
        var table = new CharKind[0x10000];
        for (int c = 0; c < table.Length; c++)
        {
            table[c] = c is '\r' or '\n' ? CharKind.Newline
                : IsWhiteSpace(c) ? CharKind.Space
                : char.IsSurrogate((char)c) ? CharKind.Other
                : OfCategory(CharUnicodeInfo.GetUnicodeCategory((char)c));
        }
        return table;
    }
}
