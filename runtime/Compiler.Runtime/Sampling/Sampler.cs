using System.Numerics.Tensors;

namespace Compiler.Runtime.Sampling;

/// <summary>
/// CPU reference sampler, one logits row at a time: penalties -> temperature -> softmax -> top-k -> top-p -> min-p
/// -> draw with the request's own RNG (SGLang's torch-native top_k_top_p_min_p path). Reuses its scratch buffers,
/// so sampling allocates nothing unless top logprobs are requested.
/// </summary>
internal sealed class Sampler
{
    private readonly float[] _raw;
    private readonly float[] _probs;
    private readonly float[] _sortKeys;
    private readonly int[] _sortIdx;

    public Sampler(int vocabSize)
    {
        if (vocabSize <= 0) throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, "Sampler needs a positive vocabulary size.");
        VocabSize = vocabSize;
        _raw = new float[vocabSize];
        _probs = new float[vocabSize];
        _sortKeys = new float[vocabSize];
        _sortIdx = new int[vocabSize];
    }

    public int VocabSize { get; }
    /// <summary>How many tokens the last filtered draw had to sort (diagnostics and tests).</summary>
    public int LastSortedCandidates { get; private set; }

    /// <summary>
    /// Samples one token from <paramref name="logits"/> (modified in place). Logprobs are of the raw distribution,
    /// as the OpenAI API reports them; <paramref name="topLogprobs"/> receives p.TopLogprobs alternatives if non-null.
    /// </summary>
    public SampleResult Sample(Span<float> logits, SamplingParams p, SamplingRng rng, PenaltyState? penalties, List<TokenLogprob>? topLogprobs = null)
    {
        if (logits.Length != VocabSize) throw new ArgumentException($"Sampler: logits row has {logits.Length} entries, vocabulary is {VocabSize}.");
        bool wantLogprob = p.Logprobs || p.TopLogprobs > 0;
        float lse = 0;
        if (wantLogprob)
        {
            logits.CopyTo(_raw);
            lse = LogSumExp(_raw);
        }
        if (penalties != null && p.HasPenalties) penalties.Apply(logits, p);

        int token = p.IsGreedy ? ArgMax(logits) : Draw(logits, p, rng);
        float logprob = wantLogprob ? _raw[token] - lse : 0f;
        if (topLogprobs != null && p.TopLogprobs > 0) TopK(_raw, p.TopLogprobs, lse, topLogprobs);
        return new SampleResult(token, logprob);
    }

    private int Draw(Span<float> logits, SamplingParams p, SamplingRng rng)
    {
        int v = VocabSize;
        Span<float> probs = _probs;
        TensorPrimitives.Multiply(logits, 1f / p.Temperature, probs);
        // Stable softmax: TensorPrimitives.SoftMax does not subtract the max, and logits / small T overflow exp.
        TensorPrimitives.Subtract(probs, TensorPrimitives.Max((ReadOnlySpan<float>)probs), probs);
        TensorPrimitives.Exp(probs, probs);
        TensorPrimitives.Divide(probs, TensorPrimitives.Sum((ReadOnlySpan<float>)probs), probs);

        bool filter = (p.TopK > 0 && p.TopK < v) || p.TopP < 1f || p.MinP > 0f;
        if (!filter) return Categorical(probs, rng.NextDouble());

        // Only sort tokens that can survive. Exact pre-filters: min-p drops p < max * min_p; top-p drops every
        // token below (1 - top_p) / (2V), because all such tokens together hold less than 1 - top_p, so the mass
        // sorted before any of them already exceeds top_p. Real distributions leave a few hundred candidates.
        float maxProb = TensorPrimitives.Max((ReadOnlySpan<float>)probs);
        float threshold = 0f;
        if (p.TopP < 1f) threshold = (1f - p.TopP) / (2f * v);
        if (p.MinP > 0f) threshold = Math.Max(threshold, maxProb * p.MinP);
        int m = 0;
        for (int i = 0; i < v; i++)
        {
            if (probs[i] < threshold) continue;
            _sortIdx[m] = i;
            _sortKeys[m++] = -probs[i];
        }
        int k = p.TopK > 0 ? Math.Min(p.TopK, m) : m;
        if (k < m / 2) m = SelectTopK(k, m); // O(m log k) instead of sorting all candidates
        Array.Sort(_sortKeys, _sortIdx, 0, m);
        LastSortedCandidates = m;

        // top-p: drop a token when the mass strictly before it already exceeds top_p (so the first always stays).
        double before = 0;
        int kept = 0;
        for (int i = 0; i < k; i++)
        {
            if (before > p.TopP) break;
            before += -_sortKeys[i];
            kept++;
        }
        if (p.MinP > 0f)
        {
            float minKeep = maxProb * p.MinP;
            int n = 0;
            while (n < kept && -_sortKeys[n] >= minKeep) n++;
            kept = n;
        }
        double total = 0;
        for (int i = 0; i < kept; i++) total += -_sortKeys[i];
        double u = rng.NextDouble() * total, acc = 0;
        for (int i = 0; i < kept; i++)
        {
            acc += -_sortKeys[i];
            if (u < acc) return _sortIdx[i];
        }
        return _sortIdx[kept - 1];
    }

    /// <summary>
    /// Moves the k candidates with the smallest keys (highest probabilities) of [0, m) to [0, k) using a max-heap
    /// on the key over the first k slots; returns k.
    /// </summary>
    private int SelectTopK(int k, int m)
    {
        float[] key = _sortKeys;
        int[] idx = _sortIdx;
        for (int i = k / 2 - 1; i >= 0; i--) SiftDown(key, idx, i, k);
        for (int i = k; i < m; i++)
        {
            if (key[i] >= key[0]) continue; // not better than the worst kept
            key[0] = key[i];
            idx[0] = idx[i];
            SiftDown(key, idx, 0, k);
        }
        return k;
    }

    private static void SiftDown(float[] key, int[] idx, int i, int n)
    {
        while (true)
        {
            int l = 2 * i + 1, r = l + 1, largest = i;
            if (l < n && key[l] > key[largest]) largest = l;
            if (r < n && key[r] > key[largest]) largest = r;
            if (largest == i) return;
            (key[i], key[largest]) = (key[largest], key[i]);
            (idx[i], idx[largest]) = (idx[largest], idx[i]);
            i = largest;
        }
    }

    private static int Categorical(ReadOnlySpan<float> probs, double u)
    {
        double acc = 0;
        int last = 0;
        for (int i = 0; i < probs.Length; i++)
        {
            if (probs[i] <= 0) continue;
            acc += probs[i];
            last = i;
            if (u < acc) return i;
        }
        return last; // rounding left u just above the total mass
    }

    internal static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    /// <summary>log(sum(exp(x))), stable; x[i] - LogSumExp(x) is token i's log-probability.</summary>
    internal static float LogSumExp(ReadOnlySpan<float> x)
    {
        float max = TensorPrimitives.Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += Math.Exp(x[i] - max);
        return max + (float)Math.Log(sum);
    }

    private static void TopK(ReadOnlySpan<float> raw, int n, float lse, List<TokenLogprob> dst)
    {
        Span<int> ids = n <= 64 ? stackalloc int[n] : new int[n];
        Span<float> values = n <= 64 ? stackalloc float[n] : new float[n];
        int found = TopLogprobs(raw, lse, ids, values);
        dst.Clear();
        for (int i = 0; i < found; i++) dst.Add(new TokenLogprob(ids[i], values[i]));
    }

    /// <summary>
    /// The ids.Length most likely tokens of a logits row, best first (ties: lower id first), as log-probabilities
    /// (row[v] - lse); returns how many were found, the rest of ids / values padded with -1 / -inf (a vocabulary
    /// smaller than k). k is small (top_logprobs &lt;= 20): an insertion-sorted window beats sorting the vocabulary.
    /// </summary>
    internal static int TopLogprobs(ReadOnlySpan<float> row, float lse, Span<int> ids, Span<float> values)
    {
        int k = ids.Length, n = 0;
        for (int v = 0; v < row.Length; v++)
        {
            float lp = row[v] - lse;
            if (n == k && !(lp > values[k - 1])) continue;
            int at = n < k ? n++ : k - 1;
            while (at > 0 && values[at - 1] < lp)
            {
                values[at] = values[at - 1];
                ids[at] = ids[at - 1];
                at--;
            }
            values[at] = lp;
            ids[at] = v;
        }
        for (int i = n; i < k; i++) (ids[i], values[i]) = (-1, float.NegativeInfinity);
        return n;
    }
}
