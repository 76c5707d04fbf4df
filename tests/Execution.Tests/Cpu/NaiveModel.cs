using Compiler.Runtime.Loading;

namespace Execution.Tests.Cpu;

/// <summary>
/// An independent fp64 forward of Llama / Qwen2 / Qwen3 for one sequence, transcribed from transformers' modeling
/// code (no plan, no fused kernels, no KV cache): reads the checkpoint's own tensor names (q_proj, k_proj ... not
/// the plan's merged weights) and computes the RoPE frequencies itself, so a plan-interpretation bug in the CPU
/// backend cannot cancel out.
/// </summary>
internal sealed class NaiveModel
{
    private readonly HfConfig _config;
    private readonly Func<string, double[]?> _tensor;
    private readonly Dictionary<string, double[]> _cache = [];
    private readonly bool _qkNorm, _qkvBias;
    private readonly double[] _invFreq;

    public NaiveModel(HfConfig config, Checkpoint checkpoint)
    {
        _config = config;
        _tensor = name => checkpoint.TryGetTensor(name, out var t) ? Array.ConvertAll(t.ToFloat32Array(), v => (double)v) : null;
        var arch = config.Architectures[0];
        _qkNorm = arch == "Qwen3ForCausalLM";
        _qkvBias = arch == "Qwen2ForCausalLM";
        _invFreq = InvFreq(config);
    }

    public int Vocab => _config.VocabSize;

    /// <summary>Logits [n][vocab] of every position of <paramref name="ids"/> (positions 0..n-1).</summary>
    public double[][] Forward(IReadOnlyList<int> ids)
    {
        var c = _config;
        int n = ids.Count, hidden = c.HiddenSize, heads = c.NumAttentionHeads, kvHeads = c.NumKeyValueHeads, d = c.HeadDim;
        var embed = W("model.embed_tokens.weight");
        var x = new double[n][];
        for (var t = 0; t < n; t++) x[t] = embed.AsSpan(ids[t] * hidden, hidden).ToArray();

        for (var l = 0; l < c.NumHiddenLayers; l++)
        {
            var p = $"model.layers.{l}.";
            var q = new double[n][];
            var k = new double[n][];
            var v = new double[n][];
            for (var t = 0; t < n; t++)
            {
                var h = RmsNorm(x[t], W(p + "input_layernorm.weight"));
                q[t] = Linear(h, W(p + "self_attn.q_proj.weight"), _qkvBias ? W(p + "self_attn.q_proj.bias") : null);
                k[t] = Linear(h, W(p + "self_attn.k_proj.weight"), _qkvBias ? W(p + "self_attn.k_proj.bias") : null);
                v[t] = Linear(h, W(p + "self_attn.v_proj.weight"), _qkvBias ? W(p + "self_attn.v_proj.bias") : null);
                if (_qkNorm)
                {
                    q[t] = PerHead(q[t], d, hh => RmsNorm(hh, W(p + "self_attn.q_norm.weight")));
                    k[t] = PerHead(k[t], d, hh => RmsNorm(hh, W(p + "self_attn.k_norm.weight")));
                }
                q[t] = PerHead(q[t], d, hh => Rope(hh, t));
                k[t] = PerHead(k[t], d, hh => Rope(hh, t));
            }
            var group = heads / kvHeads;
            var scale = 1.0 / Math.Sqrt(d);
            for (var t = 0; t < n; t++)
            {
                var attn = new double[heads * d];
                for (var hq = 0; hq < heads; hq++)
                {
                    var kvh = hq / group;
                    var scores = new double[t + 1];
                    for (var s = 0; s <= t; s++)
                    {
                        double dot = 0;
                        for (var i = 0; i < d; i++) dot += q[t][hq * d + i] * k[s][kvh * d + i];
                        scores[s] = dot * scale;
                    }
                    var max = scores.Max();
                    var sum = 0.0;
                    for (var s = 0; s <= t; s++) sum += scores[s] = Math.Exp(scores[s] - max);
                    for (var s = 0; s <= t; s++)
                        for (var i = 0; i < d; i++) attn[hq * d + i] += scores[s] / sum * v[s][kvh * d + i];
                }
                Add(x[t], Linear(attn, W(p + "self_attn.o_proj.weight"), null));
                var h = RmsNorm(x[t], W(p + "post_attention_layernorm.weight"));
                var gate = Linear(h, W(p + "mlp.gate_proj.weight"), null);
                var up = Linear(h, W(p + "mlp.up_proj.weight"), null);
                for (var i = 0; i < gate.Length; i++) gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
                Add(x[t], Linear(gate, W(p + "mlp.down_proj.weight"), null));
            }
        }
        var head = _tensor("lm_head.weight") ?? (c.TieWordEmbeddings ? embed : throw new InvalidOperationException("no lm_head.weight"));
        var logits = new double[n][];
        for (var t = 0; t < n; t++) logits[t] = Linear(RmsNorm(x[t], W("model.norm.weight")), head, null);
        return logits;
    }

    /// <summary>Greedy continuation by full recomputation (no cache at all).</summary>
    public int[] Greedy(IReadOnlyList<int> prompt, int newTokens)
    {
        var seq = new List<int>(prompt);
        var result = new int[newTokens];
        for (var i = 0; i < newTokens; i++)
        {
            var last = Forward(seq)[^1];
            var best = 0;
            for (var j = 1; j < last.Length; j++) if (last[j] > last[best]) best = j;
            seq.Add(result[i] = best);
        }
        return result;
    }

    private double[] W(string name)
    {
        if (!_cache.TryGetValue(name, out var w)) _cache[name] = w = _tensor(name) ?? throw new InvalidOperationException($"checkpoint has no {name}");
        return w;
    }

    private double[] RmsNorm(double[] x, double[] w)
    {
        var ss = 0.0;
        foreach (var e in x) ss += e * e;
        var r = 1.0 / Math.Sqrt(ss / x.Length + _config.RmsNormEps);
        return x.Select((e, i) => e * r * w[i]).ToArray();
    }

    private static double[] Linear(double[] x, double[] w, double[]? bias)
    {
        var outDim = w.Length / x.Length;
        var y = new double[outDim];
        for (var o = 0; o < outDim; o++)
        {
            var s = bias?[o] ?? 0.0;
            for (var i = 0; i < x.Length; i++) s += x[i] * w[o * x.Length + i];
            y[o] = s;
        }
        return y;
    }

    private static void Add(double[] x, double[] y)
    {
        for (var i = 0; i < x.Length; i++) x[i] += y[i];
    }

    private static double[] PerHead(double[] x, int d, Func<double[], double[]> f)
    {
        var y = new double[x.Length];
        for (var h = 0; h < x.Length; h += d) f(x[h..(h + d)]).CopyTo(y, h);
        return y;
    }

    // rotate_half: [x1, x2] -> x * cos + [-x2, x1] * sin, with cos/sin of pos * inv_freq repeated over both halves.
    private double[] Rope(double[] x, int pos)
    {
        var half = x.Length / 2;
        var y = new double[x.Length];
        for (var f = 0; f < half; f++)
        {
            var a = pos * _invFreq[f];
            y[f] = x[f] * Math.Cos(a) - x[f + half] * Math.Sin(a);
            y[f + half] = x[f + half] * Math.Cos(a) + x[f] * Math.Sin(a);
        }
        return y;
    }

    // transformers' _compute_default_rope_parameters / _compute_llama3_parameters, in float64.
    private static double[] InvFreq(HfConfig c)
    {
        var d = c.HeadDim;
        var rope = c.Rope;
        var inv = Enumerable.Range(0, d / 2).Select(i => 1.0 / Math.Pow(rope.Theta, 2.0 * i / d)).ToArray();
        if (rope.RopeType == "default") return inv;
        if (rope.RopeType != "llama3") throw new NotSupportedException(rope.RopeType);
        double factor = rope.Factor!.Value, low = rope.LowFreqFactor!.Value, high = rope.HighFreqFactor!.Value;
        double old = rope.OriginalMaxPositionEmbeddings!.Value;
        for (var i = 0; i < inv.Length; i++)
        {
            var wavelen = 2 * Math.PI / inv[i];
            if (wavelen < old / high) continue;
            if (wavelen > old / low) { inv[i] /= factor; continue; }
            var smooth = (old / wavelen - low) / (high - low);
            inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
        }
        return inv;
    }
}
