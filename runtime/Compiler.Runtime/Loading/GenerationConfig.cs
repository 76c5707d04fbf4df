using System.Text.Json;

namespace Compiler.Runtime.Loading;

/// <summary>generation_config.json: the model author's default sampling settings. Every value is null when the file
/// leaves it out, so callers can tell "not set" (use the engine's default) from a chosen value.</summary>
public sealed class GenerationConfig
{
    /// <summary>The file name inside a model directory.</summary>
    public const string FileName = "generation_config.json";

    private readonly ConfigJson _json;

    private GenerationConfig(ConfigJson json)
    {
        _json = json;
        Temperature = json.TryGetNumber("temperature", out var t) ? t : null;
        TopP = json.TryGetNumber("top_p", out var p) ? p : null;
        TopK = json.TryGetInt("top_k", out var k) ? k : null;
        MinP = json.TryGetNumber("min_p", out var mp) ? mp : null;
        RepetitionPenalty = json.TryGetNumber("repetition_penalty", out var r) ? r : null;
        DoSample = json.TryGetBool("do_sample", out var d) ? d : null;
        MaxNewTokens = json.TryGetInt("max_new_tokens", out var m) ? m : null;
        MaxLength = json.TryGetInt("max_length", out var ml) ? ml : null;
        BosTokenId = json.TryGetInt("bos_token_id", out var b) ? b : null;
        EosTokenIds = json.GetIntOrIntList("eos_token_id");
        PadTokenId = json.TryGetInt("pad_token_id", out var pad) ? pad : null;
        if (Temperature is < 0) throw json.Error("temperature", $"must not be negative, found {Temperature}");
        if (TopP is <= 0 or > 1) throw json.Error("top_p", $"must be in (0, 1], found {TopP}");
        if (RepetitionPenalty is <= 0) throw json.Error("repetition_penalty", $"must be positive, found {RepetitionPenalty}");
    }

    /// <summary>Reads generation_config.json from a model directory; null when the directory has none.</summary>
    public static GenerationConfig? Load(string directory)
    {
        var file = Path.Combine(directory, FileName);
        return File.Exists(file) ? new GenerationConfig(ConfigJson.Load(Path.GetFullPath(file))) : null;
    }

    /// <summary>Parses generation config JSON text; <paramref name="filePath"/> is used in error messages.</summary>
    public static GenerationConfig Parse(string json, string filePath = FileName) => new(ConfigJson.Parse(json, filePath));

    /// <summary>The file this came from.</summary>
    public string FilePath => _json.Path;

    /// <summary>The whole JSON object.</summary>
    public JsonElement Raw => _json.Root;

    /// <summary>Sampling temperature (transformers' default when absent: 1.0).</summary>
    public double? Temperature { get; }

    /// <summary>Nucleus sampling mass (default 1.0).</summary>
    public double? TopP { get; }

    /// <summary>Top-k cutoff (default 50).</summary>
    public int? TopK { get; }

    /// <summary>Min-p cutoff (default none).</summary>
    public double? MinP { get; }

    /// <summary>Repetition penalty (default 1.0).</summary>
    public double? RepetitionPenalty { get; }

    /// <summary>Sample rather than greedy-decode (default false).</summary>
    public bool? DoSample { get; }

    /// <summary>Default completion length cap.</summary>
    public int? MaxNewTokens { get; }

    /// <summary>Prompt + completion length cap (older files).</summary>
    public int? MaxLength { get; }

    /// <summary>Beginning-of-sequence token.</summary>
    public int? BosTokenId { get; }

    /// <summary>Tokens that stop generation (int or list in the file).</summary>
    public IReadOnlyList<int>? EosTokenIds { get; }

    /// <summary>Padding token.</summary>
    public int? PadTokenId { get; }
}
