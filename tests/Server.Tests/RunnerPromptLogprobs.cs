using Compiler.Models;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Loading;

namespace Server.Tests;

/// <summary>
/// The reference for prompt logprobs: a separate CPU runner's logits of every position from one full forward of the
/// prompt (no scheduler, no cache, no chunking), turned into log p(prompt[p] | prompt[..p]) and the top-k of each row.
/// </summary>
internal sealed class RunnerPromptLogprobs
{
    private RunnerPromptLogprobs(float[] logprobs, int[][] topIds, float[][] topLogprobs)
    {
        Logprobs = logprobs;
        TopIds = topIds;
        TopLogprobs = topLogprobs;
    }

    /// <summary>[p] = log p(prompt[p] | prompt[..p]) for p &gt;= 1 ([0] is NaN: nothing scores it).</summary>
    public float[] Logprobs { get; }
    /// <summary>[p] = the k most likely tokens at position p (from the row of p - 1), best first.</summary>
    public int[][] TopIds { get; }
    public float[][] TopLogprobs { get; }

    public static RunnerPromptLogprobs Compute(int[] prompt, int topK)
    {
        string dir = TestServer.ModelDir;
        var config = HfConfig.Load(dir);
        using var checkpoint = Checkpoint.Open(dir);
        // One forward for the whole prompt: max batch tokens cover it.
        using var runner = new CpuModelRunner(ModelCatalog.All[config.Architectures[0]], config, checkpoint, 512, 512, threads: 1);
        float[] logits = new GreedyGenerator(runner).PromptLogits(prompt);
        int vocab = runner.VocabSize;
        var lps = new float[prompt.Length];
        var topIds = new int[prompt.Length][];
        var topLps = new float[prompt.Length][];
        lps[0] = float.NaN;
        topIds[0] = [];
        topLps[0] = [];
        for (int p = 1; p < prompt.Length; p++)
        {
            var row = logits.AsSpan((p - 1) * vocab, vocab);
            double max = double.NegativeInfinity, sum = 0;
            foreach (float x in row) max = Math.Max(max, x);
            foreach (float x in row) sum += Math.Exp(x - max);
            double lse = max + Math.Log(sum);
            lps[p] = (float)(row[prompt[p]] - lse);
            var ranked = new (int Id, float Lp)[vocab];
            for (int v = 0; v < vocab; v++) ranked[v] = (v, (float)(row[v] - lse));
            var top = ranked.OrderByDescending(x => x.Lp).ThenBy(x => x.Id).Take(topK).ToArray();
            topIds[p] = top.Select(x => x.Id).ToArray();
            topLps[p] = top.Select(x => x.Lp).ToArray();
        }
        return new RunnerPromptLogprobs(lps, topIds, topLps);
    }
}
