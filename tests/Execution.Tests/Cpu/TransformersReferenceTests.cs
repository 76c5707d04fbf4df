using System.Text.Json;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

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

    [Theory]
    [MemberData(nameof(Models))]
    public void Engine_with_chunked_mixed_batches_and_prefix_sharing_reproduces_transformers(string name)
    {
        // The real scheduler drives the runner: all prompts at once (each twice, so the second copy reuses the
        // first's KV through the radix cache), prefill chunks of 8 tokens, decodes mixed into prefill batches.
        var (model, runner, prompts) = Open(name);
        runner.Dispose();
        using (model)
        {
            var options = new SchedulerOptions
            {
                MaxTotalTokens = 1024, MaxRunningRequests = 4, ContextLength = 128, MaxPrefillTokens = 64,
                ChunkedPrefillSize = 8, EnableMixedChunk = true,
            };
            using var engineRunner = new CpuModelRunner(model.Plan, model.Config, model.Checkpoint, options.MaxTotalTokens, options.MaxBatchTokens, threads: 2);
            var engine = new InferenceEngine(engineRunner, options);
            var reqs = new List<(Req Req, int[] Expected)>();
            for (var copy = 0; copy < 2; copy++)
                for (var i = 0; i < prompts.Length; i++)
                {
                    var sampling = new SamplingParams { Temperature = 0, MaxNewTokens = prompts[i].Greedy.Length, IgnoreEos = true };
                    reqs.Add((engine.Submit($"p{i}-{copy}", prompts[i].InputIds, sampling)[0], prompts[i].Greedy));
                }
            engine.RunUntilIdle(maxSteps: 10_000);
            foreach (var (req, expected) in reqs)
                Assert.Equal(expected, req.OutputIds.ToArray());
            // The paths named above really ran: a prompt was cut into chunks and a copy hit the prefix cache.
            Assert.Contains(reqs, r => r.Req.ChunkCount > 0);
            Assert.Contains(reqs, r => r.Req.CachedTokens > 0);
        }
    }
}
