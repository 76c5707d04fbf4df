namespace Compiler.Runtime.Loading;

/// <summary>
/// The eos ids generation stops on, as SGLang stops on each of them: config.json's, then generation_config.json's,
/// then the tokenizer's eos token, each id once, in that order.
/// </summary>
internal static class EosTokens
{
    /// <param name="configEos">config.json's eos_token_id (or a runner's ids, which start from it).</param>
    /// <param name="modelDir">The model directory whose generation_config.json adds ids; null for none.</param>
    /// <param name="tokenizerEos">The tokenizer's eos_token id, if any.</param>
    public static IReadOnlyList<int> Union(IReadOnlyList<int> configEos, string? modelDir, int? tokenizerEos = null)
    {
        var eos = new List<int>(configEos);
        if (modelDir != null)
            foreach (int id in GenerationConfig.Load(modelDir)?.EosTokenIds ?? [])
                if (!eos.Contains(id)) eos.Add(id);
        if (tokenizerEos is { } t && !eos.Contains(t)) eos.Add(t);
        return eos;
    }
}
