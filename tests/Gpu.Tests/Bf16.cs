namespace Gpu.Tests;

/// <summary>bfloat16 bit conversions for host-side references (round to nearest even, like __float2bfloat16).</summary>
internal static class Bf16
{
    public static ushort FromFloat(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return 0x7FC0;
        }

        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float ToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>Uniform values in [-scale, scale], already rounded to bf16.</summary>
    public static ushort[] Random(int count, int seed, float scale = 1f)
    {
        var random = new Random(seed);
        var values = new ushort[count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = FromFloat((float)(random.NextDouble() * 2 - 1) * scale);
        }

        return values;
    }
}
