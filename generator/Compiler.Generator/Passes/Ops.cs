using System.Collections.Generic;

namespace Compiler.Generator.Passes;

/// <summary>The operations a model file may call, with their parameters (for arity checks and messages).</summary>
internal static class Ops
{
    public sealed record Signature(string[] Parameters, int Optional, string Help);

    public static readonly IReadOnlyDictionary<string, Signature> All = new Dictionary<string, Signature>
    {
        ["embed"] = new(["ids", "weight"], 0, "embed(input_ids, model.embed_tokens.weight[vocab, hidden])"),
        ["rms_norm"] = new(["x", "weight", "eps"], 0, "rms_norm(x, input_layernorm.weight[hidden], eps)"),
        ["head_rms_norm"] = new(["x", "weight", "eps"], 0, "head_rms_norm(q, self_attn.q_norm.weight[head_dim], eps)"),
        ["linear"] = new(["x", "weight", "bias"], 1, "linear(h, mlp.up_proj.weight[inter, hidden]) or linear(h, W[n, k], b[n])"),
        ["rope"] = new(["x", "positions", "head_dim"], 0, "rope(q, positions, head_dim)"),
        ["attention"] = new(["q", "k", "v", "head_dim"], 0, "attention(q, k, v, head_dim)"),
        ["silu"] = new(["x"], 0, "silu(g)"),
        ["lm_head"] = new(["x", "weight"], 0, "lm_head(x, lm_head.weight[vocab, hidden])"),
    };
}
