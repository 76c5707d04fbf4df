using Compiler.Runtime.Kernels;
using Compiler.Runtime.Memory;

namespace Execution.Tests.Attention;

/// <summary>The host's half of cascade decode attention: which requests share a prefix, the tiles, and the work items
/// the kernels read (their contract is written at the top of extend_attention.cu and decode_attention.cu).</summary>
public sealed class SharedPrefixPlannerTests
{
    private const int Context = 4096, TileRequests = 32, TargetItems = 66;

    /// <summary>A decode batch over a request table: each request's slots, then the planner's outputs.</summary>
    private sealed class Batch
    {
        private readonly ReqToTokenPool _pool = new(64, Context);
        private readonly List<int> _requests = [], _seqLens = [];
        private int _nextSlot = 1;

        /// <summary>A request of <paramref name="seqLen"/> tokens whose first <paramref name="shared"/> are row
        /// <paramref name="from"/>'s slots; returns its batch row.</summary>
        public int Add(int seqLen, int from = -1, int shared = 0)
        {
            var req = _pool.Alloc();
            var row = _pool.Row(req);
            for (var p = 0; p < seqLen; p++) row[p] = p < shared ? _pool.Row(_requests[from])[p] : _nextSlot++;
            _requests.Add(req);
            _seqLens.Add(seqLen);
            return _requests.Count - 1;
        }

        public int[] PrefixLens = [], PrefixChunks = [], Tiles = [], Work = [];
        public int TileCount;

        public int Plan(SharedPrefixPlanner planner)
        {
            var n = _requests.Count;
            (PrefixLens, PrefixChunks, Tiles, Work) = (new int[n], new int[n], new int[planner.TilesCapacity(n)], new int[planner.WorkCapacity(n)]);
            PrefixLens.AsSpan().Fill(-7); // stale values from a previous step must not survive
            var items = planner.Plan(_requests.ToArray(), _seqLens.ToArray(), _pool, PrefixLens, PrefixChunks, Tiles, Work, out TileCount);
            Assert.Equal(items, Work[0]);
            return items;
        }

        public IEnumerable<int> TileRows(int tile) => Tiles.Skip(tile * TileRequests).Take(TileRequests).TakeWhile(r => r >= 0);

        /// <summary>Work items as (tile, chunk, start, end).</summary>
        public IEnumerable<(int Tile, int Chunk, int Start, int End)> Items() =>
            Enumerable.Range(0, Work[0]).Select(i => (Work[4 + 4 * i], Work[5 + 4 * i], Work[6 + 4 * i], Work[7 + 4 * i]));
    }

    private static SharedPrefixPlanner NewPlanner() => new(TileRequests, TargetItems, AttentionKernels.DecodeMaxPrefixChunks);

    [Fact]
    public void Requests_sharing_a_prefix_form_one_tile_whose_chunks_cover_the_prefix_in_whole_key_tiles()
    {
        var batch = new Batch();
        var leader = batch.Add(620);
        var rows = Enumerable.Range(0, 9).Select(i => batch.Add(620 + 5 * i, leader, 600)).Prepend(leader).ToArray();
        var alone = batch.Add(900);

        Assert.True(batch.Plan(NewPlanner()) > 0);

        Assert.Equal(1, batch.TileCount);
        Assert.Equal(rows.Order(), batch.TileRows(0).Order());
        foreach (var r in rows) Assert.Equal(576, batch.PrefixLens[r]); // 600 shared, rounded down to 64s
        Assert.Equal(0, batch.PrefixLens[alone]);
        Assert.Equal(0, batch.PrefixChunks[alone]);
        var items = batch.Items().ToList();
        Assert.All(rows, r => Assert.Equal(items.Count, batch.PrefixChunks[r]));
        Assert.Equal(Enumerable.Range(0, items.Count), items.Select(i => i.Chunk));
        Assert.Equal(0, items[0].Start);
        Assert.Equal(576, items[^1].End);
        for (var i = 0; i < items.Count; i++)
        {
            Assert.Equal(0, items[i].Tile);
            Assert.Equal(0, items[i].Start % SharedPrefixPlanner.TokenAlign);
            Assert.True(items[i].End - items[i].Start >= SharedPrefixPlanner.MinChunkTokens || i == items.Count - 1);
            if (i > 0) Assert.Equal(items[i - 1].End, items[i].Start);
        }
    }

    [Fact]
    public void A_step_that_would_save_too_little_plans_nothing()
    {
        var batch = new Batch();
        var leader = batch.Add(1000);
        batch.Add(1000, leader, 900); // one other request: saves 896 tokens per layer, under MinSavedTokens
        batch.Add(300);

        Assert.Equal(0, batch.Plan(NewPlanner()));
        Assert.Equal(0, batch.TileCount);
        Assert.All(batch.PrefixLens, p => Assert.Equal(0, p));
        Assert.All(batch.PrefixChunks, c => Assert.Equal(0, c));
    }

    [Fact]
    public void A_request_never_shares_its_newest_token_and_one_that_diverges_early_stays_out()
    {
        var batch = new Batch();
        var leader = batch.Add(1025); // its prompt is the others' prefix: it shares 1024 tokens, never its own newest
        var rows = Enumerable.Range(0, 8).Select(_ => batch.Add(1500, leader, 1025)).ToArray();
        var early = batch.Add(1500, leader, 200); // shares slot 0, but fewer than MinPrefixTokens

        Assert.True(batch.Plan(NewPlanner()) > 0);

        Assert.Equal(rows.Prepend(leader).Order(), batch.TileRows(0).Order());
        Assert.Equal(1024, batch.PrefixLens[leader]);
        Assert.All(rows, r => Assert.Equal(1024, batch.PrefixLens[r]));
        Assert.Equal(0, batch.PrefixLens[early]);
    }

    [Fact]
    public void Large_groups_split_into_balanced_tiles_with_the_longest_shares_together()
    {
        var batch = new Batch();
        var leader = batch.Add(3000);
        var longShare = Enumerable.Range(0, 30).Select(_ => batch.Add(3000, leader, 2500)).ToList();
        var shortShare = Enumerable.Range(0, 9).Select(_ => batch.Add(3000, leader, 700)).ToList();

        Assert.True(batch.Plan(NewPlanner()) > 0);

        Assert.Equal(2, batch.TileCount); // 40 requests in tiles of up to 32: 20 and 20
        Assert.Equal([20, 20], new[] { batch.TileRows(0).Count(), batch.TileRows(1).Count() });
        // The longest shares fill the first tile; the second takes the rest of them with the short ones.
        var longTile = Enumerable.Range(0, batch.PrefixLens.Length).Where(r => batch.PrefixLens[r] == 2496).ToList();
        Assert.Equal(20, longTile.Count);
        Assert.Subset(longShare.Prepend(leader).ToHashSet(), longTile.ToHashSet());
        Assert.All(shortShare, r => Assert.Equal(640, batch.PrefixLens[r]));
        Assert.Equal(20, batch.PrefixLens.Count(p => p == 640));
        // A tile's prefix is the shortest share among its requests, so every request of it really shares those slots.
        for (var t = 0; t < batch.TileCount; t++)
        {
            var prefix = batch.TileRows(t).Min(r => batch.PrefixLens[r]);
            Assert.All(batch.TileRows(t), r => Assert.Equal(prefix, batch.PrefixLens[r]));
            Assert.Equal(prefix, batch.Items().Where(i => i.Tile == t).Max(i => i.End));
        }
        Assert.InRange(batch.Items().Count(), 2, 2 * AttentionKernels.DecodeMaxPrefixChunks);
    }

    [Fact]
    public void Separate_prefixes_make_separate_tiles_and_a_lone_request_stays_out()
    {
        var batch = new Batch();
        var a = batch.Add(2100);
        var groupA = Enumerable.Range(0, 4).Select(_ => batch.Add(2200, a, 2048)).Prepend(a).ToArray();
        var b = batch.Add(1300);
        var groupB = Enumerable.Range(0, 4).Select(_ => batch.Add(1400, b, 1280)).Prepend(b).ToArray();
        var lone = batch.Add(5);

        Assert.True(batch.Plan(NewPlanner()) > 0);

        Assert.Equal(2, batch.TileCount);
        var tiles = Enumerable.Range(0, 2).Select(t => batch.TileRows(t).Order().ToArray()).OrderBy(t => t[0]).ToArray();
        Assert.Equal(groupA.Order(), tiles[0]);
        Assert.Equal(groupB.Order(), tiles[1]);
        Assert.All(groupA, r => Assert.Equal(2048, batch.PrefixLens[r]));
        Assert.All(groupB, r => Assert.Equal(1280, batch.PrefixLens[r]));
        Assert.Equal(0, batch.PrefixLens[lone]);
        // About TargetItems items in all, at most DecodeMaxPrefixChunks per tile, none shorter than MinChunkTokens.
        Assert.All(Enumerable.Range(0, 2), t => Assert.InRange(batch.Items().Count(i => i.Tile == t), 1, AttentionKernels.DecodeMaxPrefixChunks));
        Assert.All(batch.Items(), i => Assert.True(i.End - i.Start >= SharedPrefixPlanner.MinChunkTokens));
    }
}
