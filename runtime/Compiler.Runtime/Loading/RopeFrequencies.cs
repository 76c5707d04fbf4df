namespace Compiler.Runtime.Loading;

/// <summary>RoPE inverse frequencies computed the way transformers does on CPU, op for op in float32
/// (_compute_default_rope_parameters, _compute_linear_scaling_rope_parameters, _compute_llama3_parameters):
/// Python scalars become float32 operands, <c>scalar / tensor</c> is <c>tensor.reciprocal() * scalar</c>, and
/// only the power is evaluated in float64 and rounded once (torch's vectorised powf is within 1 ulp of that).</summary>
public static class RopeFrequencies
{
    /// <summary>inv_freq[rotary_dim / 2] for <paramref name="rope"/>; throws for types other than default, linear, llama3.</summary>
    public static float[] InvFreq(RopeParameters rope, int headDim)
    {
        ArgumentNullException.ThrowIfNull(rope);
        var dim = rope.RotaryDim(headDim);
        if (dim <= 0 || dim % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(headDim), $"rotary dimension {dim} (head_dim {headDim} * partial_rotary_factor {rope.PartialRotaryFactor}) must be even and positive");
        var invFreq = Default(rope.Theta, dim);
        switch (rope.RopeType)
        {
            case "default":
                break;
            case "linear":
                var linearFactor = (float)rope.Factor!.Value;
                for (var i = 0; i < invFreq.Length; i++) invFreq[i] /= linearFactor;
                break;
            case "llama3":
                ApplyLlama3(invFreq, rope);
                break;
            default:
                throw new NotSupportedException($"rope_type '{rope.RopeType}' is not implemented (default, linear and llama3 are); the model cannot be served with correct positions");
        }
        return invFreq;
    }

    // inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    private static float[] Default(double theta, int dim)
    {
        var result = new float[dim / 2];
        var baseF = (float)theta;                          // the Python float base becomes a float32 operand
        for (var i = 0; i < result.Length; i++)
        {
            var exponent = (float)(2 * i) / dim;            // float32 tensor / int
            var power = (float)Math.Pow(baseF, exponent);   // float32 pow, correctly rounded
            result[i] = 1f / power;                         // 1.0 / t == t.reciprocal() * 1.0
        }
        return result;
    }

    private static void ApplyLlama3(float[] invFreq, RopeParameters rope)
    {
        var factor = (float)rope.Factor!.Value;
        var lowFreqFactor = rope.LowFreqFactor!.Value;
        var highFreqFactor = rope.HighFreqFactor!.Value;
        double oldContextLen = rope.OriginalMaxPositionEmbeddings!.Value;

        // Python floats (float64), compared against float32 tensors as float32 operands.
        var lowFreqWavelen = (float)(oldContextLen / lowFreqFactor);
        var highFreqWavelen = (float)(oldContextLen / highFreqFactor);
        var twoPi = (float)(2 * Math.PI);
        var lowF = (float)lowFreqFactor;
        var span = (float)(highFreqFactor - lowFreqFactor);
        var oldLenF = (float)oldContextLen;

        for (var i = 0; i < invFreq.Length; i++)
        {
            var inv = invFreq[i];
            var wavelen = 1f / inv * twoPi;                                     // 2 * math.pi / inv_freq
            var llama = wavelen > lowFreqWavelen ? inv / factor : inv;          // torch.where(wavelen > low, inv / factor, inv)
            var smooth = (1f / wavelen * oldLenF - lowF) / span;                // (old_len / wavelen - low) / (high - low)
            var smoothed = (1f - smooth) * llama / factor + smooth * llama;
            var isMedium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            invFreq[i] = isMedium ? smoothed : llama;
        }
    }
}
