using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>Generates with the fake model one token at a time, no batching, no KV: what every schedule must reproduce.</summary>
internal static class Reference
{
    public static List<int> Generate(FakeModelRunner model, IReadOnlyList<int> prompt, SamplingParams p, ulong seed, int maxNewTokens)
    {
        var sampler = new Sampler(model.VocabSize);
        var rng = new SamplingRng(seed);
        var promptArr = prompt.ToArray();
        var penalties = p.HasPenalties ? new PenaltyState(promptArr, p) : null;
        var tokens = new List<int>(prompt);
        var output = new List<int>();
        var logits = new float[model.VocabSize];
        while (true)
        {
            model.LogitsFor(tokens, logits);
            if (output.Count < p.MinNewTokens)
            {
                foreach (int t in p.StopTokenIds) logits[t] = float.NegativeInfinity;
                if (!p.IgnoreEos) foreach (int t in model.EosTokenIds) logits[t] = float.NegativeInfinity;
            }
            int tok = sampler.Sample(logits, p, rng, penalties).TokenId;
            tokens.Add(tok);
            output.Add(tok);
            penalties?.Observe(tok);
            if (output.Count >= maxNewTokens) return output;
            if (output.Count > p.MinNewTokens && (p.StopTokenIds.Contains(tok) || (!p.IgnoreEos && model.EosTokenIds.Contains(tok)))) return output;
        }
    }
}
