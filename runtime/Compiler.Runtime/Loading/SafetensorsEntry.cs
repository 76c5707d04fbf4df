namespace Compiler.Runtime.Loading;

/// <summary>A tensor to write with <see cref="SafetensorsWriter"/>: raw little-endian bytes of its dtype.</summary>
internal sealed record SafetensorsEntry(string Name, TensorDType DType, long[] Shape, ReadOnlyMemory<byte> Data)
{
    /// <summary>Encodes float32 values as <paramref name="dtype"/> (BF16/F16 round to nearest even).</summary>
    public static SafetensorsEntry FromFloats(string name, TensorDType dtype, long[] shape, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * dtype.ElementSize()];
        FloatConversion.FromFloat32(dtype, values, bytes);
        return new SafetensorsEntry(name, dtype, shape, bytes);
    }
}
