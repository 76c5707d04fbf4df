using System.Text;
using Compiler.Runtime.Text;

namespace Text.Tests;

/// <summary>Streaming detokenization: characters split across tokens are held back, never emitted broken, and
/// the deltas concatenate to the full decode.</summary>
public sealed class IncrementalDetokenizerTests
{
    /// <summary>The id of the single-byte token for each byte: feeding these splits every character.</summary>
    private static int[] ByteIds(Tokenizer t, byte[] bytes) =>
        bytes.Select(b => t.TokenToId(ByteLevelAlphabet.ByteToChar[b].ToString())!.Value).ToArray();

    private static List<string> Stream(Tokenizer t, IEnumerable<int> ids, bool skipSpecialTokens = false)
    {
        var detok = t.CreateDetokenizer(skipSpecialTokens);
        var deltas = ids.Select(detok.Add).ToList();
        deltas.Add(detok.Flush());
        return deltas;
    }

    [Fact]
    public void EmojiAndCjkSplitIntoBytes_AreHeldBackUntilComplete()
    {
        var t = Tokenizers.Qwen3;
        string text = "a\u4f60\U0001F600\U0001F469\u200D\U0001F4BB!";
        var deltas = Stream(t, ByteIds(t, Encoding.UTF8.GetBytes(text)));
        // 1 + 3 + 4 + 4 + 3 + 4 + 1 byte tokens, then the flush.
        Assert.Equal(
            ["a", "", "", "\u4f60", "", "", "", "\U0001F600", "", "", "", "\U0001F469", "", "", "\u200D", "", "", "", "\U0001F4BB", "!", ""],
            deltas);
    }

    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void RealEncodings_StreamWithoutBrokenCharacters(string name)
    {
        var t = Tokenizers.ByName(name);
        string text = "\u6a5f\u68b0\u5b66\u7fd2 \U0001F468\u200D\U0001F469\u200D\U0001F467 \U0001F44D\U0001F3FD \U0001F1FA\U0001F1F8 \u0928\u092e\u0938\u094d\u0924\u0947 \u0645\u0631\u062d\u0628\u0627";
        var ids = t.Encode(text);
        var deltas = Stream(t, ids);
        foreach (string d in deltas)
        {
            Assert.DoesNotContain('\uFFFD', d);
            for (int i = 0; i < d.Length; i++)
            {
                if (char.IsHighSurrogate(d[i])) Assert.True(i + 1 < d.Length && char.IsLowSurrogate(d[++i]), "split surrogate pair");
                else Assert.False(char.IsLowSurrogate(d[i]), "lone low surrogate");
            }
        }
        Assert.Equal(t.Decode(ids), string.Concat(deltas));
        Assert.Contains(deltas, d => d.Length == 0); // some character did span tokens
    }

    [Fact]
    public void InvalidBytes_BecomeReplacementChars_WhereTheFullDecodePutsThem()
    {
        var t = Tokenizers.Qwen3;
        // 0xFF is never valid: replaced at once. F0 9F then 'a': the truncated sequence is replaced when 'a'
        // shows it cannot complete. A trailing E4 B8 is only replaced by Flush (the stream ended).
        var deltas = Stream(t, ByteIds(t, [0x61, 0xFF, 0xF0, 0x9F, 0x61, 0xE4, 0xB8]));
        Assert.Equal(["a", "\uFFFD", "", "", "\uFFFDa", "", "", "\uFFFD"], deltas);
        Assert.Equal("a\uFFFD\uFFFDa\uFFFD", t.Decode(ByteIds(t, [0x61, 0xFF, 0xF0, 0x9F, 0x61, 0xE4, 0xB8])));
    }

    [Fact]
    public void RandomByteStreams_ConcatenateToTheFullDecode()
    {
        var t = Tokenizers.Llama3;
        var random = new Random(42);
        var samples = new[] { "\u00e9", "\u4e2d", "\U0001F600", "a", " ", "\n" }.Select(Encoding.UTF8.GetBytes).ToArray();
        for (int n = 0; n < 2000; n++)
        {
            var bytes = new List<byte>();
            for (int i = random.Next(1, 12); i > 0; i--)
            {
                var sample = samples[random.Next(samples.Length)];
                // Mostly valid text, sometimes a truncated or a stray byte.
                if (random.Next(6) == 0) bytes.Add(sample[random.Next(sample.Length)]);
                else bytes.AddRange(sample);
            }
            var ids = ByteIds(t, bytes.ToArray());
            Assert.Equal(t.Decode(ids), string.Concat(Stream(t, ids)));
        }
    }

    [Fact]
    public void SkippedSpecialTokens_DoNotBreakACharacterAcrossThem()
    {
        var t = Tokenizers.Llama3;
        var bytes = ByteIds(t, Encoding.UTF8.GetBytes("\u4e2d"));
        int[] ids = [bytes[0], 128009, bytes[1], bytes[2]];
        Assert.Equal("\u4e2d", string.Concat(Stream(t, ids, skipSpecialTokens: true)));
        Assert.Equal(t.Decode(ids), string.Concat(Stream(t, ids)));
    }

    [Fact]
    public void StringBuilderOverload_AppendsTheSameDeltas()
    {
        var t = Tokenizers.Qwen3;
        var ids = t.Encode("<|im_start|>\u4f60\u597d \U0001F600<|im_end|>");
        var detok = t.CreateDetokenizer();
        var sb = new StringBuilder();
        int total = 0;
        foreach (int id in ids) total += detok.Add(id, sb);
        Assert.Equal(sb.Length, total);
        Assert.Equal(t.Decode(ids), sb.ToString() + detok.Flush());
    }
}
