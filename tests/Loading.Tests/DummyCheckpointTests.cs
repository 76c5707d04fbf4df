using System.Diagnostics;

namespace Compiler.Runtime.Loading.Tests;

public sealed class DummyCheckpointTests
{
    private static readonly ExpectedTensor[] Shapes =
    [
        new("model.embed_tokens.weight", [300, 64]),
        new("model.layers.0.mlp.gate_proj.weight", [1024, 2048]),   // 2M elements: spans two parallel chunks
        new("model.layers.0.input_layernorm.weight", [64]),
        new("model.norm.weight", [7]),
    ];

    [Theory]
    [InlineData(TensorDType.BF16)]
    [InlineData(TensorDType.F16)]
    [InlineData(TensorDType.F32)]
    public void HasTheExpectedNamesShapesAndDtype(TensorDType dtype)
    {
        using var checkpoint = Checkpoint.CreateDummy(Shapes, dtype, seed: 7);
        Assert.Equal("<dummy>", checkpoint.Source);
        Assert.Equal(Shapes.Select(s => s.Name).Order(StringComparer.Ordinal), checkpoint.Tensors.Select(t => t.Name));
        foreach (var s in Shapes)
        {
            var t = checkpoint.GetTensor(s.Name, s.Shape);
            Assert.Equal(dtype, t.DType);
            Assert.Equal(s.Shape.Aggregate(1L, (a, b) => a * b) * dtype.ElementSize(), t.ByteLength);
        }
        Assert.True(checkpoint.Validate(Shapes).IsValid);
    }

    [Fact]
    public void SameSeedGivesTheSameBytesAndAnotherSeedDoesNot()
    {
        using var a = Checkpoint.CreateDummy(Shapes, TensorDType.BF16, seed: 42);
        using var b = Checkpoint.CreateDummy(Shapes.Reverse(), TensorDType.BF16, seed: 42);   // order of the list must not matter
        using var c = Checkpoint.CreateDummy(Shapes, TensorDType.BF16, seed: 43);
        foreach (var s in Shapes)
        {
            Assert.True(a.GetTensor(s.Name).Bytes.SequenceEqual(b.GetTensor(s.Name).Bytes), s.Name);
            Assert.False(a.GetTensor(s.Name).Bytes.SequenceEqual(c.GetTensor(s.Name).Bytes), s.Name);
        }
        // Different tensors of one checkpoint are not copies of each other.
        Assert.False(a.GetTensor("model.layers.0.input_layernorm.weight").Bytes.SequenceEqual(a.GetTensor("model.embed_tokens.weight").GetBytes(0, 128)));
    }

    [Fact]
    public void EveryElementEqualsTheScalarDefinitionRoundedToTheDtype()
    {
        // The vector path, the chunking and the tails must all reproduce DummyWeights.ValueAt exactly.
        const string name = "model.layers.0.mlp.gate_proj.weight";
        using var bf16 = Checkpoint.CreateDummy(Shapes, TensorDType.BF16, seed: 5);
        using var f32 = Checkpoint.CreateDummy(Shapes, TensorDType.F32, seed: 5);
        var asBf16 = bf16.GetTensor(name).ToFloat32Array();
        var asF32 = f32.GetTensor(name).ToFloat32Array();
        var probe = new List<long> { 0, 1, 7, 8, 4095, 4096, (1 << 20) - 1, 1 << 20, (1 << 20) + 9, asF32.Length - 1 };
        var random = new Random(3);
        for (var i = 0; i < 2000; i++) probe.Add(random.NextInt64(asF32.Length));
        foreach (var i in probe)
        {
            var expected = DummyWeights.ValueAt(5, name, i, 1e-3f);
            Assert.Equal(expected, asF32[i]);
            Assert.Equal(FloatConversion.Bf16BitsToFloat(FloatConversion.FloatToBf16Bits(expected)), asBf16[i]);
        }
        var tail = f32.GetTensor("model.norm.weight").ToFloat32Array();
        for (var i = 0; i < tail.Length; i++) Assert.Equal(DummyWeights.ValueAt(5, "model.norm.weight", i, 1e-3f), tail[i]);
    }

    [Fact]
    public void ValuesAreUniformInPlusMinusScale()
    {
        using var checkpoint = Checkpoint.CreateDummy([new ExpectedTensor("w", [1 << 21])], TensorDType.F32, seed: 1, scale: 0.5f);
        var values = checkpoint.GetTensor("w").ToFloat32Array();
        double sum = 0, sumSquares = 0;
        var buckets = new int[10];
        foreach (var v in values)
        {
            Assert.InRange(v, -0.5f, 0.5f);
            sum += v;
            sumSquares += (double)v * v;
            buckets[Math.Min(9, (int)((v + 0.5f) * 10))]++;
        }
        var n = values.Length;
        Assert.InRange(sum / n, -0.002, 0.002);                       // mean 0, std of the mean ~ 0.0002
        Assert.InRange(sumSquares / n, 1 / 12.0 - 0.002, 1 / 12.0 + 0.002);   // variance of U(-0.5, 0.5) = 1/12
        foreach (var b in buckets) Assert.InRange(b, n / 10 * 0.98, n / 10 * 1.02);
        Assert.True(values.Max() > 0.49f && values.Min() < -0.49f);
    }

    [Fact]
    public void DefaultScaleIsSglangsOneThousandth()
    {
        using var checkpoint = Checkpoint.CreateDummy([new ExpectedTensor("w", [4096])], TensorDType.BF16);
        var values = checkpoint.GetTensor("w").ToFloat32Array();
        Assert.All(values, v => Assert.InRange(v, -1.001e-3f, 1.001e-3f));
        Assert.True(values.Max() > 0.9e-3f);
    }

    [Fact]
    public void RejectsUnsupportedDtypeAndDuplicateNames()
    {
        Assert.Throws<ArgumentException>(() => Checkpoint.CreateDummy(Shapes, TensorDType.I32));
        Assert.Throws<ArgumentException>(() => Checkpoint.CreateDummy([new("a", [1]), new("a", [2])], TensorDType.BF16));
    }

    [Fact]
    public void DisposeFreesTheMemoryAndLaterAccessThrows()
    {
        var checkpoint = Checkpoint.CreateDummy(Shapes, TensorDType.BF16);
        var t = checkpoint.GetTensor("model.norm.weight");
        checkpoint.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.Bytes.Length);
    }

    [Fact]
    public void FillsHundredsOfMegabytesQuickly()
    {
        // 256 MiB of bf16 (an 8B model's MLP layer is ~350 MB); generous bound so a busy CI box still passes.
        var stopwatch = Stopwatch.StartNew();
        using var checkpoint = Checkpoint.CreateDummy([new ExpectedTensor("big", [16384, 8192])], TensorDType.BF16, seed: 9);
        stopwatch.Stop();
        Assert.Equal(256L << 20, checkpoint.TotalBytes);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        var t = checkpoint.GetTensor("big");
        var last = new float[1];
        t.CopyToFloat32(t.ElementCount - 1, last);
        Assert.Equal(FloatConversion.Bf16BitsToFloat(FloatConversion.FloatToBf16Bits(DummyWeights.ValueAt(9, "big", t.ElementCount - 1, 1e-3f))), last[0]);
    }
}
