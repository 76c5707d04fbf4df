namespace Compiler.Runtime.Engine.Cuda;

/// <summary>float -> bf16 bits, rounding to nearest even (NaN stays NaN), as torch's .to(bfloat16).</summary>
internal static class Bf16
{
    public static void FromFloat(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        for (var i = 0; i < source.Length; i++)
        {
            var bits = BitConverter.SingleToUInt32Bits(source[i]);
            destination[i] = float.IsNaN(source[i]) ? (ushort)0x7FC0 : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
        }
    }
}
