namespace Compiler.Generator.Ir;

/// <summary>Readable names derived from checkpoint tensor names, for graph values, kernels and kernel parameters.</summary>
internal static class WeightNames
{
    /// <summary>The module that owns a tensor: <c>model.layers.{i}.mlp.down_proj.weight</c> -> <c>down_proj</c>,
    /// <c>model.embed_tokens.weight</c> -> <c>embed_tokens</c>.</summary>
    public static string Module(string weight)
    {
        var parts = weight.Split('.');
        return parts.Length >= 2 ? parts[parts.Length - 2] : parts[0];
    }
}
