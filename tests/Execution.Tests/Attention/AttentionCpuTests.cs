using Compiler.Runtime.Cpu;

namespace Execution.Tests.Attention;

public sealed class AttentionCpuTests
{
    // fp32 twin vs double reference on O(1) data: rounding stays far below this; any indexing slip is O(0.1).
    private const double Tolerance = 2e-5;

    [Theory]
    [InlineData(4, 4, 16, new[] { 1 })]                 // MHA, a single cached token
    [InlineData(4, 2, 16, new[] { 17, 1, 5 })]          // GQA 2, odd lengths
    [InlineData(8, 2, 32, new[] { 33, 129, 2, 64 })]    // GQA 4
    [InlineData(16, 8, 128, new[] { 77, 200 })]         // Qwen3-0.6B heads
    [InlineData(32, 8, 128, new[] { 45 })]              // Llama-3.1-8B heads
    public void Decode_matches_naive_attention(int heads, int kvHeads, int dim, int[] seqLens)
    {
        var p = AttentionProblem.Create(heads, kvHeads, dim, seqLens.Select(s => s - 1).ToArray(),
            seqLens.Select(_ => 1).ToArray(), seed: heads * 1000 + seqLens.Sum());
        var o = new float[p.Batch * p.RowSize];

        new AttentionCpu(heads, kvHeads, dim).Decode(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride,
            p.ReqPoolIndices, seqLens, o);

        AssertClose(NaiveAttention.Extend(p), o);
    }

    [Theory]
    [InlineData(4, 4, 16, new[] { 0 }, new[] { 1 })]
    [InlineData(4, 2, 16, new[] { 0, 0 }, new[] { 13, 64 })]            // plain prefill, odd length
    [InlineData(4, 2, 32, new[] { 77, 5 }, new[] { 31, 1 })]            // chunked prefill + a decode-like row
    [InlineData(8, 2, 32, new[] { 0, 3, 19 }, new[] { 65, 1, 2 })]      // GQA 4, mixed batch
    [InlineData(16, 8, 128, new[] { 77 }, new[] { 40 })]                // Qwen3 heads with a prefix
    [InlineData(32, 8, 128, new[] { 0, 9 }, new[] { 23, 7 })]           // Llama heads
    public void Extend_matches_naive_causal_attention_with_prefix(int heads, int kvHeads, int dim, int[] prefixLens, int[] extendLens)
    {
        var p = AttentionProblem.Create(heads, kvHeads, dim, prefixLens, extendLens, seed: 7 + prefixLens.Sum() * 31 + extendLens.Sum());
        var o = new float[p.QoIndptr[^1] * p.RowSize];

        new AttentionCpu(heads, kvHeads, dim).Extend(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride,
            p.QoIndptr, p.ReqPoolIndices, p.PrefixLens, o);

        AssertClose(NaiveAttention.Extend(p), o);
    }

    [Fact]
    public void Extend_of_one_token_equals_decode()
    {
        var p = AttentionProblem.Create(8, 2, 32, [40, 0, 6], [1, 1, 1], seed: 3);
        var attention = new AttentionCpu(8, 2, 32);
        var viaExtend = new float[p.Batch * p.RowSize];
        var viaDecode = new float[p.Batch * p.RowSize];

        attention.Extend(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.QoIndptr, p.ReqPoolIndices, p.PrefixLens, viaExtend);
        attention.Decode(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.ReqPoolIndices, p.SeqLens, viaDecode);

        Assert.Equal(viaExtend, viaDecode);
    }

    [Fact]
    public void Extend_rows_do_not_see_later_tokens_but_see_the_whole_prefix()
    {
        const int prefix = 10, extend = 8, probe = 3; // new token 3 sits at position 13
        var p = AttentionProblem.Create(4, 2, 16, [prefix], [extend], seed: 11);
        var attention = new AttentionCpu(4, 2, 16);
        var before = new float[extend * p.RowSize];
        attention.Extend(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.QoIndptr, p.ReqPoolIndices, p.PrefixLens, before);

        // Change the value of the token right after the probe row (position 14): rows 0..3 must not move.
        var future = p.Slot(0, prefix + probe + 1) * p.NumKvHeads * p.HeadDim;
        for (var x = 0; x < p.NumKvHeads * p.HeadDim; x++)
            p.VCache[future + x] += 5f;
        var after = new float[extend * p.RowSize];
        attention.Extend(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.QoIndptr, p.ReqPoolIndices, p.PrefixLens, after);

        var rowsUpToProbe = (probe + 1) * p.RowSize;
        Assert.Equal(before.AsSpan(0, rowsUpToProbe).ToArray(), after.AsSpan(0, rowsUpToProbe).ToArray());
        Assert.NotEqual(before.AsSpan(rowsUpToProbe, p.RowSize).ToArray(), after.AsSpan(rowsUpToProbe, p.RowSize).ToArray());

        // Change the first prefix token: every new row attends to it.
        var first = p.Slot(0, 0) * p.NumKvHeads * p.HeadDim;
        for (var x = 0; x < p.NumKvHeads * p.HeadDim; x++)
            p.VCache[first + x] += 5f;
        var afterPrefix = new float[extend * p.RowSize];
        attention.Extend(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.QoIndptr, p.ReqPoolIndices, p.PrefixLens, afterPrefix);
        for (var row = 0; row < extend; row++)
            Assert.NotEqual(after.AsSpan(row * p.RowSize, p.RowSize).ToArray(), afterPrefix.AsSpan(row * p.RowSize, p.RowSize).ToArray());
    }

    [Fact]
    public void Decode_with_huge_logits_stays_finite_and_picks_the_best_key()
    {
        // Logits around 1e4: a softmax without max subtraction overflows to inf / NaN.
        var p = AttentionProblem.Create(4, 2, 16, [50], [1], seed: 5, qScale: 4000f);
        var o = new float[p.RowSize];
        new AttentionCpu(4, 2, 16).Decode(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.ReqPoolIndices, p.SeqLens, o);

        Assert.All(o, x => Assert.True(float.IsFinite(x)));
        AssertClose(NaiveAttention.Extend(p), o);
    }

    [Fact]
    public void Decode_of_an_empty_sequence_writes_zeros()
    {
        var p = AttentionProblem.Create(4, 2, 16, [3], [1], seed: 2);
        var o = Enumerable.Repeat(float.NaN, p.RowSize).ToArray();
        new AttentionCpu(4, 2, 16).Decode(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.ReqPoolIndices, [0], o);
        Assert.All(o, x => Assert.Equal(0f, x));
    }

    [Fact]
    public void Slots_outside_the_cache_are_reported_with_the_position()
    {
        var p = AttentionProblem.Create(4, 2, 16, [4], [1], seed: 9);
        var attention = new AttentionCpu(4, 2, 16);
        var o = new float[p.RowSize];
        // seq_len 6 reads position 5, which req_to_token leaves unset (-1).
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            attention.Decode(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride, p.ReqPoolIndices, [6], o));
        Assert.Contains("position 5", ex.Message);
    }

    [Fact]
    public void Mismatched_shapes_are_rejected()
    {
        var p = AttentionProblem.Create(4, 2, 16, [4, 2], [3, 1], seed: 1);
        var attention = new AttentionCpu(4, 2, 16);
        var o = new float[p.QoIndptr[^1] * p.RowSize];
        Assert.Throws<ArgumentException>(() => attention.Extend(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride,
            p.QoIndptr.AsSpan(0, 2), p.ReqPoolIndices, p.PrefixLens, o));
        Assert.Throws<ArgumentException>(() => attention.Extend(p.Q, p.KCache, p.VCache, p.ReqToToken, p.Stride,
            p.QoIndptr, p.ReqPoolIndices, p.PrefixLens, o.AsSpan(1)));
        Assert.Throws<ArgumentException>(() => attention.Decode(p.Q, p.KCache, p.VCache.AsSpan(16), p.ReqToToken,
            p.Stride, p.ReqPoolIndices, p.SeqLens, o));
        Assert.Throws<ArgumentException>(() => new AttentionCpu(6, 4, 16));
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        var worst = 0.0;
        var worstAt = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            var err = Math.Abs(expected[i] - actual[i]);
            if (!(err <= worst)) // NaN counts as worst
            {
                worst = err;
                worstAt = i;
            }
        }
        Assert.True(worst <= Tolerance * Math.Max(1, Math.Abs(expected[Math.Max(0, worstAt)])),
            $"max |error| {worst:E3} at element {worstAt} (expected {(worstAt >= 0 ? expected[worstAt] : 0):F6}, got {(worstAt >= 0 ? actual[worstAt] : 0):F6})");
    }
}
