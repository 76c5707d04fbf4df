using System.Collections.Generic;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>The Hugging Face config.json keys a model file may read, with their types (from the transformers
/// configuration classes of the decoder-only families). A key outside this list is a misspelling until added here.</summary>
internal static class ConfigKeys
{
    public static readonly IReadOnlyDictionary<string, ConstantKind> Known = new Dictionary<string, ConstantKind>
    {
        ["hidden_size"] = ConstantKind.Int,
        ["intermediate_size"] = ConstantKind.Int,
        ["num_hidden_layers"] = ConstantKind.Int,
        ["num_attention_heads"] = ConstantKind.Int,
        ["num_key_value_heads"] = ConstantKind.Int,
        ["head_dim"] = ConstantKind.Int,
        ["vocab_size"] = ConstantKind.Int,
        ["max_position_embeddings"] = ConstantKind.Int,
        ["sliding_window"] = ConstantKind.Int,
        ["max_window_layers"] = ConstantKind.Int,
        ["bos_token_id"] = ConstantKind.Int,
        ["pad_token_id"] = ConstantKind.Int,
        ["rms_norm_eps"] = ConstantKind.Float,
        ["layer_norm_eps"] = ConstantKind.Float,
        ["rope_theta"] = ConstantKind.Float,
        ["partial_rotary_factor"] = ConstantKind.Float,
        ["initializer_range"] = ConstantKind.Float,
        ["attention_dropout"] = ConstantKind.Float,
        ["tie_word_embeddings"] = ConstantKind.Bool,
        ["attention_bias"] = ConstantKind.Bool,
        ["mlp_bias"] = ConstantKind.Bool,
        ["use_sliding_window"] = ConstantKind.Bool,
    };
}
