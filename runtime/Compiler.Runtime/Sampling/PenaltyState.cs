namespace Compiler.Runtime.Sampling;

/// <summary>
/// What a request's penalties need: counts of generated tokens and (for the repetition penalty) the set of prompt
/// tokens. Definitions follow vLLM: frequency/presence act on generated tokens only; repetition on prompt and output.
/// </summary>
internal sealed class PenaltyState
{
    private readonly HashSet<int>? _promptTokens;

    public PenaltyState(ReadOnlySpan<int> prompt, SamplingParams p)
    {
        if (p.RepetitionPenalty != 1.0f)
        {
            _promptTokens = new HashSet<int>(prompt.Length);
            foreach (int t in prompt) _promptTokens.Add(t);
        }
    }

    public Dictionary<int, int> OutputCounts { get; } = new();

    public void Observe(int token) => OutputCounts[token] = OutputCounts.GetValueOrDefault(token) + 1;

    public void Apply(Span<float> logits, SamplingParams p)
    {
        float rep = p.RepetitionPenalty;
        if (rep != 1.0f)
        {
            if (_promptTokens != null)
                foreach (int t in _promptTokens) logits[t] = Repeat(logits[t], rep);
            foreach (int t in OutputCounts.Keys)
                if (_promptTokens == null || !_promptTokens.Contains(t)) logits[t] = Repeat(logits[t], rep);
        }
        float freq = p.FrequencyPenalty, pres = p.PresencePenalty;
        if (freq != 0 || pres != 0)
            foreach (var (t, count) in OutputCounts) logits[t] -= freq * count + pres;
    }

    private static float Repeat(float logit, float penalty) => logit > 0 ? logit / penalty : logit * penalty;
}
