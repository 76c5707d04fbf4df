namespace Compiler.Runtime.Loading;

/// <summary>Rotary embedding settings, standardised as transformers 5 does from either config form: the Hub's
/// <c>rope_theta</c> + <c>rope_scaling</c> or transformers 5's <c>rope_parameters</c>.</summary>
/// <remarks>Public because the generated model code (Compiler.Models) builds its RoPE tables from it.</remarks>
public sealed record RopeParameters
{
    /// <summary>"default", "linear", "llama3", or another type (yarn, dynamic, longrope: listed, not computed here).</summary>
    public required string RopeType { get; init; }

    /// <summary>The base (rope_theta).</summary>
    public required double Theta { get; init; }

    /// <summary>Scaling factor (linear, llama3, yarn ...); null for default.</summary>
    public double? Factor { get; init; }

    /// <summary>llama3: low_freq_factor.</summary>
    public double? LowFreqFactor { get; init; }

    /// <summary>llama3: high_freq_factor.</summary>
    public double? HighFreqFactor { get; init; }

    /// <summary>llama3 / yarn / longrope: the pre-training context length.</summary>
    public int? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>Fraction of head_dim that is rotated (1 for Llama and Qwen).</summary>
    public double PartialRotaryFactor { get; init; } = 1.0;

    /// <summary>Number of rotated dimensions for a head of <paramref name="headDim"/>: int(head_dim * partial_rotary_factor).</summary>
    public int RotaryDim(int headDim) => (int)(headDim * PartialRotaryFactor);

    /// <summary>inv_freq[RotaryDim/2] exactly as transformers computes it (see <see cref="RopeFrequencies"/>).</summary>
    public float[] ComputeInvFreq(int headDim) => RopeFrequencies.InvFreq(this, headDim);

    /// <summary>Reads the RoPE settings of a config (either form); errors name the key and the file.</summary>
    internal static RopeParameters FromConfig(ConfigJson config, int maxPositionEmbeddings)
    {
        // transformers 5 (convert_rope_params_to_dict): a rope_scaling dict wins over rope_parameters; values inside
        // the dict win over the top-level rope_theta / partial_rotary_factor ... except as noted below.
        var dictKey = config.Contains("rope_scaling") ? "rope_scaling" : config.Contains("rope_parameters") ? "rope_parameters" : null;
        if (dictKey is not null && config.TryGet(dictKey, out var dict))
        {
            if (dict.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw config.Error(dictKey, "must be an object");
            // Per-layer-type form ({"full_attention": {...}, "sliding_attention": {...}}): these models use full attention.
            if (dict.TryGetProperty("full_attention", out var full) && full.ValueKind == System.Text.Json.JsonValueKind.Object)
                dictKey += ".full_attention";
        }

        string Key(string name) => dictKey is null ? name : dictKey + "." + name;
        double? Number(string name) => dictKey is not null && config.TryGetNumber(Key(name), out var v) ? v : null;

        var ropeType = "default";
        if (dictKey is not null && (config.TryGetString(Key("rope_type"), out var t) || config.TryGetString(Key("type"), out t)))
            ropeType = t;

        var theta = Number("rope_theta") ?? (config.TryGetNumber("rope_theta", out var top) ? top : 10000.0);
        // A top-level partial_rotary_factor is copied into the dict (overriding it), as standardize_rope_params does.
        var partial = config.TryGetNumber("partial_rotary_factor", out var p) ? p : Number("partial_rotary_factor") ?? 1.0;

        int? originalMax = null;
        if (ropeType is "llama3" or "yarn" or "longrope")
        {
            // A top-level original_max_position_embeddings wins (the Phi-3 exception); else the dict; else max_position_embeddings.
            if (config.TryGetInt("original_max_position_embeddings", out var o)) originalMax = o;
            else if (dictKey is not null && config.TryGetInt(Key("original_max_position_embeddings"), out o)) originalMax = o;
            else originalMax = maxPositionEmbeddings;
        }

        var rope = new RopeParameters
        {
            RopeType = ropeType,
            Theta = theta,
            Factor = Number("factor"),
            LowFreqFactor = Number("low_freq_factor"),
            HighFreqFactor = Number("high_freq_factor"),
            OriginalMaxPositionEmbeddings = originalMax,
            PartialRotaryFactor = partial,
        };

        if (!(theta > 0)) throw config.Error(Key("rope_theta"), $"must be positive, found {theta}");
        if (!(partial > 0 && partial <= 1)) throw config.Error("partial_rotary_factor", $"must be in (0, 1], found {partial}");
        if (ropeType is "linear" or "llama3" && !(rope.Factor > 0))
            throw config.Error(Key("factor"), $"rope_type '{ropeType}' needs a positive 'factor'");
        if (ropeType == "llama3")
        {
            if (rope.LowFreqFactor is null) throw config.Error(Key("low_freq_factor"), "rope_type 'llama3' needs it");
            if (rope.HighFreqFactor is null) throw config.Error(Key("high_freq_factor"), "rope_type 'llama3' needs it");
            if (!(rope.HighFreqFactor > rope.LowFreqFactor && rope.LowFreqFactor > 0))
                throw config.Error(Key("high_freq_factor"), $"llama3 needs 0 < low_freq_factor < high_freq_factor, found {rope.LowFreqFactor} and {rope.HighFreqFactor}");
        }
        return rope;
    }
}
