using System.Runtime.InteropServices;

namespace Compiler.Runtime.Loading.Tests;

public sealed class SafetensorsRoundTripTests
{
    private static float[] Ramp(int n, float step = 0.25f, float start = -3f)
    {
        var v = new float[n];
        for (var i = 0; i < n; i++) v[i] = start + i * step;   // multiples of 1/4 up to a few units: exact in bf16 and f16
        return v;
    }

    [Theory]
    [InlineData(TensorDType.F32)]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F16)]
    public void WriteThenReadGivesBackNameDtypeShapeAndValues(TensorDType dtype)
    {
        using var dir = new TempDirectory();
        var a = Ramp(6 * 5);
        var b = Ramp(7, 0.5f, 1f);
        SafetensorsWriter.Write(dir.File(Checkpoint.SingleFileName),
        [
            SafetensorsEntry.FromFloats("model.a.weight", dtype, [6, 5], a),
            SafetensorsEntry.FromFloats("model.b.bias", dtype, [7], b),
        ], new Dictionary<string, string> { ["format"] = "pt" });

        using var checkpoint = Checkpoint.Open(dir.Path);
        Assert.Equal(["model.a.weight", "model.b.bias"], checkpoint.Tensors.Select(t => t.Name));
        Assert.Equal("pt", checkpoint.Metadata["format"]);

        var ta = checkpoint.GetTensor("model.a.weight", [6, 5]);
        Assert.Equal(dtype, ta.DType);
        Assert.Equal([6L, 5L], ta.Shape);
        Assert.Equal(30, ta.ElementCount);
        Assert.Equal(30 * dtype.ElementSize(), ta.ByteLength);
        Assert.Equal(dir.File(Checkpoint.SingleFileName), ta.FilePath);
        Assert.Equal(a, ta.ToFloat32Array());
        Assert.Equal(b, checkpoint.GetTensor("model.b.bias").ToFloat32Array());

        // The second tensor's bytes start right after the first's, inside the same file.
        var tb = checkpoint.GetTensor("model.b.bias");
        Assert.Equal(ta.FileOffset + ta.ByteLength, tb.FileOffset);
        Assert.Equal(ta.Address + (nint)ta.ByteLength, tb.Address);
    }

    [Fact]
    public void RawBytesAreExactlyTheBytesInTheFile()
    {
        using var dir = new TempDirectory();
        var data = new byte[] { 0x80, 0x3F, 0x00, 0xC0, 0x49, 0x40 };   // bf16 1.0, -2.0, 3.140625
        var path = dir.File("x.safetensors");
        SafetensorsWriter.Write(path, [new SafetensorsEntry("w", TensorDType.BF16, [3], data)]);
        using var checkpoint = Checkpoint.Open(path);
        var w = checkpoint.GetTensor("w");
        Assert.Equal(data, w.Bytes.ToArray());
        Assert.Equal(data.AsSpan(2, 4).ToArray(), w.GetBytes(2, 4).ToArray());
        Assert.Equal([1f, -2f, 3.140625f], w.ToFloat32Array());
        var onDisk = File.ReadAllBytes(path);
        Assert.Equal(data, onDisk.AsSpan((int)w.FileOffset, 6).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => w.GetBytes(4, 4).Length);
    }

    [Fact]
    public void HeaderIsPaddedSoDataStartsOnAnEightByteBoundary()
    {
        var header = SafetensorsWriter.BuildHeader([new SafetensorsEntry("abc", TensorDType.F32, [1], new byte[4])]);
        Assert.Equal(0, header.Length % 8);
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [new SafetensorsEntry("abc", TensorDType.F32, [1], new byte[4])]);
        using var checkpoint = Checkpoint.Open(dir.File("m.safetensors"));
        Assert.Equal(0, checkpoint.GetTensor("abc").FileOffset % 8);
    }

    [Fact]
    public void PartialConversionReadsTheRequestedRow()
    {
        using var dir = new TempDirectory();
        var values = Ramp(4 * 8);
        SafetensorsWriter.Write(dir.File("m.safetensors"), [SafetensorsEntry.FromFloats("e", TensorDType.BF16, [4, 8], values)]);
        using var checkpoint = Checkpoint.Open(dir.File("m.safetensors"));
        var row = new float[8];
        checkpoint.GetTensor("e").CopyToFloat32(2 * 8, row);
        Assert.Equal(values.AsSpan(16, 8).ToArray(), row);
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.GetTensor("e").CopyToFloat32(3 * 8 + 1, row));
    }

    [Fact]
    public void ScalarsAndEmptyTensorsRoundTrip()
    {
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("m.safetensors"),
        [
            SafetensorsEntry.FromFloats("scalar", TensorDType.F32, [], [42.5f]),
            new SafetensorsEntry("empty", TensorDType.BF16, [0, 16], Array.Empty<byte>()),
        ]);
        using var checkpoint = Checkpoint.Open(dir.File("m.safetensors"));
        Assert.Equal([42.5f], checkpoint.GetTensor("scalar").ToFloat32Array());
        Assert.Empty(checkpoint.GetTensor("scalar").Shape);
        Assert.Equal(0, checkpoint.GetTensor("empty").ElementCount);
        Assert.Empty(checkpoint.GetTensor("empty").ToFloat32Array());
    }

    [Fact]
    public void AccessAfterDisposeThrowsInsteadOfReadingUnmappedMemory()
    {
        using var dir = new TempDirectory();
        SafetensorsWriter.Write(dir.File("m.safetensors"), [SafetensorsEntry.FromFloats("w", TensorDType.F32, [2], [1f, 2f])]);
        var checkpoint = Checkpoint.Open(dir.File("m.safetensors"));
        var w = checkpoint.GetTensor("w");
        checkpoint.Dispose();
        Assert.Throws<ObjectDisposedException>(() => w.Bytes.Length);
        Assert.Throws<ObjectDisposedException>(() => w.ToFloat32Array());
        Assert.Throws<ObjectDisposedException>(() => w.Address);
    }

    [Fact]
    public void Bf16ConversionMatchesScalarRoundToNearestEvenOnEveryLength()
    {
        var random = new Random(1234);
        for (var n = 0; n < 70; n++)
        {
            var values = new float[n];
            for (var i = 0; i < n; i++) values[i] = (float)(random.NextDouble() * 200 - 100) * MathF.Pow(2, random.Next(-20, 20));
            if (n > 3) { values[0] = float.NaN; values[1] = float.PositiveInfinity; values[2] = -0f; }
            var bf16 = new ushort[n];
            FloatConversion.Float32ToBf16(values, bf16);
            var back = new float[n];
            FloatConversion.Bf16ToFloat32(bf16, back);
            for (var i = 0; i < n; i++)
            {
                Assert.Equal(ReferenceBf16(values[i]), bf16[i]);
                if (float.IsNaN(values[i])) Assert.True(float.IsNaN(back[i]));
                else Assert.Equal(BitConverter.UInt32BitsToSingle((uint)bf16[i] << 16), back[i]);
            }
        }
    }

    [Fact]
    public void Bf16RoundsTiesToEven()
    {
        // 1 + 2^-8 is halfway between bf16 1.0 and 1.0078125: ties go to the even mantissa (1.0).
        Assert.Equal(0x3F80, FloatConversion.FloatToBf16Bits(1f + 1f / 256));
        // 1 + 3 * 2^-8 is halfway between 1.0078125 (odd) and 1.015625 (even): rounds up.
        Assert.Equal(0x3F82, FloatConversion.FloatToBf16Bits(1f + 3f / 256));
        // Just above the tie rounds up.
        Assert.Equal(0x3F81, FloatConversion.FloatToBf16Bits(BitConverter.UInt32BitsToSingle(0x3F808001)));
    }

    [Fact]
    public void F16ConversionAgreesWithSystemHalf()
    {
        var values = Enumerable.Range(0, 37).Select(i => (float)Math.Sin(i) * 1000f).ToArray();
        var bytes = new byte[values.Length * 2];
        FloatConversion.FromFloat32(TensorDType.F16, values, bytes);
        var halves = MemoryMarshal.Cast<byte, Half>(bytes).ToArray();
        var back = new float[values.Length];
        FloatConversion.ToFloat32(TensorDType.F16, bytes, back);
        for (var i = 0; i < values.Length; i++)
        {
            Assert.Equal((Half)values[i], halves[i]);
            Assert.Equal((float)(Half)values[i], back[i]);
        }
    }

    // Independent definition: pick the nearer bf16 neighbour by exact double arithmetic, ties to even.
    private static ushort ReferenceBf16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        var down = (ushort)(bits >> 16);
        if ((bits & 0xFFFF) == 0) return down;
        var up = (ushort)(down + 1);
        double lo = BitConverter.UInt32BitsToSingle((uint)down << 16), hi = BitConverter.UInt32BitsToSingle((uint)up << 16);
        if (float.IsInfinity(BitConverter.UInt32BitsToSingle((uint)up << 16))) hi = Math.Sign(lo) * Math.Pow(2, 128);
        double dLo = Math.Abs(value - lo), dHi = Math.Abs(hi - value);
        return dLo < dHi ? down : dHi < dLo ? up : (down & 1) == 0 ? down : up;
    }
}
