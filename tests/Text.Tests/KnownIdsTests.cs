using System.Text.Json;

namespace Text.Tests;

/// <summary>Encodings whose ids follow from the vocab by reasoning about the split regexes (looked up in
/// tokenizer.json independently of the tokenizer under test).</summary>
public sealed class KnownIdsTests
{
    private static readonly Lazy<Dictionary<string, Dictionary<string, int>>> Vocabs = new(() =>
        new[] { "qwen3", "llama3" }.ToDictionary(n => n, n =>
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.TokenizerDir(n), "tokenizer.json")));
            return doc.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetInt32());
        }));

    private static int[] Ids(string name, params string[] tokens) => tokens.Select(t => Vocabs.Value[name][t]).ToArray();

    [Fact]
    public void Qwen3_HelloWorld_SplitsIntoWordsAndPunctuation()
    {
        Assert.Equal(Ids("qwen3", "Hello", ",", "Ġworld", "!"), Tokenizers.Qwen3.Encode("Hello, world!"));
        Assert.Equal([9707, 11, 1879, 0], Tokenizers.Qwen3.Encode("Hello, world!"));
    }

    [Fact]
    public void Llama3_HelloWorld_GetsBosWhenAddingSpecialTokens()
    {
        Assert.Equal([128000, 9906, 11, 1917, 0], Tokenizers.Llama3.Encode("Hello, world!"));
        Assert.Equal([9906, 11, 1917, 0], Tokenizers.Llama3.Encode("Hello, world!", addSpecialTokens: false));
    }

    [Fact]
    public void Qwen3_SplitsDigitsOneByOne_Llama3_InGroupsOfThree()
    {
        Assert.Equal(Ids("qwen3", "1", "2", "3", "4", "5", "6", "7"), Tokenizers.Qwen3.Encode("1234567"));
        Assert.Equal(Ids("llama3", "123", "456", "7"), Tokenizers.Llama3.Encode("1234567", addSpecialTokens: false));
    }

    [Fact]
    public void WhitespaceBeforeAWord_LeavesOneSpaceForTheWord()
    {
        // "\s+(?!\S)" takes all but the last space; the last one goes with the word.
        Assert.Equal(Ids("qwen3", "ĠĠ", "Ġx"), Tokenizers.Qwen3.Encode("   x"));
        // A newline run ends at its last newline ("\s*[\r\n]+"), the spaces after it stay apart from the word.
        Assert.Equal(Ids("qwen3", "a", "ĊĊ", "Ġb"), Tokenizers.Qwen3.Encode("a\n\n b"));
    }

    [Fact]
    public void Contractions_AreSplitOff_CaseInsensitively()
    {
        Assert.Equal(Ids("llama3", "I", "'M", "Ġhere"), Tokenizers.Llama3.Encode("I'M here", addSpecialTokens: false));
        Assert.Equal(Ids("qwen3", "don", "'t"), Tokenizers.Qwen3.Encode("don't"));
    }

    [Fact]
    public void SpecialTokensInline_AreSingleIds_AndSkippable()
    {
        var q = Tokenizers.Qwen3;
        int imStart = q.TokenToId("<|im_start|>")!.Value, imEnd = q.TokenToId("<|im_end|>")!.Value;
        Assert.Equal(151644, imStart);
        Assert.Equal(151645, imEnd);
        var ids = q.Encode("<|im_start|>user\nHi<|im_end|>");
        Assert.Equal([imStart, .. Ids("qwen3", "user", "Ċ", "Hi"), imEnd], ids);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>", q.Decode(ids));
        Assert.Equal("user\nHi", q.Decode(ids, skipSpecialTokens: true));

        // Not a special token in Qwen: plain text.
        Assert.DoesNotContain(128000, q.Encode("<|begin_of_text|>"));
        Assert.True(q.Encode("<|begin_of_text|>").Length > 1);

        var l = Tokenizers.Llama3;
        Assert.Equal([128000, 128000, 128006], l.Encode("<|begin_of_text|><|start_header_id|>"));
        Assert.Equal("", l.Decode(l.Encode("<|eot_id|>"), skipSpecialTokens: true));
    }

    [Fact]
    public void NonSpecialAddedTokens_AreMatchedButKeptWhenSkippingSpecialTokens()
    {
        var q = Tokenizers.Qwen3;
        int think = q.TokenToId("<think>")!.Value;
        Assert.False(q.IsSpecialToken(think));
        var ids = q.Encode("<think>\nhmm\n</think>");
        Assert.Equal(think, ids[0]);
        Assert.Equal(q.TokenToId("</think>"), ids[^1]);
        Assert.Equal("<think>\nhmm\n</think>", q.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void ConfigSpecialTokens_ResolveToIds()
    {
        Assert.Equal(151645, Tokenizers.Qwen3.EosTokenId);   // <|im_end|>
        Assert.Equal(151643, Tokenizers.Qwen3.PadTokenId);   // <|endoftext|>
        Assert.Null(Tokenizers.Qwen3.BosTokenId);
        Assert.Equal(128000, Tokenizers.Llama3.BosTokenId);
        Assert.Equal(128009, Tokenizers.Llama3.EosTokenId);  // <|eot_id|>
        Assert.Equal(151669, Tokenizers.Qwen3.VocabSize);
        Assert.Equal(128256, Tokenizers.Llama3.VocabSize);
    }

    [Fact]
    public void EmptyText()
    {
        Assert.Empty(Tokenizers.Qwen3.Encode(""));
        Assert.Equal([128000], Tokenizers.Llama3.Encode(""));
        Assert.Equal("", Tokenizers.Qwen3.Decode([]));
    }
}
