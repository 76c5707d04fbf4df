namespace Compiler.Runtime.Text;

/// <summary>
/// The <c>Split(regex, behavior: Isolated)</c> pre-tokenizer of the Qwen2/Qwen3 and Llama 3 tokenizers, as a
/// hand-written scanner that reproduces Oniguruma's leftmost, ordered-alternation matching of
/// <code>
/// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,K}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
/// </code>
/// with K = 1 (Qwen) or 3 (Llama 3). Every position starts a match of some alternative, so the matches tile the
/// text and <see cref="NextEnd"/> only has to find where the match starting at a given index ends.
/// </summary>
internal sealed class SplitPreTokenizer
{
    /// <summary>The Qwen2/Qwen3 pattern: digits one by one.</summary>
    public const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The Llama 3 pattern: digits in groups of up to three.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private readonly int _maxDigits;

    private SplitPreTokenizer(int maxDigits) => _maxDigits = maxDigits;

    public static SplitPreTokenizer Qwen { get; } = new(1);

    public static SplitPreTokenizer Llama3 { get; } = new(3);

    /// <summary>The scanner for a Split regex, or null when the regex is not one this scanner implements.</summary>
    public static SplitPreTokenizer? ForPattern(string regex) => regex switch
    {
        QwenPattern => Qwen,
        Llama3Pattern => Llama3,
        _ => null,
    };

    /// <summary>End (exclusive) of the pre-token that starts at <paramref name="i"/> (&lt; s.Length).</summary>
    public int NextEnd(ReadOnlySpan<char> s, int i)
    {
        int n = s.Length;
        char c0 = s[i];

        // (?i:'s|'t|'re|'ve|'m|'ll|'d) -- Oniguruma folds U+017F (long s) to 's' too.
        if (c0 == '\'' && i + 1 < n)
        {
            char c1 = s[i + 1];
            switch (c1)
            {
                case 's' or 'S' or '\u017F' or 't' or 'T' or 'm' or 'M' or 'd' or 'D':
                    return i + 2;
                case 'r' or 'R' or 'v' or 'V' when i + 2 < n && (s[i + 2] | 0x20) == 'e':
                    return i + 3;
                case 'l' or 'L' when i + 2 < n && (s[i + 2] | 0x20) == 'l':
                    return i + 3;
            }
        }

        CharKind k0 = CharClass.At(s, i, out int w0);

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (k0 == CharKind.Letter) return SkipLetters(s, i + w0);
        if (k0 is CharKind.Other or CharKind.Space && i + w0 < n && CharClass.At(s, i + w0, out _) == CharKind.Letter)
            return SkipLetters(s, i + w0);

        // \p{N}{1,K}
        if (k0 == CharKind.Number)
        {
            int j = i + w0;
            for (int count = 1; count < _maxDigits && j < n; count++)
            {
                if (CharClass.At(s, j, out int w) != CharKind.Number) break;
                j += w;
            }
            return j;
        }

        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int p = i;
        if (c0 == ' ' && i + 1 < n && CharClass.At(s, i + 1, out _) == CharKind.Other) p = i + 1;
        if (p > i || k0 == CharKind.Other)
        {
            int j = p;
            while (j < n)
            {
                if (CharClass.At(s, j, out int w) != CharKind.Other) break;
                j += w;
            }
            while (j < n && s[j] is '\r' or '\n') j++;
            return j;
        }

        // c0 is whitespace here. Whitespace is all in the BMP, so one char = one UTF-16 unit.
        int end = i;
        int lastNewline = -1;
        while (end < n && CharClass.At(s, end, out _) is CharKind.Space or CharKind.Newline)
        {
            if (s[end] is '\r' or '\n') lastNewline = end;
            end++;
        }
        // \s*[\r\n]+ : backtracking gives the run up to and including its last newline.
        if (lastNewline >= 0) return lastNewline + 1;
        // \s+(?!\S) : the whole run at the end of text, else all but the last char (when that leaves one).
        if (end == n) return end;
        if (end - i >= 2) return end - 1;
        // \s+
        return end;
    }

    private static int SkipLetters(ReadOnlySpan<char> s, int j)
    {
        while (j < s.Length)
        {
            if (CharClass.At(s, j, out int w) != CharKind.Letter) break;
            j += w;
        }
        return j;
    }
}
