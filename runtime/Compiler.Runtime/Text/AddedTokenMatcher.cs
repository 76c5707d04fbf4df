using System.Globalization;

namespace Compiler.Runtime.Text;

/// <summary>
/// Finds added tokens in a text as HF's <c>AddedVocabulary::find_matches</c> does: non-overlapping
/// leftmost-longest matches of the token contents, then <c>single_word</c>, <c>lstrip</c> and <c>rstrip</c>
/// applied to each match. Candidates are bucketed by first char, longest first.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;
    private readonly ulong[] _firstChars = new ulong[1024]; // bitset over the BMP: fast reject

    /// <param name="tokens">Tokens with the pattern each is matched by (the content, normalized when the
    /// token is matched on normalized text).</param>
    public AddedTokenMatcher(IEnumerable<(string Pattern, AddedToken Token)> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Pattern.Length > 0)
            .GroupBy(t => t.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Pattern.Length).ToArray());
        foreach (char c in _byFirstChar.Keys) _firstChars[c >> 6] |= 1UL << (c & 63);
        IsEmpty = _byFirstChar.Count == 0;
    }

    public bool IsEmpty { get; }

    /// <summary>Appends the pieces of <paramref name="text"/> (tokens and the plain text between them, covering
    /// the whole text; nothing for an empty text) to <paramref name="output"/>.</summary>
    public void Split(ReadOnlySpan<char> text, List<AddedTokenMatch> output)
    {
        int startOffset = 0;
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if ((_firstChars[c >> 6] & (1UL << (c & 63))) == 0 || !TryMatchAt(text, i, out var pattern, out var token))
            {
                i++;
                continue;
            }
            int start = i, stop = i + pattern.Length;
            i = stop; // the automaton resumes after the raw match, whatever lstrip/rstrip do below

            if (token.SingleWord)
            {
                bool startSpace = start == 0 || !IsWordChar(text, start - 1, backwards: true);
                bool stopSpace = stop == text.Length || !IsWordChar(text, stop, backwards: false);
                if (!startSpace || !stopSpace) continue;
            }
            if (token.LStrip)
            {
                int newStart = start;
                while (newStart > 0 && CharClass.IsWhiteSpace(text[newStart - 1])) newStart--;
                start = Math.Max(newStart, startOffset);
            }
            if (token.RStrip)
                while (stop < text.Length && CharClass.IsWhiteSpace(text[stop])) stop++;

            if (startOffset < start) output.Add(new AddedTokenMatch(startOffset, start, null));
            output.Add(new AddedTokenMatch(start, stop, token));
            startOffset = stop;
        }
        if (startOffset < text.Length) output.Add(new AddedTokenMatch(startOffset, text.Length, null));
    }

    private bool TryMatchAt(ReadOnlySpan<char> text, int i, out string pattern, out AddedToken token)
    {
        if (_byFirstChar.TryGetValue(text[i], out var candidates))
        {
            var rest = text[i..];
            foreach (var candidate in candidates)
            {
                if (rest.StartsWith(candidate.Pattern, StringComparison.Ordinal))
                {
                    (pattern, token) = candidate;
                    return true;
                }
            }
        }
        pattern = "";
        token = null!;
        return false;
    }

    /// <summary>Rust regex's Unicode <c>\w</c> at the char before (<paramref name="backwards"/>) or at
    /// <paramref name="i"/>: letters, marks, decimal and letter numbers, connector punctuation, ZWNJ/ZWJ.</summary>
    private static bool IsWordChar(ReadOnlySpan<char> text, int i, bool backwards)
    {
        int cp = text[i];
        if (backwards && char.IsLowSurrogate(text[i]) && i > 0 && char.IsHighSurrogate(text[i - 1]))
            cp = char.ConvertToUtf32(text[i - 1], text[i]);
        else if (!backwards && char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            cp = char.ConvertToUtf32(text[i], text[i + 1]);
        if (cp is 0x200C or 0x200D) return true;
        if (cp <= 0xFFFF && char.IsSurrogate((char)cp)) return false;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
                or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
                or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber
                or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }
}
