using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>
/// Prompt logprobs computed directly from the fake model, one prefix at a time (no KV, no batching): entry i of a
/// request is prompt position start + i, scored by the logits of prompt[..(start + i)].
/// </summary>
internal static class InputLogprobsReference
{
    public sealed record Entry(float? Logprob, int[] TopIds, float[] TopLogprobs);

    public static Entry[] Compute(FakeModelRunner model, int[] prompt, int start, int topK)
    {
        var logits = new float[model.VocabSize];
        var entries = new Entry[prompt.Length - start];
        entries[0] = new Entry(null, [], []);
        for (int p = start + 1; p < prompt.Length; p++)
        {
            model.LogitsFor(prompt[..p], logits);
            float lse = Sampler.LogSumExp(logits);
            var top = Enumerable.Range(0, logits.Length).Select(v => (Id: v, Lp: logits[v] - lse))
                .OrderByDescending(x => x.Lp).ThenBy(x => x.Id).Take(topK).ToArray();
            entries[p - start] = new Entry(logits[prompt[p]] - lse, top.Select(x => x.Id).ToArray(), top.Select(x => x.Lp).ToArray());
        }
        return entries;
    }

    /// <summary>The request's prompt logprobs equal the reference exactly (same logits, same arithmetic).</summary>
    public static void AssertEqual(FakeModelRunner model, Req req)
    {
        var lp = req.InputLogprobs;
        Assert.NotNull(lp);
        Assert.True(lp.IsComplete, $"{req.Rid}: prompt logprobs incomplete ({lp.Filled} of {lp.Count - 1})");
        var expected = Compute(model, req.InputIds.ToArray(), lp.StartLen, req.SamplingParams.TopLogprobs);
        Assert.Equal(expected.Length, lp.Count);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Logprob, lp.Logprob(i));
            Assert.Equal(expected[i].TopIds, lp.TopIds(i).ToArray());
            Assert.Equal(expected[i].TopLogprobs, lp.TopLogprobs(i).ToArray());
        }
    }
}
