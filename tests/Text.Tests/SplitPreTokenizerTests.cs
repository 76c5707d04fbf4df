using System.Text.Json;
using System.Text.RegularExpressions;
using Compiler.Runtime.Text;

namespace Text.Tests;

/// <summary>
/// The hand-written split scanner against the very regexes from tokenizer.json run by .NET's backtracking
/// engine (same ordered alternation as Oniguruma; the patterns use no possessive quantifiers). .NET matches
/// UTF-16 units, not code points, so the differential inputs stay in the BMP; astral text and the one place
/// Oniguruma's case folding differs ('ſ) are pinned by the explicit cases below and the HF reference corpus.
/// </summary>
public sealed class SplitPreTokenizerTests
{
    private static List<string> Scan(SplitPreTokenizer split, string text)
    {
        var pieces = new List<string>();
        for (int i = 0; i < text.Length;)
        {
            int end = split.NextEnd(text, i);
            Assert.True(end > i, $"no progress at {i} in {JsonSerializer.Serialize(text)}");
            pieces.Add(text[i..end]);
            i = end;
        }
        return pieces;
    }

    private static List<string> RegexPieces(Regex regex, string text) => regex.Matches(text).Select(m => m.Value).ToList();

    public static TheoryData<string> Patterns => new(SplitPreTokenizer.QwenPattern, SplitPreTokenizer.Llama3Pattern);

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Scanner_EqualsRegex_OnRandomBmpText(string pattern)
    {
        var split = SplitPreTokenizer.ForPattern(pattern)!;
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        // Letters, numbers (Nd, No, Nl), every kind of whitespace, punctuation, marks, format chars, and the
        // letters of the contractions in both cases.
        const string alphabet = "aZé中ßdDsStTrReEvVmMlL1٣²Ⅻ \t\n\r\u00a0\u3000\u2028\u000b\u0085\u2003'!.-\"\u0301\u200d#_";
        var random = new Random(1234);
        for (int n = 0; n < 20_000; n++)
        {
            var chars = new char[random.Next(0, 24)];
            for (int i = 0; i < chars.Length; i++) chars[i] = alphabet[random.Next(alphabet.Length)];
            string text = new(chars);
            Assert.Equal(RegexPieces(regex, text), Scan(split, text));
        }
    }

    [Theory]
    [MemberData(nameof(Patterns))]
    public void Scanner_EqualsRegex_OnTheBmpCorpusLines(string pattern)
    {
        var split = SplitPreTokenizer.ForPattern(pattern)!;
        var regex = new Regex(pattern, RegexOptions.CultureInvariant);
        int compared = 0;
        foreach (string line in File.ReadLines(RepoPaths.Corpus))
        {
            string text = JsonSerializer.Deserialize<string>(line)!;
            if (text.Any(char.IsSurrogate) || text.Contains('\u017F')) continue;
            Assert.Equal(RegexPieces(regex, text), Scan(split, text));
            compared++;
        }
        Assert.True(compared > 150, $"only {compared} corpus lines compared");
    }

    [Fact]
    public void AstralCodePoints_AreClassifiedWhole()
    {
        // U+1F600 is a symbol: as the optional lead char of a letter run it joins the run (Oniguruma works on
        // code points); U+1D400 (mathematical bold A) is a letter; U+1D7CE (mathematical bold 0) is a number.
        Assert.Equal(["\U0001F600abc"], Scan(SplitPreTokenizer.Qwen, "\U0001F600abc"));
        Assert.Equal(["x", " \U0001F600\U0001F600"], Scan(SplitPreTokenizer.Qwen, "x \U0001F600\U0001F600"));
        Assert.Equal(["\U0001D400\U0001D401", "\U0001D7CE", "\U0001D7CF"], Scan(SplitPreTokenizer.Qwen, "\U0001D400\U0001D401\U0001D7CE\U0001D7CF"));
        Assert.Equal(["\U0001D7CE\U0001D7CF"], Scan(SplitPreTokenizer.Llama3, "\U0001D7CE\U0001D7CF"));
    }

    [Fact]
    public void Contractions_FoldLongS_AsOniguruma()
    {
        Assert.Equal(["x", "'ſ"], Scan(SplitPreTokenizer.Qwen, "x'ſ"));
        Assert.Equal(["'RE", "ad"], Scan(SplitPreTokenizer.Llama3, "'REad"));
        Assert.Equal(["'r"], Scan(SplitPreTokenizer.Llama3, "'r"));
    }

    [Fact]
    public void WhitespaceRules()
    {
        var s = SplitPreTokenizer.Qwen;
        Assert.Equal(["  ", " x"], Scan(s, "   x"));             // \s+(?!\S) leaves the last space to the word
        Assert.Equal(["   "], Scan(s, "   "));                  // trailing run stays whole
        Assert.Equal([" \n\n", "  ", " x"], Scan(s, " \n\n   x")); // \s*[\r\n]+ stops after the last newline
        Assert.Equal(["a", " ", "1"], Scan(s, "a 1"));          // a lone space before a digit is its own piece
        Assert.Equal([" !!\n\n", "b"], Scan(s, " !!\n\nb"));    // punctuation takes a leading space and trailing newlines
        Assert.Equal(["\tword"], Scan(s, "\tword"));            // any non-newline whitespace can lead a word
        Assert.Equal(["\n", "word"], Scan(s, "\nword"));        // but not a newline
    }
}
