namespace Compiler.Runtime.Loading;

/// <summary>What transformers' config class assumes for a key that config.json leaves out (the __init__ / field
/// defaults of LlamaConfig, Qwen2Config, Qwen3Config). Null means "no default: the key is required".</summary>
internal sealed record ArchitectureDefaults
{
    public int? VocabSize { get; init; }
    public int? HiddenSize { get; init; }
    public int? IntermediateSize { get; init; }
    public int? NumHiddenLayers { get; init; }
    public int? NumAttentionHeads { get; init; }

    /// <summary>Absent num_key_value_heads: Llama uses num_attention_heads (null here); Qwen2/Qwen3 default to 32.</summary>
    public int? NumKeyValueHeads { get; init; }

    /// <summary>Absent head_dim: null = hidden_size / num_attention_heads; Qwen3's config class defaults to 128.</summary>
    public int? HeadDim { get; init; }

    public int? MaxPositionEmbeddings { get; init; }
    public double? RmsNormEps { get; init; }

    /// <summary>All three override PretrainedConfig's True with False.</summary>
    public bool TieWordEmbeddings { get; init; }

    public bool AttentionBias { get; init; }
    public int? BosTokenId { get; init; }
    public int? EosTokenId { get; init; }

    /// <summary>Qwen2's attention always has q/k/v biases, whatever attention_bias says.</summary>
    public bool QkvBiasAlways { get; init; }

    public static ArchitectureDefaults? For(string modelType) => modelType switch
    {
        "llama" => new ArchitectureDefaults
        {
            VocabSize = 32000, HiddenSize = 4096, IntermediateSize = 11008, NumHiddenLayers = 32, NumAttentionHeads = 32,
            NumKeyValueHeads = null, HeadDim = null, MaxPositionEmbeddings = 2048, RmsNormEps = 1e-6,
            TieWordEmbeddings = false, AttentionBias = false, BosTokenId = 1, EosTokenId = 2,
        },
        "qwen2" => new ArchitectureDefaults
        {
            VocabSize = 151936, HiddenSize = 4096, IntermediateSize = 22016, NumHiddenLayers = 32, NumAttentionHeads = 32,
            NumKeyValueHeads = 32, HeadDim = null, MaxPositionEmbeddings = 32768, RmsNormEps = 1e-6,
            TieWordEmbeddings = false, AttentionBias = true, QkvBiasAlways = true,
        },
        "qwen3" => new ArchitectureDefaults
        {
            VocabSize = 151936, HiddenSize = 4096, IntermediateSize = 22016, NumHiddenLayers = 32, NumAttentionHeads = 32,
            NumKeyValueHeads = 32, HeadDim = 128, MaxPositionEmbeddings = 32768, RmsNormEps = 1e-6,
            TieWordEmbeddings = false, AttentionBias = false,
        },
        _ => null,
    };

    /// <summary>model_type from an architectures entry, for configs that omit model_type.</summary>
    public static string? ModelTypeFromArchitecture(string architecture) => architecture switch
    {
        "LlamaForCausalLM" => "llama",
        "Qwen2ForCausalLM" => "qwen2",
        "Qwen3ForCausalLM" => "qwen3",
        _ => null,
    };
}
