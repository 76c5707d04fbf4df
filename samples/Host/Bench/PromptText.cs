namespace Compiler.Host.Bench;

/// <summary>Turns token ids into prompt text that encodes back to an exact number of tokens. Decoding arbitrary ids
/// and encoding the text again rarely gives the same ids (merges form across the old boundaries), so SGLang's prompts
/// are only near the length they claim; here the text is trimmed or topped up until it is exact.</summary>
internal static class PromptText
{
    private const int MaxRounds = 16;

    /// <summary>Text whose encoding without special tokens has <paramref name="target"/> tokens where that could be
    /// reached, and that count (the length actually reached otherwise).</summary>
    public static (string Text, int Tokens) Fit(IBenchTokenizer tokenizer, int[] ids, int target, Func<int> filler)
    {
        if (target <= 0) return ("", 0);
        var text = tokenizer.Decode(ids);
        int[] encoded = tokenizer.Encode(text, addSpecialTokens: false);
        for (int round = 0; round < MaxRounds && encoded.Length != target; round++)
        {
            int[] next;
            if (encoded.Length > target)
            {
                next = encoded[..target];
            }
            else
            {
                next = new int[target];
                encoded.CopyTo(next, 0);
                for (int i = encoded.Length; i < target; i++) next[i] = filler();
            }
            text = tokenizer.Decode(next);
            encoded = tokenizer.Encode(text, addSpecialTokens: false);
        }
        return (text, encoded.Length);
    }

    /// <summary>A draw from the ordinary (non-special) vocabulary.</summary>
    public static int RandomToken(IBenchTokenizer tokenizer, Random random)
    {
        for (int tries = 0; tries < 1000; tries++)
        {
            int id = random.Next(tokenizer.VocabSize);
            if (!tokenizer.IsSpecial(id)) return id;
        }
        throw new InvalidOperationException("the tokenizer's vocabulary looks to be all special tokens");
    }
}
