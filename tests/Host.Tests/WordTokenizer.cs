using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>A word-level tokenizer for tests: token n is the word "w{n}", words are separated by spaces, any other
/// word is one unknown token. Encoding and decoding round-trip exactly, so prompt lengths can be checked to the
/// token. <see cref="NumSpecialTokensToAdd"/> BOS tokens are prepended when special tokens are asked for.</summary>
internal sealed class WordTokenizer(int vocabSize = 1000, int specialTokens = 1) : IBenchTokenizer
{
    public int VocabSize => vocabSize;

    public int NumSpecialTokensToAdd => specialTokens;

    public int[] Encode(string text, bool addSpecialTokens)
    {
        var words = text.Split([' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new List<int>(words.Length + specialTokens);
        if (addSpecialTokens) for (int i = 0; i < specialTokens; i++) ids.Add(0);
        foreach (var w in words)
            ids.Add(w.Length > 1 && w[0] == 'w' && int.TryParse(w.AsSpan(1), out int id) && id < vocabSize ? id : vocabSize - 1);
        return ids.ToArray();
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var parts = new string[ids.Length];
        for (int i = 0; i < ids.Length; i++) parts[i] = $"w{ids[i]}";
        return string.Join(' ', parts);
    }

    /// <summary>Token 0 plays BOS.</summary>
    public bool IsSpecial(int id) => id == 0;
}
