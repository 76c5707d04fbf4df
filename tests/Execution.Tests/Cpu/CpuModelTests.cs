using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Loading;

namespace Execution.Tests.Cpu;

/// <summary>The CPU runner on random checkpoints of each architecture against <see cref="NaiveModel"/> (fp64).</summary>
public sealed class CpuModelTests
{
    // fp32 vs fp64 on O(1) activations through 2-3 layers: observed errors are ~1e-5; a wrong weight, head, rope
    // frequency or mask moves logits by O(0.1-1).
    private const double NaiveTolerance = 2e-4;

    public static TheoryData<string> Architectures => ["Qwen3ForCausalLM", "Qwen2ForCausalLM", "LlamaForCausalLM"];

    internal static int[] Tokens(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(RandomModel.Vocab)).ToArray();
    }

    internal static CpuModelRunner Runner(RandomModel model, int maxTotalTokens = 256, int maxBatchTokens = 128, int threads = 2) =>
        new(model.Plan, model.Config, model.Checkpoint, maxTotalTokens, maxBatchTokens, threads);

    internal static double MaxDiff(IReadOnlyList<float> actual, IReadOnlyList<double> expected)
    {
        Assert.Equal(expected.Count, actual.Count);
        var max = 0.0;
        for (var i = 0; i < actual.Count; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Every_position_matches_the_fp64_transcription_of_transformers(string architecture)
    {
        using var model = RandomModel.Create(architecture);
        using var runner = Runner(model);
        var naive = new NaiveModel(model.Config, model.Checkpoint);
        var generator = new GreedyGenerator(runner);
        var (worst, where) = (0.0, "");
        foreach (var n in new[] { 1, 7, 40 })
        {
            var ids = Tokens(n, seed: n);
            var expected = naive.Forward(ids);
            var actual = generator.PromptLogits(ids);
            for (var t = 0; t < n; t++)
            {
                var diff = MaxDiff(actual.AsSpan(t * runner.VocabSize, runner.VocabSize).ToArray(), expected[t]);
                if (diff > worst) (worst, where) = (diff, $"prompt of {n}, position {t}");
            }
        }
        Assert.True(worst < NaiveTolerance, $"{architecture}: max |cpu - fp64| = {worst:E2} at {where}");
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Bf16_checkpoint_is_converted_exactly(string architecture)
    {
        // The naive model reads the same bf16 values widened to fp64: only fp32 arithmetic differs.
        using var model = RandomModel.Create(architecture, TensorDType.BF16, seed: 5);
        using var runner = Runner(model);
        var ids = Tokens(9, seed: 3);
        var expected = new NaiveModel(model.Config, model.Checkpoint).Forward(ids);
        var actual = new GreedyGenerator(runner).PromptLogits(ids);
        var diff = MaxDiff(actual.AsSpan((ids.Length - 1) * runner.VocabSize, runner.VocabSize).ToArray(), expected[^1]);
        Assert.True(diff < NaiveTolerance, $"max diff {diff:E2}");
    }

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Greedy_generation_matches_fp64_greedy(string architecture)
    {
        using var model = RandomModel.Create(architecture, seed: 2);
        using var runner = Runner(model);
        var prompt = Tokens(5, seed: 11);
        var expected = new NaiveModel(model.Config, model.Checkpoint).Greedy(prompt, 12);
        var actual = new GreedyGenerator(runner).Generate(prompt, 12, stopAtEos: false);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Generation_stops_at_eos_and_includes_it()
    {
        using var model = RandomModel.Create("Qwen3ForCausalLM", seed: 2);
        using var runner = Runner(model);
        var generator = new GreedyGenerator(runner);
        var free = generator.Generate(Tokens(5, seed: 11), 12, stopAtEos: false);
        // Make the 4th generated token the eos id: a runner whose eos list holds it must stop right there.
        using var eosRunner = new CpuModelRunner(model.Plan, model.Config, model.Checkpoint, 256, 128, threads: 1, eosTokenIds: [free[3]]);
        var stopped = new GreedyGenerator(eosRunner).Generate(Tokens(5, seed: 11), 12);
        Assert.Equal(free[..(Array.IndexOf(free, free[3]) + 1)], stopped);
    }

    [Fact]
    public void Runner_reports_the_model_dimensions()
    {
        using var model = RandomModel.Create("LlamaForCausalLM");
        using var runner = Runner(model);
        Assert.Equal(RandomModel.Vocab, runner.VocabSize);
        Assert.Equal(2, runner.NumLayers);
        Assert.Equal(2 * 16, runner.KvLength);
        Assert.Equal([7], runner.EosTokenIds);
    }

    [Fact]
    public void Tied_lm_head_shares_the_embedding()
    {
        using var model = RandomModel.Create("Qwen3ForCausalLM");
        Assert.False(model.Checkpoint.Contains("lm_head.weight"));
        using var runner = Runner(model);
        var total = model.Checkpoint.Tensors.Sum(t => t.ElementCount);
        // qkv_proj and gate_up_proj are concatenations of parts (same count); lm_head adds nothing.
        Assert.Equal(total, runner.WeightFloats);
    }

    [Fact]
    public void Load_reads_a_model_directory_and_rejects_unknown_architectures()
    {
        using var model = RandomModel.Create("Qwen2ForCausalLM");
        using (var runner = CpuModelRunner.Load(model.Directory, Compiler.Models.ModelCatalog.All, 64, 32, threads: 1))
            Assert.Equal("Qwen2ForCausalLM", runner.Plan.Architecture);

        var config = File.ReadAllText(Path.Combine(model.Directory, HfConfig.FileName));
        File.WriteAllText(Path.Combine(model.Directory, HfConfig.FileName), config.Replace("Qwen2ForCausalLM", "MistralForCausalLM").Replace("\"qwen2\"", "\"mistral\""));
        var e = Assert.Throws<NotSupportedException>(() => CpuModelRunner.Load(model.Directory, Compiler.Models.ModelCatalog.All, 64, 32, threads: 1));
        Assert.Contains("MistralForCausalLM", e.Message);
        Assert.Contains("Qwen3ForCausalLM", e.Message);
    }

    [Fact]
    public void Batch_larger_than_max_batch_tokens_is_refused()
    {
        using var model = RandomModel.Create("LlamaForCausalLM");
        using var runner = Runner(model, maxBatchTokens: 8);
        var session = new KvSession(runner);
        var e = Assert.Throws<ArgumentException>(() => session.Step(ForwardMode.Extend, new KvSession.Part(session.NewSeq(), Tokens(9, 1))));
        Assert.Contains("at most 8", e.Message);
    }

    [Fact]
    public void Out_of_vocabulary_token_names_the_problem()
    {
        using var model = RandomModel.Create("LlamaForCausalLM");
        using var runner = Runner(model);
        var session = new KvSession(runner);
        var e = Assert.Throws<InvalidOperationException>(() => session.Step(ForwardMode.Extend, new KvSession.Part(session.NewSeq(), [3, RandomModel.Vocab])));
        Assert.Contains($"token id {RandomModel.Vocab}", e.Message);
    }
}
