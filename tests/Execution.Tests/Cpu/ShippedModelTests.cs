using System.Text.Json;
using Compiler.Models;
using Compiler.Runtime.Cpu;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Text;

namespace Execution.Tests.Cpu;

/// <summary>
/// The model that ships in the repository (assets/models/melville-sotu-qwen3-6m, bf16 on disk) on the CPU runner
/// against transformers running the same checkpoint in float32 (reference/reference_generation.json, written by
/// scripts/train_tiny_model/train.py): the logits after the prompt, 32 greedy tokens, and the text the tokenizer makes
/// of them. Skipped until the trained files are committed.
/// </summary>
public sealed class ShippedModelTests
{
    private const string ModelName = "melville-sotu-qwen3-6m";

    // Both sides compute in fp32 from the same bf16 weights; only summation order differs.
    private const double LogitsTolerance = 1e-3;

    private sealed record Prompt(string Name, string Text, int[] InputIds, int[] Greedy, string GreedyText, float[] FirstLogits, double[] Margins);

    private static string ModelDir() => Path.Combine(RepoRoot.Path, "assets", "models", ModelName);

    private static (string Dir, Prompt[] Prompts) Open()
    {
        var dir = ModelDir();
        var file = Path.Combine(dir, "reference", "reference_generation.json");
        if (!File.Exists(file) || !File.Exists(Path.Combine(dir, Checkpoint.SingleFileName)))
            Assert.Skip($"{file} or the checkpoint is missing: train with scripts/train_tiny_model/run_on_gpu.sh and commit assets/models/{ModelName}.");
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var prompts = doc.RootElement.GetProperty("prompts").EnumerateArray().Select(p => new Prompt(
            p.GetProperty("name").GetString()!,
            p.GetProperty("text").GetString()!,
            p.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            p.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            p.GetProperty("greedy_text").GetString()!,
            p.GetProperty("first_logits").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
            p.GetProperty("margins").EnumerateArray().Select(e => e.GetDouble()).ToArray())).ToArray();
        return (dir, prompts);
    }

    private static CpuModelRunner Runner(string dir, out Checkpoint checkpoint)
    {
        var config = HfConfig.Load(dir);
        checkpoint = Checkpoint.Open(dir);
        return new CpuModelRunner(ModelCatalog.All[config.Architectures[0]], config, checkpoint, maxTotalTokens: 256, maxBatchTokens: 64, threads: 2);
    }

    [Fact]
    public void Logits_after_the_prompt_match_transformers_in_float32()
    {
        var (dir, prompts) = Open();
        using var runner = Runner(dir, out var checkpoint);
        using (checkpoint)
        {
            var generator = new GreedyGenerator(runner);
            var vocab = runner.VocabSize;
            foreach (var p in prompts)
            {
                Assert.Equal(vocab, p.FirstLogits.Length);
                var logits = generator.PromptLogits(p.InputIds).AsSpan((p.InputIds.Length - 1) * vocab, vocab);
                var worst = 0.0;
                for (var v = 0; v < vocab; v++) worst = Math.Max(worst, Math.Abs(logits[v] - p.FirstLogits[v]));
                Assert.True(worst <= LogitsTolerance, $"{p.Name} prompt: max |cpu - transformers| = {worst:E2}");
            }
        }
    }

    [Fact]
    public void Greedy_continuation_of_32_tokens_equals_transformers()
    {
        var (dir, prompts) = Open();
        using var runner = Runner(dir, out var checkpoint);
        using (checkpoint)
        {
            var generator = new GreedyGenerator(runner);
            foreach (var p in prompts)
            {
                var ids = generator.Generate(p.InputIds, p.Greedy.Length, stopAtEos: false);
                // A step where transformers' top two logits were closer than the fp32 noise could flip honestly.
                var nearTie = Array.FindIndex(p.Margins, m => m < 1e-3);
                Assert.True(nearTie < 0 || ids.AsSpan(0, nearTie).SequenceEqual(p.Greedy.AsSpan(0, nearTie)),
                    $"{p.Name} prompt diverges before the near-tie at step {nearTie}");
                if (nearTie < 0) Assert.Equal(p.Greedy, ids);
            }
        }
    }

    [Fact]
    public void Tokenizer_and_runner_together_reproduce_the_transformers_text()
    {
        // End to end on our side: the prompt text (the chat one rendered with special tokens) is encoded by our
        // tokenizer, continued by the CPU runner, and decoded by our tokenizer.
        var (dir, prompts) = Open();
        var tokenizer = Tokenizer.FromDirectory(dir);
        using var runner = Runner(dir, out var checkpoint);
        using (checkpoint)
        {
            var generator = new GreedyGenerator(runner);
            foreach (var p in prompts.Where(p => Array.TrueForAll(p.Margins, m => m >= 1e-3)))
            {
                var ids = tokenizer.Encode(p.Text, addSpecialTokens: false);
                Assert.Equal(p.InputIds, ids);
                Assert.Equal(p.GreedyText, tokenizer.Decode(generator.Generate(ids, p.Greedy.Length, stopAtEos: false)));
            }
        }
    }
}
