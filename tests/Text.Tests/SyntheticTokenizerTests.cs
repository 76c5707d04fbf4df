using System.Text.Json;
using System.Text.Json.Nodes;
using Compiler.Runtime.Text;

namespace Text.Tests;

/// <summary>Small hand-made tokenizer.json files: merge ranks and forms, ignore_merges, added-token flags, and
/// the constructs the reader refuses.</summary>
public sealed class SyntheticTokenizerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tokenizer-tests-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A byte-level BPE: ids 0..255 are the bytes, then the given merged tokens.</summary>
    private static JsonObject Json(string[] extraTokens, JsonArray merges, JsonArray? added = null, bool ignoreMerges = false)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ByteToChar[b].ToString()] = b;
        for (int i = 0; i < extraTokens.Length; i++) vocab[extraTokens[i]] = 256 + i;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = added ?? new JsonArray(),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = SplitPreTokenizer.Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocab, ["merges"] = merges,
            },
        };
    }

    private static JsonObject Added(int id, string content, bool special = true, bool lstrip = false, bool rstrip = false, bool singleWord = false) =>
        new() { ["id"] = id, ["content"] = content, ["single_word"] = singleWord, ["lstrip"] = lstrip, ["rstrip"] = rstrip, ["normalized"] = false, ["special"] = special };

    private Tokenizer Load(JsonObject json)
    {
        string path = Path.Combine(_dir, $"tokenizer-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json.ToJsonString());
        return Tokenizer.FromFile(path);
    }

    private static int B(char c) => c; // ids of ASCII bytes other than space are the bytes themselves
    private const int Space = ' ';

    [Fact]
    public void LowestRankMergesFirst()
    {
        // "abc": with [b c] ranked before [a b] the result is a|bc, the other way round ab|c.
        var bcFirst = Load(Json(["ab", "bc"], new JsonArray("b c", "a b")));
        Assert.Equal([B('a'), 257], bcFirst.Encode("abc"));
        var abFirst = Load(Json(["ab", "bc"], new JsonArray("a b", "b c")));
        Assert.Equal([256, B('c')], abFirst.Encode("abc"));
    }

    [Fact]
    public void EqualRanks_MergeLeftmostFirst()
    {
        // "aaa" with [a a]: the leftmost pair merges, leaving aa|a.
        var t = Load(Json(["aa"], new JsonArray("a a")));
        Assert.Equal([256, B('a')], t.Encode("aaa"));
        Assert.Equal([256, 256], t.Encode("aaaa"));
    }

    [Fact]
    public void ArrayAndStringMerges_AreTheSame()
    {
        var strings = Load(Json(["ab", "abc"], new JsonArray("a b", "ab c")));
        var arrays = Load(Json(["ab", "abc"], new JsonArray(new JsonArray("a", "b"), new JsonArray("ab", "c"))));
        Assert.Equal([257], strings.Encode("abc"));
        Assert.Equal(strings.Encode("abcab abc"), arrays.Encode("abcab abc"));
    }

    [Fact]
    public void IgnoreMerges_TakesAWholePreTokenFromTheVocab()
    {
        // "abc" is in the vocab but no merge builds it.
        Assert.Equal([B('a'), B('b'), B('c')], Load(Json(["abc"], new JsonArray())).Encode("abc"));
        Assert.Equal([256], Load(Json(["abc"], new JsonArray(), ignoreMerges: true)).Encode("abc"));
    }

    [Fact]
    public void AddedTokens_LongestMatchWins()
    {
        var t = Load(Json([], new JsonArray(), new JsonArray(Added(300, "<a>"), Added(301, "<a><b>"))));
        Assert.Equal([301, 300], t.Encode("<a><b><a>"));
    }

    [Fact]
    public void AddedTokens_LStripAndRStrip_SwallowWhitespace()
    {
        var plain = Load(Json([], new JsonArray(), new JsonArray(Added(300, "[X]"))));
        Assert.Equal([B('a'), Space, Space, 300, Space, B('b')], plain.Encode("a  [X] b"));
        var lstrip = Load(Json([], new JsonArray(), new JsonArray(Added(300, "[X]", lstrip: true))));
        Assert.Equal([B('a'), 300, Space, B('b')], lstrip.Encode("a  [X] b"));
        var rstrip = Load(Json([], new JsonArray(), new JsonArray(Added(300, "[X]", rstrip: true))));
        Assert.Equal([B('a'), Space, Space, 300, B('b')], rstrip.Encode("a  [X] b"));
    }

    [Fact]
    public void AddedTokens_SingleWord_MatchOnlyBetweenNonWordChars()
    {
        var t = Load(Json([], new JsonArray(), new JsonArray(Added(300, "X", singleWord: true))));
        Assert.Equal([300], t.Encode("X"));
        Assert.Equal([Space, 300, Space], t.Encode(" X "));
        Assert.Equal([B('a'), B('X')], t.Encode("aX"));   // "aX" is one word
        Assert.Equal([B('('), 300, B(')')], t.Encode("(X)"));
    }

    [Fact]
    public void SkipSpecialTokens_SkipsOnlySpecialOnes()
    {
        var t = Load(Json([], new JsonArray(), new JsonArray(Added(300, "<s>"), Added(301, "<tool>", special: false))));
        var ids = t.Encode("<s>x<tool>");
        Assert.Equal([300, B('x'), 301], ids);
        Assert.Equal("x<tool>", t.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("<s>x<tool>", t.Decode(ids));
    }

    [Fact]
    public void UnknownIds_AreDroppedByDecode_AsHf()
    {
        var t = Load(Json([], new JsonArray()));
        Assert.Equal("ab", t.Decode([B('a'), 99999, -1, B('b')]));
    }

    [Theory]
    [InlineData("WordPiece")]
    [InlineData("Unigram")]
    [InlineData("WordLevel")]
    public void UnsupportedModelType_IsRefusedByName(string type)
    {
        var json = Json([], new JsonArray());
        json["model"]!["type"] = type;
        var e = Assert.Throws<NotSupportedException>(() => Load(json));
        Assert.Contains($"\"{type}\"", e.Message);
        Assert.Contains("model.type", e.Message);
    }

    [Fact]
    public void UnknownSplitRegex_IsRefusedWithThePattern()
    {
        var json = Json([], new JsonArray());
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"\w+|\s+";
        var e = Assert.Throws<NotSupportedException>(() => Load(json));
        Assert.Contains(@"\w+|\s+", e.Message);
    }

    [Fact]
    public void UnsupportedNormalizerAndDecoder_AreRefusedByName()
    {
        var json = Json([], new JsonArray());
        json["normalizer"] = new JsonObject { ["type"] = "Lowercase" };
        Assert.Contains("Lowercase", Assert.Throws<NotSupportedException>(() => Load(json)).Message);
        json = Json([], new JsonArray());
        json["decoder"] = new JsonObject { ["type"] = "Metaspace" };
        Assert.Contains("Metaspace", Assert.Throws<NotSupportedException>(() => Load(json)).Message);
    }

    [Fact]
    public void MergeOfAnUnknownToken_IsReportedWithItsIndex()
    {
        var e = Assert.Throws<InvalidDataException>(() => Load(Json([], new JsonArray("a b"))));
        Assert.Contains("merge #0", e.Message);
        Assert.Contains("'ab'", e.Message);
    }

    [Fact]
    public void ConcurrentEncodes_AgreeWithSequentialOnes()
    {
        var t = Tokenizers.Qwen3;
        var texts = Enumerable.Range(0, 64).Select(i => $"request {i}: the quick brown fox {i * 7919} \u4e2d\u6587 {new string('x', i)}").ToArray();
        var expected = texts.Select(x => t.Encode(x)).ToArray();
        var actual = new int[texts.Length][];
        Parallel.For(0, texts.Length * 8, i => actual[i % texts.Length] = t.Encode(texts[i % texts.Length]));
        for (int i = 0; i < texts.Length; i++) Assert.Equal(expected[i], actual[i]);
    }
}
