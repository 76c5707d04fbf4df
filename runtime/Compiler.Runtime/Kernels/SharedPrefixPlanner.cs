using Compiler.Runtime.Memory;

namespace Compiler.Runtime.Kernels;

/// <summary>
/// Plans cascade decode attention for one decode batch: finds the requests whose first tokens are the same KV slots
/// (a prompt prefix the radix cache matched for all of them, such as a shared system prompt), groups them into tiles
/// of up to <see cref="AttentionKernels.SharedPrefixTileRequests"/> requests, and cuts each tile's shared prefix into
/// work items for <c>shared_prefix_attention</c>, which reads each prefix once per tile instead of once per request.
/// <c>decode_attention</c> then attends each request to its tokens past the prefix and merges the two. This is the
/// host's half of the contract written at the top of extend_attention.cu and decode_attention.cu.
/// </summary>
internal sealed class SharedPrefixPlanner
{
    /// <summary>Shared prefixes are rounded down to whole key tiles of the kernel (EA_BLOCK_N), so no chunk needs a mask.</summary>
    public const int TokenAlign = AttentionKernels.ExtendBlockN;
    /// <summary>Fewest shared tokens that earn a request a place in a tile.</summary>
    public const int MinPrefixTokens = 256;
    /// <summary>Fewest tokens of one work item's chunk.</summary>
    public const int MinChunkTokens = 256;
    /// <summary>A step uses cascade attention only when it saves reading at least this many tokens' K/V per layer (each
    /// tile saves its requests but one times its prefix): fewer cost less than the extra launch per layer.</summary>
    public const int MinSavedTokens = 4096;

    private readonly int _tileRequests, _targetItems, _maxChunks;
    private int[] _keys = [], _order = [], _shared = [], _tilePrefix = [];

    /// <param name="tileRequests">Requests per tile (the kernel's SP_TILE_REQUESTS).</param>
    /// <param name="targetItems">Work items per kv head that fill the GPU; each tile's prefix is cut into about
    /// targetItems / tiles chunks.</param>
    /// <param name="maxChunks">Most chunks (partial states) per request (decode_attention's DA_MAX_PREFIX_CHUNKS).</param>
    public SharedPrefixPlanner(int tileRequests, int targetItems, int maxChunks)
    {
        if (tileRequests <= 0 || targetItems <= 0 || maxChunks <= 0)
            throw new ArgumentOutOfRangeException(nameof(tileRequests), $"Tile requests ({tileRequests}), target items ({targetItems}) and max chunks ({maxChunks}) must be positive.");
        (_tileRequests, _targetItems, _maxChunks) = (tileRequests, targetItems, maxChunks);
    }

    /// <summary>Entries of the tiles input for <paramref name="rows"/> batch rows (at most one tile per row).</summary>
    public int TilesCapacity(int rows) => rows * _tileRequests;

    /// <summary>Most work items a plan for <paramref name="rows"/> batch rows can have (every row its own tile, each cut
    /// into the most chunks).</summary>
    public int MaxItems(int rows) => rows * _maxChunks;

    /// <summary>Entries of the work input for <paramref name="rows"/> batch rows: the count, padding to 16 bytes, and
    /// four per item.</summary>
    public int WorkCapacity(int rows) => 4 + 4 * MaxItems(rows);

    /// <summary>
    /// Plans the step. Writes each row's shared prefix length and chunk count (zero where it takes no part), the tiles
    /// (batch rows, -1 after a tile's last) and the work items ([0] = count, from [4] {tile, chunk, start, end} each).
    /// Returns the number of work items; 0 means no cascade this step, with every prefix length and chunk count zero.
    /// </summary>
    public int Plan(ReadOnlySpan<int> reqPoolIndices, ReadOnlySpan<int> seqLens, ReqToTokenPool pool,
                    Span<int> prefixLens, Span<int> prefixChunks, Span<int> tiles, Span<int> work, out int tileCount)
    {
        var n = reqPoolIndices.Length;
        tileCount = 0;
        prefixLens[..n].Clear();
        prefixChunks[..n].Clear();
        work[..4].Clear();
        if (n < 2) return 0;
        Grow(n);

        // Requests sharing a prefix share the slot of position 0: sort rows by it, then look at each run.
        for (var i = 0; i < n; i++)
        {
            _keys[i] = seqLens[i] > MinPrefixTokens ? pool.ReadRow(reqPoolIndices[i], 1)[0] : -1 - i; // too short: alone
            _order[i] = i;
        }
        Array.Sort(_keys, _order, 0, n);

        long saved = 0;
        for (var s = 0; s < n;)
        {
            var e = s + 1;
            while (e < n && _keys[e] == _keys[s]) e++;
            if (_keys[s] >= 0 && e - s >= 2) tileCount = PlanRun(s, e, reqPoolIndices, seqLens, pool, prefixLens, tiles, tileCount, ref saved);
            s = e;
        }
        if (saved < MinSavedTokens)
        {
            prefixLens[..n].Clear();
            tileCount = 0;
            return 0;
        }

        // Chunks: about targetItems work items over all tiles, none shorter than MinChunkTokens.
        var chunksPerTile = Math.Clamp((_targetItems + tileCount - 1) / tileCount, 1, _maxChunks);
        var items = 0;
        for (var t = 0; t < tileCount; t++)
        {
            var prefix = _tilePrefix[t];
            var chunks = Math.Min(chunksPerTile, Math.Max(1, prefix / MinChunkTokens));
            var chunk = ((prefix + chunks - 1) / chunks + TokenAlign - 1) / TokenAlign * TokenAlign;
            chunks = (prefix + chunk - 1) / chunk;
            for (var c = 0; c < chunks; c++)
            {
                var item = work.Slice(4 + 4 * items++, 4);
                item[0] = t; item[1] = c; item[2] = c * chunk; item[3] = Math.Min(prefix, (c + 1) * chunk);
            }
            for (var j = 0; j < _tileRequests && tiles[t * _tileRequests + j] >= 0; j++) prefixChunks[tiles[t * _tileRequests + j]] = chunks;
        }
        work[0] = items;
        return items;
    }

    /// <summary>Tiles for the rows _order[s..e), which share position 0's slot: each row's shared length with the run's
    /// first row, the rows sharing at least MinPrefixTokens in tiles of similar length (longest first), a tile's
    /// prefix the shortest of its rows'. Returns the new tile count.</summary>
    private int PlanRun(int s, int e, ReadOnlySpan<int> reqPoolIndices, ReadOnlySpan<int> seqLens, ReqToTokenPool pool,
                        Span<int> prefixLens, Span<int> tiles, int tileCount, ref long saved)
    {
        var leader = _order[s];
        // Every request attends to at least its newest token itself: at most seq_len - 1 tokens are shared.
        var leaderRow = pool.ReadRow(reqPoolIndices[leader], seqLens[leader] - 1);
        for (var k = s; k < e; k++)
        {
            var row = _order[k];
            var length = Math.Min(seqLens[row] - 1, leaderRow.Length);
            var shared = row == leader ? length : leaderRow[..length].CommonPrefixLength(pool.ReadRow(reqPoolIndices[row], length));
            _shared[k] = -(shared / TokenAlign * TokenAlign); // negated: the sort below puts the longest first
        }
        Array.Sort(_shared, _order, s, e - s);
        var eligible = 0;
        while (s + eligible < e && -_shared[s + eligible] >= MinPrefixTokens) eligible++;
        if (eligible < 2) return tileCount;

        var runTiles = (eligible + _tileRequests - 1) / _tileRequests;
        for (var t = 0; t < runTiles; t++)
        {
            var (first, last) = (s + t * eligible / runTiles, s + (t + 1) * eligible / runTiles); // balanced: sizes differ by at most one
            var prefix = -_shared[last - 1];
            var tile = tiles.Slice(tileCount * _tileRequests, _tileRequests);
            tile.Fill(-1);
            for (var k = first; k < last; k++)
            {
                tile[k - first] = _order[k];
                prefixLens[_order[k]] = prefix;
            }
            _tilePrefix[tileCount++] = prefix;
            saved += (long)(last - first - 1) * prefix;
        }
        return tileCount;
    }

    private void Grow(int n)
    {
        if (_keys.Length >= n) return;
        _keys = new int[n];
        _order = new int[n];
        _shared = new int[n];
        _tilePrefix = new int[n];
    }
}
