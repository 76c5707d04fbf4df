using Compiler.Models;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Execution.Tests.Cpu;

/// <summary>
/// A tiny random checkpoint of one architecture in a temp directory: config.json + model.safetensors with every tensor
/// the plan expects, seeded. Linear weights ~ N(0, 1/fan_in) and embeddings ~ N(0, 1) keep activations O(1), norm
/// weights around 1 and biases around 0.3, so every parameter (and every indexing mistake) moves the logits visibly.
/// Odd sizes on purpose: vocab 301 and intermediate 100 leave GEMM column and K tails, Qwen3's q is wider than hidden.
/// </summary>
internal sealed class RandomModel : IDisposable
{
    public const int Vocab = 301;

    private readonly bool _temporary;

    private RandomModel(string directory, HfConfig config, Checkpoint checkpoint, bool temporary)
    {
        Directory = directory;
        Config = config;
        Checkpoint = checkpoint;
        _temporary = temporary;
    }

    /// <summary>The committed transformers-made checkpoints (tests/Execution.Tests/Models/tiny-*).</summary>
    public static string TinyModelsDirectory => Path.Combine(AppContext.BaseDirectory, "Models");

    /// <summary>"tiny-qwen3" etc. opens a committed tiny checkpoint (skipping the test when it is not there yet);
    /// an architecture name creates a random one.</summary>
    public static RandomModel Open(string id)
    {
        if (!id.StartsWith("tiny-", StringComparison.Ordinal)) return Create(id);
        var dir = Path.Combine(TinyModelsDirectory, id);
        if (!File.Exists(Path.Combine(dir, Checkpoint.SingleFileName)))
            Assert.Skip($"{dir} is missing: run 'python3 scripts/reference/make_tiny_models.py' from the repo root on a machine with torch + transformers and commit tests/Execution.Tests/Models/.");
        return new RandomModel(dir, HfConfig.Load(dir), Checkpoint.Open(dir), temporary: false);
    }

    public string Directory { get; }
    public HfConfig Config { get; }
    public Checkpoint Checkpoint { get; }
    public ModelPlan Plan => ModelCatalog.All[Config.Architectures[0]];

    public static RandomModel Create(string architecture, TensorDType dtype = TensorDType.F32, int seed = 1)
    {
        var json = architecture switch
        {
            "Qwen3ForCausalLM" => """
                {"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "hidden_size": 72, "intermediate_size": 100,
                 "num_hidden_layers": 3, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 301,
                 "rms_norm_eps": 1e-6, "max_position_embeddings": 512, "rope_theta": 1000000.0, "tie_word_embeddings": true,
                 "eos_token_id": 7}
                """,
            "Qwen2ForCausalLM" => """
                {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 72, "intermediate_size": 100,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 301,
                 "rms_norm_eps": 1e-5, "max_position_embeddings": 512, "rope_theta": 10000.0, "tie_word_embeddings": false,
                 "eos_token_id": 7}
                """,
            // Llama 3 RoPE scaling with a small original context: head_dim 16, theta 1e4 puts frequencies in all
            // three llama3 bands (kept, smoothed, divided by the factor).
            "LlamaForCausalLM" => """
                {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 72, "intermediate_size": 100,
                 "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "vocab_size": 301,
                 "rms_norm_eps": 1e-5, "max_position_embeddings": 512, "rope_theta": 10000.0, "tie_word_embeddings": false,
                 "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                  "original_max_position_embeddings": 32},
                 "eos_token_id": 7}
                """,
            _ => throw new ArgumentException(architecture),
        };
        var dir = Path.Combine(Path.GetTempPath(), $"cpu-tests-{architecture}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, HfConfig.FileName), json);
        var config = HfConfig.Load(dir);
        var plan = ModelCatalog.All[architecture];
        var rng = new Random(seed);
        var entries = new List<SafetensorsEntry>();
        foreach (var t in ModelWeights.Expected(ModelConstants.Read(plan, config)))
        {
            var count = (int)t.Shape.Aggregate(1L, (a, b) => a * b);
            var values = new float[count];
            for (var i = 0; i < count; i++)
            {
                var g = Gaussian(rng);
                values[i] = t.Name.EndsWith("norm.weight", StringComparison.Ordinal) ? (float)(1 + 0.3 * g)
                    : t.Name.EndsWith(".bias", StringComparison.Ordinal) ? (float)(0.3 * g)
                    : t.Name.Contains("embed_tokens", StringComparison.Ordinal) ? (float)g
                    : (float)(g / Math.Sqrt(t.Shape[^1]));
            }
            entries.Add(SafetensorsEntry.FromFloats(t.Name, dtype, t.Shape.ToArray(), values));
        }
        SafetensorsWriter.Write(Path.Combine(dir, Checkpoint.SingleFileName), entries);
        return new RandomModel(dir, config, Checkpoint.Open(dir), temporary: true);
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public void Dispose()
    {
        Checkpoint.Dispose();
        if (!_temporary) return;
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
