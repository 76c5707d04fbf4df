using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace Compiler.Runtime.Text;

/// <summary>
/// The byte-level BPE model (HF <c>models.BPE</c> fed by a <c>ByteLevel</c> pre-tokenizer): a pre-token's UTF-8
/// bytes start as one symbol each and are merged pair by pair, lowest merge rank first (leftmost on ties),
/// exactly as HF's <c>Word::merge_all</c> does. Results are cached per pre-token; the cache is thread-safe.
/// </summary>
internal sealed class BytePairModel
{
    /// <summary>Pre-tokens at least this long are not cached (as HF), so one huge input cannot flood the cache.</summary>
    private const int MaxCachedLength = 256;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabBySpan;
    private readonly string?[] _idToToken;
    private readonly int[] _byteToId = new int[256];
    private readonly MergeTable _merges;
    private readonly bool _ignoreMerges;
    private readonly ConcurrentDictionary<string, int[]> _cache = new();
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;
    private readonly int _cacheCapacity;
    private int _cacheCount; // ConcurrentDictionary.Count takes every lock: keep our own

    /// <param name="vocab">Token (byte-level string) -&gt; id.</param>
    /// <param name="merges">Merge pairs in rank order (rank = index).</param>
    /// <param name="ignoreMerges">Take a pre-token that is itself in the vocab as one token (Llama 3).</param>
    /// <param name="cacheCapacity">Most pre-tokens kept in the cache.</param>
    public BytePairModel(Dictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        bool ignoreMerges, int cacheCapacity = 100_000)
    {
        _vocab = vocab;
        _vocabBySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _ignoreMerges = ignoreMerges;
        _cacheCapacity = cacheCapacity;

        int maxId = -1;
        foreach (var (_, id) in vocab)
        {
            if (id < 0) throw new InvalidDataException($"tokenizer.json: model.vocab has a negative id {id}.");
            maxId = Math.Max(maxId, id);
        }
        _idToToken = new string?[maxId + 1];
        foreach (var (token, id) in vocab) _idToToken[id] = token;

        for (int b = 0; b < 256; b++)
        {
            char c = ByteLevelAlphabet.ByteToChar[b];
            if (!vocab.TryGetValue(c.ToString(), out _byteToId[b]))
                throw new NotSupportedException(
                    $"tokenizer.json: the byte-level BPE vocab has no token for byte 0x{b:X2} ('{c}'); " +
                    "only byte-level vocabs that cover all 256 bytes are supported.");
        }

        _merges = new MergeTable(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            int l = Lookup(left, rank), r = Lookup(right, rank), merged = Lookup(left + right, rank);
            _merges.Set(l, r, rank, merged);
        }
    }

    /// <summary>Pre-tokens currently cached.</summary>
    public int CachedPreTokens => Volatile.Read(ref _cacheCount);

    /// <summary>Number of ids the model vocab spans (max id + 1).</summary>
    public int VocabSize => _idToToken.Length;

    /// <summary>The byte-level string of a model id, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    public bool TryGetId(string token, out int id) => _vocab.TryGetValue(token, out id);

    /// <summary>Appends the ids of one pre-token (raw text, before the byte-level mapping).</summary>
    public void EncodePreToken(ReadOnlySpan<char> preToken, List<int> output)
    {
        if (preToken.IsEmpty) return;
        if (_cacheBySpan.TryGetValue(preToken, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }

        int maxBytes = preToken.Length * 3; // UTF-16 unit -> at most 3 UTF-8 bytes (a lone surrogate is EF BF BD)
        byte[]? rented = null;
        Span<byte> bytes = maxBytes <= 512 ? stackalloc byte[512] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            int n = Encoding.UTF8.GetBytes(preToken, bytes);
            int[] ids = Encode(bytes[..n]);
            if (preToken.Length < MaxCachedLength && Volatile.Read(ref _cacheCount) < _cacheCapacity
                && _cacheBySpan.TryAdd(preToken, ids))
                Interlocked.Increment(ref _cacheCount);
            output.AddRange(ids);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private int[] Encode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 1) return [_byteToId[bytes[0]]];
        if (_ignoreMerges)
        {
            char[]? rented = null;
            Span<char> chars = bytes.Length <= 256 ? stackalloc char[256] : (rented = ArrayPool<char>.Shared.Rent(bytes.Length));
            for (int i = 0; i < bytes.Length; i++) chars[i] = ByteLevelAlphabet.ByteToChar[bytes[i]];
            bool whole = _vocabBySpan.TryGetValue(chars[..bytes.Length], out int id);
            if (rented is not null) ArrayPool<char>.Shared.Return(rented);
            if (whole) return [id];
        }
        return Merge(bytes);
    }

    /// <summary>HF's <c>Word::merge_all</c>: a min-heap of (rank, position) candidate merges; stale entries
    /// (the pair at that position changed or no longer yields the same id) are dropped when popped.</summary>
    private int[] Merge(ReadOnlySpan<byte> bytes)
    {
        int n = bytes.Length;
        var id = new int[n];
        var prev = new int[n];
        var next = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++)
        {
            id[i] = _byteToId[bytes[i]];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            alive[i] = true;
        }

        // Priority = rank << 32 | position: lowest rank first, then leftmost. The element remembers the pair
        // it was made for: an unchanged pair is valid without a lookup; a changed one gets HF's check (the pair
        // now there merges to the same id), which is what makes stale entries behave exactly as in HF.
        var queue = new PriorityQueue<(int Merged, int Left, int Right), long>(n);
        for (int i = 0; i + 1 < n; i++)
            if (_merges.TryGet(id[i], id[i + 1], out long m)) queue.Enqueue(((int)m, id[i], id[i + 1]), (m & ~0xFFFFFFFFL) | (uint)i);

        int count = n;
        while (queue.TryDequeue(out var top, out long priority))
        {
            int pos = (int)(priority & 0xFFFFFFFF);
            if (!alive[pos] || next[pos] < 0) continue;
            int right = next[pos];
            if ((id[pos] != top.Left || id[right] != top.Right)
                && (!_merges.TryGet(id[pos], id[right], out long current) || (int)current != top.Merged)) continue;

            int mergedId = top.Merged;
            id[pos] = mergedId;
            alive[right] = false;
            count--;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;

            if (prev[pos] >= 0 && _merges.TryGet(id[prev[pos]], mergedId, out long left))
                queue.Enqueue(((int)left, id[prev[pos]], mergedId), (left & ~0xFFFFFFFFL) | (uint)prev[pos]);
            if (next[pos] >= 0 && _merges.TryGet(mergedId, id[next[pos]], out long after))
                queue.Enqueue(((int)after, mergedId, id[next[pos]]), (after & ~0xFFFFFFFFL) | (uint)pos);
        }

        var result = new int[count];
        for (int i = 0, k = 0; i >= 0 && k < count; i = next[i]) result[k++] = id[i];
        return result;
    }

    private int Lookup(string token, int rank) =>
        _vocab.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException(
                $"tokenizer.json: merge #{rank} refers to '{token}', which is not in model.vocab.");
}
