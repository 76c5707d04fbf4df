namespace Compiler.Runtime.Loading.Tests;

public sealed class RopeFrequenciesTests
{
    private static readonly RopeParameters Llama31 = new()
    {
        RopeType = "llama3", Theta = 500000, Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192,
    };

    // Derived by hand (float64) from _compute_llama3_parameters for head_dim 128, theta 500000, factor 8, low 1,
    // high 4, original context 8192: inv = 500000^(-i/64); wavelen = 2*pi/inv; wavelen < 2048 keeps inv,
    // wavelen > 8192 gives inv/8, otherwise s = (8192/wavelen - 1)/3 and (1-s)*inv/8 + s*inv.
    [Theory]
    [InlineData(0, 1.0)]                          // wavelen 6.28: high frequency, unchanged
    [InlineData(20, 0.016560440080994446)]        // wavelen 379: unchanged
    [InlineData(28, 0.003211445994752591)]        // wavelen 1956: last unchanged index
    [InlineData(29, 0.002166570763503359)]        // wavelen 2402: first smoothed index
    [InlineData(32, 0.0005248461609929547)]       // wavelen 4443: smoothed, s = 0.2813
    [InlineData(34, 0.0001785078127679964)]       // wavelen 6695: last smoothed index
    [InlineData(35, 9.556212353964683e-05)]       // wavelen 8219: first divided by 8
    [InlineData(63, 3.068925988914511e-07)]       // lowest frequency: divided by 8
    public void Llama3MatchesHandDerivedValues(int index, double expected)
    {
        var invFreq = RopeFrequencies.InvFreq(Llama31, 128);
        Assert.Equal(64, invFreq.Length);
        // float32 evaluation of the same formula: a few ulps (float eps is 1.2e-7) from the float64 derivation.
        Assert.Equal(expected, invFreq[index], expected * 1e-6);
    }

    [Fact]
    public void Llama3RegionsAreExactlyDefaultOrDefaultOverFactor()
    {
        var plain = RopeFrequencies.InvFreq(Llama31 with { RopeType = "default" }, 128);
        var llama3 = RopeFrequencies.InvFreq(Llama31, 128);
        for (var i = 0; i <= 28; i++) Assert.Equal(plain[i], llama3[i]);
        for (var i = 35; i < 64; i++) Assert.Equal(plain[i] / 8f, llama3[i]);
        // The smoothed band lies strictly between the two and decreases monotonically.
        for (var i = 29; i <= 34; i++)
        {
            Assert.InRange(llama3[i], plain[i] / 8f, plain[i]);
            Assert.True(llama3[i] < llama3[i - 1]);
        }
    }

    [Fact]
    public void DefaultMatchesTheClosedForm()
    {
        var rope = new RopeParameters { RopeType = "default", Theta = 1_000_000 };
        var invFreq = rope.ComputeInvFreq(128);
        Assert.Equal(64, invFreq.Length);
        Assert.Equal(1f, invFreq[0]);
        for (var i = 0; i < 64; i++)
        {
            var exact = Math.Pow(1_000_000, -2.0 * i / 128);
            Assert.Equal(exact, invFreq[i], exact * 2.5e-7);   // float32: within ~2 ulp of the real value
        }
        // 1e6^(-0.5) = 1e-3 exactly in real numbers: float32 must give the nearest float to it.
        Assert.Equal(0.001f, invFreq[32]);
    }

    [Fact]
    public void LinearDividesByTheFactor()
    {
        var rope = new RopeParameters { RopeType = "linear", Theta = 10000, Factor = 4 };
        var plain = (rope with { RopeType = "default" }).ComputeInvFreq(64);
        var linear = rope.ComputeInvFreq(64);
        for (var i = 0; i < plain.Length; i++) Assert.Equal(plain[i] / 4f, linear[i]);
    }

    [Fact]
    public void PartialRotaryFactorShortensTheTable()
    {
        var rope = new RopeParameters { RopeType = "default", Theta = 10000, PartialRotaryFactor = 0.5 };
        Assert.Equal(16, rope.ComputeInvFreq(64).Length);
    }

    [Fact]
    public void UnimplementedRopeTypeSaysSo()
    {
        var e = Assert.Throws<NotSupportedException>(() => new RopeParameters { RopeType = "yarn", Theta = 10000, Factor = 4 }.ComputeInvFreq(64));
        Assert.Contains("yarn", e.Message);
    }
}
