using System.Text.Json;
using Compiler.Runtime.Text;

namespace Text.Tests;

/// <summary>The NFC normalizer against Python's unicodedata (References/nfc_cases.jsonl, written by
/// scripts/reference/tokenizer_nfc_cases.py) and a few cases from UAX #15.</summary>
public sealed class NfcNormalizerTests
{
    [Fact]
    public void MatchesPythonUnicodedata_OnEveryCase()
    {
        string path = RepoPaths.Reference("nfc_cases.jsonl");
        var lines = File.ReadAllLines(path);
        using (var header = JsonDocument.Parse(lines[0]))
            Assert.Equal(UnicodeNormalizationData.UnicodeVersion, header.RootElement.GetProperty("unicode").GetString());
        var failures = new List<string>();
        foreach (string line in lines.Skip(1))
        {
            var pair = JsonSerializer.Deserialize<string[]>(line)!;
            string actual = NfcNormalizer.Normalize(pair[0]);
            if (actual != pair[1])
                failures.Add($"{Hex(pair[0])}: expected {Hex(pair[1])} actual {Hex(actual)}");
        }
        Assert.True(lines.Length > 5000, $"only {lines.Length} cases");
        Assert.True(failures.Count == 0, $"{failures.Count} of {lines.Length - 1} differ:\n" + string.Join("\n", failures.Take(20)));
    }

    [Theory]
    [InlineData("e\u0301", "\u00e9")]                      // composition
    [InlineData("\u2126", "\u03a9")]                       // singleton decomposition (ohm sign)
    [InlineData("\u1e9b\u0323", "\u1e9b\u0323")]           // UAX #15 example: long s with dot stays
    [InlineData("a\u0323\u0302", "\u1ead")]                // reorder below-mark first, then compose both
    [InlineData("a\u0301\u0301", "\u00e1\u0301")]          // the second acute is blocked by the first
    [InlineData("\u1100\u1161\u11a8", "\uac01")]           // Hangul L V T
    [InlineData("\u0301a", "\u0301a")]                     // leading mark has nothing to compose with
    [InlineData("plain ascii", "plain ascii")]
    [InlineData("\U0001d15e", "\U0001d157\U0001d165")]     // astral composition exclusion
    public void KnownCases(string input, string expected) => Assert.Equal(Hex(expected), Hex(NfcNormalizer.Normalize(input)));

    [Fact]
    public void AlreadyNormalizedText_IsReturnedAsIs()
    {
        string text = "already NFC: caf\u00e9 \u4e2d\u6587 \U0001F600";
        Assert.Same(text, NfcNormalizer.Normalize(text));
    }

    private static string Hex(string s) => string.Join(" ", s.EnumerateRunes().Select(r => r.Value.ToString("X4")));
}
