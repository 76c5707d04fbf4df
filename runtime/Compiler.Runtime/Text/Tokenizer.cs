namespace Compiler.Runtime.Text;

/// <summary>
/// A Hugging Face <c>tokenizer.json</c> byte-level BPE tokenizer (Qwen2/Qwen3, Llama 3 families), equal to HF
/// <c>tokenizers</c> id for id. Encode: added tokens are split out of the raw text (leftmost-longest), the rest
/// is normalized (NFC where configured), split by the family's regex, mapped to byte-level chars and merged by
/// BPE rank; the post-processor's special tokens (Llama 3's BOS) wrap the result when addSpecialTokens is set.
/// Decode: the ByteLevel decoder. Thread-safe: one instance serves all requests.
/// </summary>
internal sealed class Tokenizer
{
    private readonly BytePairModel _model;
    private readonly ByteLevelDecoder _decoder;
    private readonly AddedTokenMatcher _rawMatcher;
    private readonly AddedTokenMatcher _normalizedMatcher;
    private readonly Dictionary<string, AddedToken> _addedByContent = new(StringComparer.Ordinal);
    private readonly Dictionary<int, AddedToken> _addedById = new();
    private readonly bool _nfc;
    private readonly SplitPreTokenizer _split;
    private readonly int[] _prefix;
    private readonly int[] _suffix;

    [ThreadStatic] private static List<AddedTokenMatch>? t_rawPieces;
    [ThreadStatic] private static List<AddedTokenMatch>? t_normalizedPieces;

    internal Tokenizer(BytePairModel model, IReadOnlyList<AddedToken> addedTokens, bool nfc, SplitPreTokenizer split,
        int[] prefix, int[] suffix, TokenizerConfig config)
    {
        _model = model;
        _nfc = nfc;
        _split = split;
        _prefix = prefix;
        _suffix = suffix;
        Config = config;
        AddedTokens = addedTokens;
        foreach (var t in addedTokens)
        {
            _addedByContent[t.Content] = t;
            _addedById[t.Id] = t;
        }
        _decoder = new ByteLevelDecoder(model, addedTokens);
        _rawMatcher = new AddedTokenMatcher(addedTokens.Where(t => !t.Normalized).Select(t => (t.Content, t)));
        // Normalized added tokens are matched by their normalized content, as HF does.
        _normalizedMatcher = new AddedTokenMatcher(addedTokens.Where(t => t.Normalized)
            .Select(t => (nfc ? NfcNormalizer.Normalize(t.Content) : t.Content, t)));

        BosTokenId = IdOf(config.BosToken);
        EosTokenId = IdOf(config.EosToken);
        PadTokenId = IdOf(config.PadToken);
    }

    /// <summary>Loads <c>tokenizer.json</c> and, when present, <c>tokenizer_config.json</c> from a directory.</summary>
    public static Tokenizer FromDirectory(string directory)
    {
        string json = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(json))
            throw new FileNotFoundException(
                $"No tokenizer.json in {Path.GetFullPath(directory)}; pass the directory of a Hugging Face checkpoint or tokenizer.", json);
        string config = Path.Combine(directory, "tokenizer_config.json");
        return FromFile(json, File.Exists(config) ? config : null);
    }

    public static Tokenizer FromFile(string tokenizerJsonPath, string? tokenizerConfigPath = null) =>
        TokenizerJson.Load(tokenizerJsonPath,
            tokenizerConfigPath is null ? TokenizerConfig.Empty : TokenizerConfig.Load(tokenizerConfigPath));

    public TokenizerConfig Config { get; }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    /// <summary>One past the largest id of the model vocab and the added tokens (not the model's, often
    /// padded, embedding size).</summary>
    public int VocabSize => _decoder.Size;

    /// <summary>Distinct pre-tokens in the BPE cache (for benchmarks and diagnostics).</summary>
    public int CachedPreTokens => _model.CachedPreTokens;

    public int? BosTokenId { get; }

    public int? EosTokenId { get; }

    public int? PadTokenId { get; }

    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var added) ? added.Id
        : _model.TryGetId(token, out int id) ? id
        : null;

    /// <summary>The token string (byte-level form for model tokens, content for added tokens), or null.</summary>
    public string? IdToToken(int id) => _addedById.TryGetValue(id, out var added) ? added.Content : _model.IdToToken(id);

    public bool IsSpecialToken(int id) => _decoder.IsSpecial(id);

    public int[] Encode(string text, bool addSpecialTokens = true)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids, addSpecialTokens);
        return ids.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> ids, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (addSpecialTokens) ids.AddRange(_prefix);
        if (_rawMatcher.IsEmpty)
        {
            EncodeUnnormalized(text, ids);
        }
        else
        {
            var pieces = t_rawPieces ??= new List<AddedTokenMatch>();
            pieces.Clear();
            _rawMatcher.Split(text, pieces);
            foreach (var piece in pieces)
            {
                if (piece.Token is { } token) ids.Add(token.Id);
                else EncodeUnnormalized(text[piece.Start..piece.End], ids);
            }
            pieces.Clear();
        }
        if (addSpecialTokens) ids.AddRange(_suffix);
    }

    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens = false) => _decoder.Decode(ids, skipSpecialTokens);

    /// <summary>The bytes one token decodes to (precomputed; may hold part of a UTF-8 character); empty for unknown ids.</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => _decoder.GetBytes(id, skipSpecialTokens: false);

    /// <summary>A streaming decoder for one sequence (see <see cref="IncrementalDetokenizer"/>).</summary>
    public IncrementalDetokenizer CreateDetokenizer(bool skipSpecialTokens = false) => new(_decoder, skipSpecialTokens);

    private void EncodeUnnormalized(ReadOnlySpan<char> text, List<int> ids)
    {
        string? normalized = _nfc ? NfcNormalizer.NormalizeOrNull(text) : null;
        ReadOnlySpan<char> s = normalized is null ? text : normalized.AsSpan();
        if (_normalizedMatcher.IsEmpty)
        {
            EncodePlain(s, ids);
            return;
        }
        var pieces = t_normalizedPieces ??= new List<AddedTokenMatch>();
        int from = pieces.Count; // not reentrant per thread, but keep the list stack-like anyway
        _normalizedMatcher.Split(s, pieces);
        for (int i = from; i < pieces.Count; i++)
        {
            var piece = pieces[i];
            if (piece.Token is { } token) ids.Add(token.Id);
            else EncodePlain(s[piece.Start..piece.End], ids);
        }
        pieces.RemoveRange(from, pieces.Count - from);
    }

    /// <summary>Pre-tokenizes text that holds no added token and appends the BPE ids of each pre-token.</summary>
    private void EncodePlain(ReadOnlySpan<char> text, List<int> ids)
    {
        int i = 0;
        while (i < text.Length)
        {
            int end = _split.NextEnd(text, i);
            _model.EncodePreToken(text[i..end], ids);
            i = end;
        }
    }

    private int? IdOf(string? token) => token is null ? null : TokenToId(token);
}
