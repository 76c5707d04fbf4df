using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Compiler.Runtime.Loading;

/// <summary>BF16 / F16 / F32 conversions for the CPU backend and the dummy loader, vectorised where the hardware
/// allows. Bytes are little-endian as in safetensors; spans need no alignment.</summary>
internal static class FloatConversion
{
    /// <summary>Converts <paramref name="source"/> (elements of <paramref name="dtype"/>) to float32.</summary>
    public static void ToFloat32(TensorDType dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (source.Length != destination.Length * dtype.ElementSize())
            throw new ArgumentException($"{source.Length} bytes of {dtype.ToSafetensorsName()} do not make {destination.Length} elements");
        switch (dtype)
        {
            case TensorDType.BF16: Bf16ToFloat32(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case TensorDType.F16: TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source), destination); break;
            case TensorDType.F32: MemoryMarshal.Cast<byte, float>(source).CopyTo(destination); break;
            default: throw new NotSupportedException($"no float32 conversion from {dtype.ToSafetensorsName()}");
        }
    }

    /// <summary>Converts float32 values to <paramref name="dtype"/> bytes (BF16 and F16 round to nearest even).</summary>
    public static void FromFloat32(TensorDType dtype, ReadOnlySpan<float> source, Span<byte> destination)
    {
        if (destination.Length != source.Length * dtype.ElementSize())
            throw new ArgumentException($"{destination.Length} bytes of {dtype.ToSafetensorsName()} do not hold {source.Length} elements");
        switch (dtype)
        {
            case TensorDType.BF16: Float32ToBf16(source, MemoryMarshal.Cast<byte, ushort>(destination)); break;
            case TensorDType.F16: TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<byte, Half>(destination)); break;
            case TensorDType.F32: MemoryMarshal.AsBytes(source).CopyTo(destination); break;
            default: throw new NotSupportedException($"no conversion from float32 to {dtype.ToSafetensorsName()}");
        }
    }

    /// <summary>bf16 is the top half of a float32: widen and shift.</summary>
    public static void Bf16ToFloat32(ReadOnlySpan<ushort> source, Span<float> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException("source and destination lengths differ");
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(destination));
        int n = source.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.LoadUnsafe(ref src, (nuint)i));
                (lower << 16).StoreUnsafe(ref dst, (nuint)i);
                (upper << 16).StoreUnsafe(ref dst, (nuint)(i + Vector256<uint>.Count));
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - Vector128<ushort>.Count; i += Vector128<ushort>.Count)
            {
                var (lower, upper) = Vector128.Widen(Vector128.LoadUnsafe(ref src, (nuint)i));
                (lower << 16).StoreUnsafe(ref dst, (nuint)i);
                (upper << 16).StoreUnsafe(ref dst, (nuint)(i + Vector128<uint>.Count));
            }
        }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = (uint)Unsafe.Add(ref src, i) << 16;
    }

    /// <summary>Round-to-nearest-even float32 -> bf16, as torch's .to(torch.bfloat16); NaN stays a quiet NaN.</summary>
    public static void Float32ToBf16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        if (source.Length != destination.Length) throw new ArgumentException("source and destination lengths differ");
        ref var src = ref Unsafe.As<float, uint>(ref MemoryMarshal.GetReference(source));
        ref var dst = ref MemoryMarshal.GetReference(destination);
        int n = source.Length, i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - Vector256<ushort>.Count; i += Vector256<ushort>.Count)
            {
                var lower = RoundToBf16(Vector256.LoadUnsafe(ref src, (nuint)i));
                var upper = RoundToBf16(Vector256.LoadUnsafe(ref src, (nuint)(i + Vector256<uint>.Count)));
                Vector256.Narrow(lower, upper).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref dst, i) = FloatToBf16Bits(Unsafe.As<uint, float>(ref Unsafe.Add(ref src, i)));
    }

    /// <summary>One float32 -> bf16 bit pattern (round to nearest even).</summary>
    public static ushort FloatToBf16Bits(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    /// <summary>One bf16 bit pattern -> float32 (exact).</summary>
    public static float Bf16BitsToFloat(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    private static Vector256<uint> RoundToBf16(Vector256<uint> bits)
    {
        var rounded = (bits + Vector256.Create(0x7FFFu) + ((bits >> 16) & Vector256<uint>.One)) >> 16;
        var asFloat = bits.AsSingle();
        var isNaN = ~Vector256.Equals(asFloat, asFloat).AsUInt32();
        return Vector256.ConditionalSelect(isNaN, (bits >> 16) | Vector256.Create(0x0040u), rounded);
    }
}
