using System.Text;
using System.Text.Json;
using Compiler.Runtime.Text;

namespace Text.Tests;

/// <summary>
/// Every line of scripts/reference/tokenizer_corpus.jsonl against the ids and decodes HF <c>tokenizers</c>
/// produced (References/{name}.tokenize.jsonl, written by scripts/reference/tokenizer_reference.py).
/// </summary>
public sealed class ReferenceTests
{
    private sealed record Row(int Line, string Text, int[] Ids, int[] IdsNoSpecial, string Decoded, string? DecodedSkipSpecial);

    private static List<Row> LoadRows(string name)
    {
        string path = RepoPaths.Reference($"{name}.tokenize.jsonl");
        Assert.SkipUnless(File.Exists(path),
            $"{path} is missing: run `python3 scripts/reference/tokenizer_reference.py .cache/tokenizers` where HF tokenizers is installed.");
        var rows = new List<Row>();
        int line = 0;
        foreach (string json in File.ReadLines(path))
        {
            line++;
            if (json.Length == 0) continue;
            using var doc = JsonDocument.Parse(json);
            var r = doc.RootElement;
            rows.Add(new Row(line, r.GetProperty("text").GetString()!,
                r.GetProperty("ids").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                r.GetProperty("ids_no_special").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
                r.GetProperty("decoded").GetString()!,
                r.TryGetProperty("decoded_skip_special", out var skip) ? skip.GetString() : null));
        }
        return rows;
    }

    private static string Show(string s) => JsonSerializer.Serialize(s.Length > 120 ? s[..120] + "..." : s);

    private static void AssertNoFailures(List<string> failures, int rows)
    {
        Assert.True(failures.Count == 0,
            $"{failures.Count} of {rows} reference lines differ:\n" + string.Join("\n", failures.Take(15)));
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void Encode_MatchesHfIds_OnEveryCorpusLine(string name)
    {
        var tokenizer = Tokenizers.ByName(name);
        var rows = LoadRows(name);
        var failures = new List<string>();
        foreach (var row in rows)
        {
            var ids = tokenizer.Encode(row.Text);
            if (!ids.SequenceEqual(row.Ids))
                failures.Add($"line {row.Line} {Show(row.Text)}:\n  expected [{string.Join(",", row.Ids)}]\n  actual   [{string.Join(",", ids)}]");
            var noSpecial = tokenizer.Encode(row.Text, addSpecialTokens: false);
            if (!noSpecial.SequenceEqual(row.IdsNoSpecial))
                failures.Add($"line {row.Line} {Show(row.Text)} (no special): expected [{string.Join(",", row.IdsNoSpecial)}] actual [{string.Join(",", noSpecial)}]");
        }
        AssertNoFailures(failures, rows.Count);
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void Decode_MatchesHf_WithAndWithoutSpecialTokens(string name)
    {
        var tokenizer = Tokenizers.ByName(name);
        var rows = LoadRows(name);
        var failures = new List<string>();
        foreach (var row in rows)
        {
            string decoded = tokenizer.Decode(row.Ids);
            if (decoded != row.Decoded) failures.Add($"line {row.Line}: expected {Show(row.Decoded)} actual {Show(decoded)}");
            if (row.DecodedSkipSpecial is { } skipped && tokenizer.Decode(row.Ids, skipSpecialTokens: true) is var s && s != skipped)
                failures.Add($"line {row.Line} (skip special): expected {Show(skipped)} actual {Show(s)}");
        }
        AssertNoFailures(failures, rows.Count);
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void IncrementalDetokenizer_ConcatenatesToTheFullDecode(string name)
    {
        var tokenizer = Tokenizers.ByName(name);
        var rows = LoadRows(name);
        var failures = new List<string>();
        foreach (var row in rows)
        {
            foreach (bool skip in new[] { false, true })
            {
                var detok = tokenizer.CreateDetokenizer(skip);
                var sb = new StringBuilder();
                foreach (int id in row.Ids) sb.Append(detok.Add(id));
                sb.Append(detok.Flush());
                string expected = skip ? row.DecodedSkipSpecial ?? tokenizer.Decode(row.Ids, true) : row.Decoded;
                if (sb.ToString() != expected)
                    failures.Add($"line {row.Line} (skip={skip}): expected {Show(expected)} streamed {Show(sb.ToString())}");
            }
        }
        AssertNoFailures(failures, rows.Count);
    }

    [Fact]
    public void Corpus_RoundTripsThroughEncodeDecode()
    {
        // Independent of the reference files: decode(encode(x)) == x for text without invalid UTF-16, with NFC
        // applied for Qwen (its normalizer changes the text before tokenization).
        var failures = new List<string>();
        int count = 0;
        foreach (string line in File.ReadLines(RepoPaths.Corpus))
        {
            string text = JsonSerializer.Deserialize<string>(line)!;
            count++;
            string q = Tokenizers.Qwen3.Decode(Tokenizers.Qwen3.Encode(text));
            if (q != NfcNormalizer.Normalize(text)) failures.Add($"qwen3 corpus line {count}: {Show(text)} -> {Show(q)}");
            string l = Tokenizers.Llama3.Decode(Tokenizers.Llama3.Encode(text, addSpecialTokens: false));
            if (l != text) failures.Add($"llama3 corpus line {count}: {Show(text)} -> {Show(l)}");
        }
        Assert.True(count >= 150, $"the corpus has only {count} lines");
        AssertNoFailures(failures, count);
    }
}
