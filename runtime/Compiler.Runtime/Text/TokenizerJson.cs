using System.Text.Json;

namespace Compiler.Runtime.Text;

/// <summary>
/// Reads a Hugging Face <c>tokenizer.json</c> into a <see cref="Tokenizer"/>. Supports what the byte-level BPE
/// families (Qwen2/Qwen3, Llama 3) use; any other construct is refused with an error naming it and where it
/// is, rather than tokenizing differently from HF.
/// </summary>
internal static class TokenizerJson
{
    public static JsonDocument Parse(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"No such file: {path}", path);
        using var stream = File.OpenRead(path);
        try
        {
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }

    public static Tokenizer Load(string path, TokenizerConfig config)
    {
        using var doc = Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected a JSON object at the top level.");

        var model = ReadModel(Required(root, "model", path), path);
        var added = ReadAddedTokens(root, path);
        bool nfc = ReadNormalizer(Optional(root, "normalizer"), path, "normalizer");
        var split = ReadPreTokenizer(Optional(root, "pre_tokenizer"), path);
        ReadDecoder(Optional(root, "decoder"), path, "decoder");
        var (prefix, suffix) = ReadPostProcessor(Optional(root, "post_processor"), path, "post_processor");
        return new Tokenizer(model, added, nfc, split, prefix, suffix, config);
    }

    private static BytePairModel ReadModel(JsonElement model, string path)
    {
        string type = model.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "BPE";
        if (type != "BPE")
            throw new NotSupportedException(
                $"{path}: model.type is \"{type}\"; only byte-level \"BPE\" models are supported (not WordPiece, Unigram or WordLevel).");
        if (model.TryGetProperty("dropout", out var dropout) && dropout.ValueKind == JsonValueKind.Number && dropout.GetDouble() != 0)
            throw new NotSupportedException($"{path}: model.dropout = {dropout.GetDouble()}; BPE dropout is a training feature and is not supported.");
        if (Bool(model, "byte_fallback", false, path, "model"))
            throw new NotSupportedException($"{path}: model.byte_fallback = true (SentencePiece-style BPE) is not supported; only byte-level BPE is.");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(affix, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0)
                throw new NotSupportedException($"{path}: model.{affix} = \"{v.GetString()}\" is not supported by the byte-level BPE reader.");

        var vocabElement = Required(model, "vocab", path, "model");
        if (vocabElement.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: model.vocab must be an object of token -> id.");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocabElement.EnumerateObject())
        {
            if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out int id))
                throw new InvalidDataException($"{path}: model.vocab[\"{entry.Name}\"] must be an integer id.");
            vocab[entry.Name] = id;
        }

        var mergesElement = Required(model, "merges", path, "model");
        if (mergesElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"{path}: model.merges must be an array.");
        var merges = new List<(string, string)>(mergesElement.GetArrayLength());
        int index = 0;
        foreach (var merge in mergesElement.EnumerateArray())
        {
            merges.Add(ReadMerge(merge, path, index++));
        }
        return new BytePairModel(vocab, merges, Bool(model, "ignore_merges", false, path, "model"));
    }

    /// <summary>A merge is "left right" (older files) or ["left", "right"] (newer files, which allow spaces).</summary>
    private static (string, string) ReadMerge(JsonElement merge, string path, int index)
    {
        if (merge.ValueKind == JsonValueKind.String)
        {
            string s = merge.GetString()!;
            int space = s.IndexOf(' ');
            if (space <= 0 || space == s.Length - 1 || s.IndexOf(' ', space + 1) >= 0)
                throw new InvalidDataException($"{path}: model.merges[{index}] = \"{s}\" is not two tokens separated by one space.");
            return (s[..space], s[(space + 1)..]);
        }
        if (merge.ValueKind == JsonValueKind.Array && merge.GetArrayLength() == 2
            && merge[0].ValueKind == JsonValueKind.String && merge[1].ValueKind == JsonValueKind.String)
            return (merge[0].GetString()!, merge[1].GetString()!);
        throw new InvalidDataException($"{path}: model.merges[{index}] must be \"a b\" or [\"a\", \"b\"]; got {merge.GetRawText()}.");
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement root, string path)
    {
        var list = new List<AddedToken>();
        if (!root.TryGetProperty("added_tokens", out var array) || array.ValueKind == JsonValueKind.Null) return list;
        if (array.ValueKind != JsonValueKind.Array) throw new InvalidDataException($"{path}: added_tokens must be an array.");
        int i = 0;
        foreach (var t in array.EnumerateArray())
        {
            string where = $"added_tokens[{i++}]";
            if (!t.TryGetProperty("id", out var id) || !id.TryGetInt32(out int idValue) || idValue < 0)
                throw new InvalidDataException($"{path}: {where} needs a non-negative integer \"id\".");
            if (!t.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String)
                throw new InvalidDataException($"{path}: {where} needs a string \"content\".");
            bool special = Bool(t, "special", false, path, where);
            list.Add(new AddedToken(idValue, content.GetString()!, special,
                Bool(t, "lstrip", false, path, where), Bool(t, "rstrip", false, path, where),
                Bool(t, "normalized", !special, path, where), Bool(t, "single_word", false, path, where)));
        }
        return list;
    }

    /// <summary>Returns whether the normalizer is NFC (true) or absent (false).</summary>
    private static bool ReadNormalizer(JsonElement? normalizer, string path, string where)
    {
        if (normalizer is not { } n) return false;
        string type = TypeOf(n, path, where);
        switch (type)
        {
            case "NFC":
                return true;
            case "Sequence":
                bool nfc = false;
                int i = 0;
                foreach (var child in Required(n, "normalizers", path, where).EnumerateArray())
                    nfc |= ReadNormalizer(child, path, $"{where}.normalizers[{i++}]");
                return nfc;
            default:
                throw new NotSupportedException($"{path}: {where}.type is \"{type}\"; only the NFC normalizer (or none) is supported.");
        }
    }

    private static SplitPreTokenizer ReadPreTokenizer(JsonElement? preTokenizer, string path)
    {
        const string expected = "Sequence[Split(<Qwen2 or Llama 3 regex>, Isolated), ByteLevel(add_prefix_space=false, use_regex=false)]";
        if (preTokenizer is not { } p || TypeOf(p, path, "pre_tokenizer") != "Sequence")
            throw new NotSupportedException($"{path}: pre_tokenizer must be {expected}.");
        var steps = Required(p, "pretokenizers", path, "pre_tokenizer");
        if (steps.ValueKind != JsonValueKind.Array || steps.GetArrayLength() != 2)
            throw new NotSupportedException($"{path}: pre_tokenizer.pretokenizers must be {expected}.");

        var split = steps[0];
        if (TypeOf(split, path, "pre_tokenizer.pretokenizers[0]") != "Split")
            throw new NotSupportedException($"{path}: pre_tokenizer.pretokenizers[0] must be a Split; expected {expected}.");
        string behavior = split.TryGetProperty("behavior", out var b) ? b.GetString() ?? "" : "";
        if (behavior != "Isolated" || Bool(split, "invert", false, path, "pre_tokenizer.pretokenizers[0]"))
            throw new NotSupportedException($"{path}: pre_tokenizer.pretokenizers[0] has behavior \"{behavior}\"; only Isolated, not inverted, is supported.");
        string? regex = split.TryGetProperty("pattern", out var pattern) && pattern.TryGetProperty("Regex", out var r) ? r.GetString() : null;
        var scanner = regex is null ? null : SplitPreTokenizer.ForPattern(regex);
        if (scanner is null)
            throw new NotSupportedException(
                $"{path}: pre_tokenizer.pretokenizers[0].pattern {(regex is null ? "is not a Regex" : $"\"{regex}\" is not one of the known split regexes")}; " +
                "the Qwen2/Qwen3 and Llama 3 patterns are implemented by a hand-written scanner.");

        var byteLevel = steps[1];
        const string at = "pre_tokenizer.pretokenizers[1]";
        if (TypeOf(byteLevel, path, at) != "ByteLevel"
            || Bool(byteLevel, "add_prefix_space", true, path, at) || Bool(byteLevel, "use_regex", true, path, at))
            throw new NotSupportedException($"{path}: {at} must be ByteLevel(add_prefix_space=false, use_regex=false).");
        return scanner;
    }

    private static void ReadDecoder(JsonElement? decoder, string path, string where)
    {
        if (decoder is not { } d)
            throw new NotSupportedException($"{path}: {where} is missing; a ByteLevel decoder is required.");
        string type = TypeOf(d, path, where);
        if (type != "ByteLevel")
            throw new NotSupportedException($"{path}: {where}.type is \"{type}\"; only the ByteLevel decoder is supported.");
    }

    /// <summary>The ids a single-sequence encode gets before and after the text when addSpecialTokens is set.</summary>
    private static (int[] Prefix, int[] Suffix) ReadPostProcessor(JsonElement? processor, string path, string where)
    {
        if (processor is not { } p) return ([], []);
        string type = TypeOf(p, path, where);
        switch (type)
        {
            case "ByteLevel": // only trims offsets
                return ([], []);
            case "Sequence":
                var prefix = new List<int>();
                var suffix = new List<int>();
                int i = 0;
                foreach (var child in Required(p, "processors", path, where).EnumerateArray())
                {
                    // Each processor wraps what the previous ones produced.
                    var (pre, post) = ReadPostProcessor(child, path, $"{where}.processors[{i++}]");
                    prefix.InsertRange(0, pre);
                    suffix.AddRange(post);
                }
                return (prefix.ToArray(), suffix.ToArray());
            case "TemplateProcessing":
                return ReadTemplate(p, path, where);
            default:
                throw new NotSupportedException($"{path}: {where}.type is \"{type}\"; supported post-processors are ByteLevel, TemplateProcessing and Sequence.");
        }
    }

    private static (int[] Prefix, int[] Suffix) ReadTemplate(JsonElement p, string path, string where)
    {
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        if (p.TryGetProperty("special_tokens", out var st) && st.ValueKind == JsonValueKind.Object)
            foreach (var entry in st.EnumerateObject())
                specials[entry.Name] = Required(entry.Value, "ids", path, $"{where}.special_tokens.{entry.Name}")
                    .EnumerateArray().Select(x => x.GetInt32()).ToArray();

        var prefix = new List<int>();
        var suffix = new List<int>();
        bool seenSequence = false;
        int i = 0;
        foreach (var piece in Required(p, "single", path, where).EnumerateArray())
        {
            string at = $"{where}.single[{i++}]";
            if (piece.TryGetProperty("Sequence", out var seq))
            {
                string id = seq.GetProperty("id").GetString() ?? "";
                if (id != "A" || seenSequence)
                    throw new NotSupportedException($"{path}: {at} is sequence \"{id}\"; a single template must hold sequence A once.");
                seenSequence = true;
            }
            else if (piece.TryGetProperty("SpecialToken", out var special))
            {
                string name = special.GetProperty("id").GetString() ?? "";
                if (!specials.TryGetValue(name, out var ids))
                    throw new InvalidDataException($"{path}: {at} names special token \"{name}\", which {where}.special_tokens does not define.");
                (seenSequence ? suffix : prefix).AddRange(ids);
            }
            else
            {
                throw new NotSupportedException($"{path}: {at} is neither a Sequence nor a SpecialToken: {piece.GetRawText()}.");
            }
        }
        if (!seenSequence) throw new InvalidDataException($"{path}: {where}.single has no Sequence A.");
        return (prefix.ToArray(), suffix.ToArray());
    }

    private static string TypeOf(JsonElement e, string path, string where) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String
            ? t.GetString()!
            : throw new InvalidDataException($"{path}: {where} must be an object with a string \"type\".");

    private static JsonElement? Optional(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static JsonElement Required(JsonElement e, string name, string path, string? where = null) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
            ? v
            : throw new InvalidDataException($"{path}: {(where is null ? "" : where + ".")}{name} is missing.");

    private static bool Bool(JsonElement e, string name, bool fallback, string path, string where)
    {
        if (!e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return fallback;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new InvalidDataException($"{path}: {where}.{name} must be true or false; got {v.GetRawText()}."),
        };
    }
}
