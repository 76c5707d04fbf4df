using System.Text.Json;
using Compiler.Runtime.Cpu;

namespace Execution.Tests.Cpu;

/// <summary>
/// The CPU runner against transformers itself: tiny fp32 checkpoints saved by save_pretrained, with the logits of
/// every position (one eager fp32 forward), prompt log-probabilities and generate(do_sample=False) continuations
/// that scripts/reference/make_tiny_models.py recorded in reference.json. Skipped until those files are committed.
/// </summary>
public sealed class TransformersReferenceTests
{
    // Both sides compute in fp32; different summation orders leave ~1e-6. The bar is the task's.
    private const double LogitsTolerance = 1e-3;

    public static TheoryData<string> Models => ["tiny-qwen3", "tiny-qwen2", "tiny-llama"];

    private sealed record Prompt(int[] InputIds, float[][] Logits, float[] PromptLogprobs, int[] Greedy);

    private static (RandomModel Model, CpuModelRunner Runner, Prompt[] Prompts) Open(string name)
    {
        var model = RandomModel.Open(name);
        var file = Path.Combine(model.Directory, "reference.json");
        if (!File.Exists(file)) Assert.Skip($"{file} is missing: rerun scripts/reference/make_tiny_models.py.");
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var prompts = doc.RootElement.GetProperty("prompts").EnumerateArray().Select(p => new Prompt(
            p.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            p.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray(),
            p.GetProperty("prompt_logprobs").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
            p.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray())).ToArray();
        var runner = new CpuModelRunner(model.Plan, model.Config, model.Checkpoint, maxTotalTokens: 128, maxBatchTokens: 64, threads: 2);
        return (model, runner, prompts);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Logits_of_every_position_match_transformers(string name)
    {
        var (model, runner, prompts) = Open(name);
        using (model)
        using (runner)
        {
            var generator = new GreedyGenerator(runner);
            var vocab = runner.VocabSize;
            var (worst, where) = (0.0, "");
            foreach (var p in prompts)
            {
                var logits = generator.PromptLogits(p.InputIds);
                Assert.Equal(p.Logits.Length * vocab, logits.Length);
                for (var t = 0; t < p.Logits.Length; t++)
                    for (var v = 0; v < vocab; v++)
                    {
                        var diff = Math.Abs(logits[t * vocab + v] - p.Logits[t][v]);
                        if (diff > worst) (worst, where) = (diff, $"prompt of {p.InputIds.Length}, position {t}");
                    }
            }
            Assert.True(worst <= LogitsTolerance, $"{name}: max |cpu - transformers| = {worst:E2} at {where}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Prompt_logprobs_match_transformers(string name)
    {
        var (model, runner, prompts) = Open(name);
        using (model)
        using (runner)
        {
            var generator = new GreedyGenerator(runner);
            var vocab = runner.VocabSize;
            foreach (var p in prompts)
            {
                var logits = generator.PromptLogits(p.InputIds);
                Assert.Equal(p.InputIds.Length - 1, p.PromptLogprobs.Length);
                for (var t = 1; t < p.InputIds.Length; t++)
                {
                    var row = logits.AsSpan((t - 1) * vocab, vocab);
                    var max = System.Numerics.Tensors.TensorPrimitives.Max(row);
                    var sum = 0.0;
                    foreach (var x in row) sum += Math.Exp(x - max);
                    var logprob = row[p.InputIds[t]] - max - Math.Log(sum);
                    Assert.True(Math.Abs(logprob - p.PromptLogprobs[t - 1]) <= LogitsTolerance,
                        $"{name}, token {t}: logprob {logprob} vs transformers {p.PromptLogprobs[t - 1]}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Greedy_continuation_of_32_tokens_is_identical(string name)
    {
        var (model, runner, prompts) = Open(name);
        using (model)
        using (runner)
        {
            var generator = new GreedyGenerator(runner);
            foreach (var p in prompts)
                Assert.Equal(p.Greedy, generator.Generate(p.InputIds, p.Greedy.Length, stopAtEos: false));
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Greedy_continuation_survives_chunked_prefill(string name)
    {
        // A runner that takes at most 5 tokens per forward prefills the 33-token prompt in 7 chunks.
        var (model, runner, prompts) = Open(name);
        using (model)
        using (runner)
        using (var small = new CpuModelRunner(model.Plan, model.Config, model.Checkpoint, maxTotalTokens: 128, maxBatchTokens: 5, threads: 2))
        {
            var p = prompts.MaxBy(p => p.InputIds.Length)!;
            Assert.Equal(p.Greedy, new GreedyGenerator(small).Generate(p.InputIds, p.Greedy.Length, stopAtEos: false));
        }
    }
}
