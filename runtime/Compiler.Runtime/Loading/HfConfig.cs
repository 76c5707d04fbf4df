using System.Text.Json;

namespace Compiler.Runtime.Loading;

/// <summary>A Hugging Face config.json, read as transformers reads it for Llama 3.x, Qwen2 and Qwen3 (absent keys
/// take the config class's defaults), plus access to any key by name for the generated model code.</summary>
/// <remarks>Public because the generated model code (Compiler.Models) reads its dimensions from it.</remarks>
public sealed class HfConfig : Compiler.Runtime.Plan.IModelConfig
{
    /// <summary>The file name inside a model directory.</summary>
    public const string FileName = "config.json";

    private readonly ConfigJson _json;

    private HfConfig(ConfigJson json)
    {
        _json = json;
        Architectures = json.GetStringList("architectures");
        if (!json.TryGetString("model_type", out var modelType))
            modelType = Architectures.Select(ArchitectureDefaults.ModelTypeFromArchitecture).FirstOrDefault(t => t is not null)
                ?? throw json.Error("model_type", $"is missing and architectures [{string.Join(", ", Architectures)}] name no known model");
        ModelType = modelType;
        var defaults = ArchitectureDefaults.For(modelType) ?? new ArchitectureDefaults { TieWordEmbeddings = true };

        int Int(string key, int? fallback) => json.TryGetInt(key, out var v) ? v : fallback ?? throw json.Error(key, $"is missing and model_type '{modelType}' has no default for it");
        int Positive(string key, int? fallback)
        {
            var v = Int(key, fallback);
            return v > 0 ? v : throw json.Error(key, $"must be positive, found {v}");
        }

        VocabSize = Positive("vocab_size", defaults.VocabSize);
        HiddenSize = Positive("hidden_size", defaults.HiddenSize);
        IntermediateSize = Positive("intermediate_size", defaults.IntermediateSize);
        NumHiddenLayers = Positive("num_hidden_layers", defaults.NumHiddenLayers);
        NumAttentionHeads = Positive("num_attention_heads", defaults.NumAttentionHeads);
        // Absent takes the class default; an explicit null means num_attention_heads (the classes' "is None" branch).
        var kvAbsent = !json.Root.TryGetProperty("num_key_value_heads", out _);
        NumKeyValueHeads = json.TryGetInt("num_key_value_heads", out var kv) ? kv : kvAbsent ? defaults.NumKeyValueHeads ?? NumAttentionHeads : NumAttentionHeads;
        if (NumKeyValueHeads <= 0 || NumAttentionHeads % NumKeyValueHeads != 0)
            throw json.Error("num_key_value_heads", (!kvAbsent ? $"{NumKeyValueHeads}" : $"is absent, so it takes the '{modelType}' default {NumKeyValueHeads}, which")
                + $" must be positive and divide num_attention_heads ({NumAttentionHeads}); set num_key_value_heads in the config");
        // transformers: getattr(config, "head_dim", None) or hidden_size // num_attention_heads.
        HeadDim = json.TryGetInt("head_dim", out var hd) && hd != 0 ? hd : defaults.HeadDim ?? HiddenSize / NumAttentionHeads;
        if (HeadDim <= 0) throw json.Error("head_dim", $"must be positive, found {HeadDim}");
        MaxPositionEmbeddings = Positive("max_position_embeddings", defaults.MaxPositionEmbeddings);
        RmsNormEps = json.TryGetNumber("rms_norm_eps", out var eps) ? eps : defaults.RmsNormEps ?? throw json.Error("rms_norm_eps", $"is missing and model_type '{modelType}' has no default for it");
        if (!(RmsNormEps > 0)) throw json.Error("rms_norm_eps", $"must be positive, found {RmsNormEps}");
        TieWordEmbeddings = json.TryGetBool("tie_word_embeddings", out var tie) ? tie : defaults.TieWordEmbeddings;
        var attentionBias = json.TryGetBool("attention_bias", out var ab) ? ab : defaults.AttentionBias;
        AttentionBias = defaults.QkvBiasAlways || attentionBias;
        OutputProjectionBias = !defaults.QkvBiasAlways && attentionBias;
        MlpBias = json.TryGetBool("mlp_bias", out var mb) && mb;
        HiddenAct = json.TryGetString("hidden_act", out var act) ? act : "silu";
        // An explicit null means None in transformers; only an absent key takes the class default.
        BosTokenId = json.TryGetInt("bos_token_id", out var bos) ? bos : json.Root.TryGetProperty("bos_token_id", out _) ? null : defaults.BosTokenId;
        EosTokenIds = json.GetIntOrIntList("eos_token_id") ?? (defaults.EosTokenId is { } eos && !json.Root.TryGetProperty("eos_token_id", out _) ? [eos] : []);
        PadTokenId = json.TryGetInt("pad_token_id", out var pad) ? pad : null;

        // transformers 5 writes "dtype"; older files "torch_dtype".
        if (json.TryGetString("dtype", out var dtypeName) || json.TryGetString("torch_dtype", out dtypeName))
        {
            DTypeName = dtypeName;
            DType = TensorDTypes.TryParseTorchName(dtypeName, out var parsed) ? parsed : null;
        }
        Rope = RopeParameters.FromConfig(json, MaxPositionEmbeddings);
    }

    /// <summary>Reads config.json from a model directory, or the given file.</summary>
    public static HfConfig Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, FileName) : path;
        if (!File.Exists(file))
            throw new CheckpointException(file, null, "no such file; a Hugging Face model directory has a config.json next to its weights");
        return new HfConfig(ConfigJson.Load(Path.GetFullPath(file)));
    }

    /// <summary>Parses config JSON text; <paramref name="filePath"/> is used in error messages.</summary>
    public static HfConfig Parse(string json, string filePath = FileName) => new(ConfigJson.Parse(json, filePath));

    /// <summary>The file this config came from.</summary>
    public string FilePath => _json.Path;

    /// <summary>The whole JSON object, for keys this type does not model.</summary>
    public JsonElement Raw => _json.Root;

    /// <summary>"architectures", e.g. ["Qwen3ForCausalLM"]; empty when absent.</summary>
    public IReadOnlyList<string> Architectures { get; }

    /// <summary>"model_type" ("llama", "qwen2", "qwen3"), inferred from architectures when absent.</summary>
    public string ModelType { get; }

    /// <summary>Embedding / residual width.</summary>
    public int HiddenSize { get; }

    /// <summary>MLP inner width.</summary>
    public int IntermediateSize { get; }

    /// <summary>Number of decoder layers.</summary>
    public int NumHiddenLayers { get; }

    /// <summary>Query heads.</summary>
    public int NumAttentionHeads { get; }

    /// <summary>Key/value heads (GQA). Absent: num_attention_heads for Llama, 32 for Qwen2/Qwen3 (their class defaults).</summary>
    public int NumKeyValueHeads { get; }

    /// <summary>Per-head width: head_dim, else the architecture's default, else hidden_size / num_attention_heads.</summary>
    public int HeadDim { get; }

    /// <summary>Vocabulary size (rows of the embedding and lm_head).</summary>
    public int VocabSize { get; }

    /// <summary>RMSNorm epsilon.</summary>
    public double RmsNormEps { get; }

    /// <summary>Longest context the model was configured for.</summary>
    public int MaxPositionEmbeddings { get; }

    /// <summary>lm_head shares the embedding matrix (absent: false for all three architectures).</summary>
    public bool TieWordEmbeddings { get; }

    /// <summary>q/k/v projections have biases (Qwen2: always; Llama/Qwen3: attention_bias).</summary>
    public bool AttentionBias { get; }

    /// <summary>o_proj has a bias (Llama/Qwen3 with attention_bias; never Qwen2).</summary>
    public bool OutputProjectionBias { get; }

    /// <summary>MLP projections have biases (Llama's mlp_bias).</summary>
    public bool MlpBias { get; }

    /// <summary>MLP activation name ("silu").</summary>
    public string HiddenAct { get; }

    /// <summary>Beginning-of-sequence token, if any.</summary>
    public int? BosTokenId { get; }

    /// <summary>End-of-sequence tokens (eos_token_id may be an int or a list); empty if none.</summary>
    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>Padding token, if any.</summary>
    public int? PadTokenId { get; }

    /// <summary>"dtype" or "torch_dtype" as written ("bfloat16"), or null.</summary>
    public string? DTypeName { get; }

    /// <summary><see cref="DTypeName"/> as a tensor dtype, or null when absent or not BF16/F16/F32.</summary>
    public TensorDType? DType { get; }

    /// <summary>RoPE settings from either form (rope_scaling or rope_parameters).</summary>
    public RopeParameters Rope { get; }

    /// <summary>True when the key (or dotted path) is present and not null.</summary>
    public bool Contains(string key) => _json.Contains(key);

    /// <summary>The number at <paramref name="key"/>; false when absent or null; throws if it is not a number.</summary>
    public bool TryGetNumber(string key, out double value) => _json.TryGetNumber(key, out value);

    /// <summary>A boolean key's value, if present.</summary>
    public bool TryGetBool(string key, out bool value) => _json.TryGetBool(key, out value);

    string Compiler.Runtime.Plan.IModelConfig.Source => FilePath;

    /// <summary>The integer at <paramref name="key"/>; throws naming key and file if absent or not an integer.</summary>
    public int GetInt(string key) => _json.GetInt(key);

    /// <summary>The integer at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public int GetInt(string key, int fallback) => _json.TryGetInt(key, out var v) ? v : fallback;

    /// <summary>The number at <paramref name="key"/>; throws naming key and file if absent or not a number.</summary>
    public double GetDouble(string key) => _json.GetDouble(key);

    /// <summary>The number at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public double GetDouble(string key, double fallback) => _json.TryGetNumber(key, out var v) ? v : fallback;

    /// <summary>The boolean at <paramref name="key"/>; throws naming key and file if absent or not a boolean.</summary>
    public bool GetBool(string key) => _json.GetBool(key);

    /// <summary>The boolean at <paramref name="key"/>, or <paramref name="fallback"/> when absent.</summary>
    public bool GetBool(string key, bool fallback) => _json.TryGetBool(key, out var v) ? v : fallback;

    /// <summary>The string at <paramref name="key"/>; throws naming key and file if absent or not a string.</summary>
    public string GetString(string key) => _json.GetString(key);
}
