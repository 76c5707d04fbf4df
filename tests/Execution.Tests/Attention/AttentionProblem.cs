namespace Execution.Tests.Attention;

/// <summary>
/// A random attention problem in the engine's layout: a token-granular KV pool whose slots are a random permutation
/// (so a request's tokens are not contiguous), req_to_token rows at shuffled pool indices, unused entries -1.
/// </summary>
internal sealed class AttentionProblem
{
    public required int NumHeads { get; init; }
    public required int NumKvHeads { get; init; }
    public required int HeadDim { get; init; }
    public required int[] PrefixLens { get; init; }
    public required int[] ExtendLens { get; init; }
    public required int[] QoIndptr { get; init; }
    public required int[] ReqPoolIndices { get; init; }
    public required int[] ReqToToken { get; init; }
    public required int Stride { get; init; }
    public required float[] Q { get; init; }
    public required float[] KCache { get; init; }
    public required float[] VCache { get; init; }

    public int Batch => PrefixLens.Length;
    public int RowSize => NumHeads * HeadDim;
    public int[] SeqLens => PrefixLens.Select((p, i) => p + ExtendLens[i]).ToArray();

    public static AttentionProblem Create(int numHeads, int numKvHeads, int headDim, int[] prefixLens, int[] extendLens,
        int seed, float qScale = 1.5f)
    {
        var rng = new Random(seed);
        var batch = prefixLens.Length;
        var kvLens = prefixLens.Select((p, i) => p + extendLens[i]).ToArray();
        var stride = kvLens.Max() + 3;
        var poolRows = batch + 2;
        var pool = Enumerable.Range(0, poolRows).OrderBy(_ => rng.Next()).Take(batch).ToArray();
        var numSlots = kvLens.Sum() + 5;
        var slots = Enumerable.Range(0, numSlots).OrderBy(_ => rng.Next()).ToArray();
        var reqToToken = Enumerable.Repeat(-1, poolRows * stride).ToArray();
        var next = 0;
        for (var b = 0; b < batch; b++)
            for (var pos = 0; pos < kvLens[b]; pos++)
                reqToToken[pool[b] * stride + pos] = slots[next++];
        var qoIndptr = new int[batch + 1];
        for (var b = 0; b < batch; b++)
            qoIndptr[b + 1] = qoIndptr[b] + extendLens[b];
        return new AttentionProblem
        {
            NumHeads = numHeads,
            NumKvHeads = numKvHeads,
            HeadDim = headDim,
            PrefixLens = prefixLens,
            ExtendLens = extendLens,
            QoIndptr = qoIndptr,
            ReqPoolIndices = pool,
            ReqToToken = reqToToken,
            Stride = stride,
            Q = Gaussian(rng, qoIndptr[batch] * numHeads * headDim, qScale),
            KCache = Gaussian(rng, numSlots * numKvHeads * headDim, 1f),
            VCache = Gaussian(rng, numSlots * numKvHeads * headDim, 1f),
        };
    }

    /// <summary>Slot of position pos of request b.</summary>
    public int Slot(int b, int pos) => ReqToToken[ReqPoolIndices[b] * Stride + pos];

    private static float[] Gaussian(Random rng, int n, float scale)
    {
        var x = new float[n];
        for (var i = 0; i < n; i++)
            x[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble())) * scale;
        return x;
    }
}
