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
        TensorPrimitives.SoftMax(probs, probs);

        bool filter = (p.TopK > 0 && p.TopK < v) || p.TopP < 1f || p.MinP > 0f;
        if (!filter) return Categorical(probs, rng.NextDouble());

        // Sort descending by probability (stable on index for ties so results do not depend on the sort).
        for (int i = 0; i < v; i++) { _sortIdx[i] = i; _sortKeys[i] = -probs[i]; }
        Array.Sort(_sortKeys, _sortIdx);
        int k = p.TopK > 0 ? Math.Min(p.TopK, v) : v;
        // top-p: drop a token when the mass strictly before it already exceeds top_p (so the first always stays).
        double before = 0;
        int kept = 0;
        for (int i = 0; i < k; i++)
        {
            float pr = -_sortKeys[i];
            if (before > p.TopP) break;
            before += pr;
            kept++;
        }
        if (p.MinP > 0f)
        {
            float threshold = -_sortKeys[0] * p.MinP;
            int n = 0;
            while (n < kept && -_sortKeys[n] >= threshold) n++;
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

    private static int ArgMax(ReadOnlySpan<float> x)
    {
        int best = 0;
        for (int i = 1; i < x.Length; i++) if (x[i] > x[best]) best = i;
        return best;
    }

    private static float LogSumExp(ReadOnlySpan<float> x)
    {
        float max = TensorPrimitives.Max(x);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) sum += Math.Exp(x[i] - max);
        return max + (float)Math.Log(sum);
    }

    private static void TopK(ReadOnlySpan<float> raw, int n, float lse, List<TokenLogprob> dst)
    {
        // n <= 20: a small insertion-sorted window beats sorting the vocabulary.
        dst.Clear();
        for (int i = 0; i < raw.Length; i++)
        {
            float lp = raw[i] - lse;
            if (dst.Count == n && lp <= dst[n - 1].Logprob) continue;
            int at = dst.Count;
            while (at > 0 && dst[at - 1].Logprob < lp) at--;
            if (dst.Count == n) dst.RemoveAt(n - 1);
            dst.Insert(at, new TokenLogprob(i, lp));
        }
    }
}
