using Compiler.Runtime.Cuda;
using Compiler.Runtime.Engine.Cuda;
using Compiler.Runtime.Kernels;

namespace Gpu.Tests;

/// <summary>
/// argmax_rows (greedy sampling on the GPU), on logits made to catch its merge across blocks: equal maxima in different
/// blocks (the first wins, as torch.argmax), the maximum in a row's last element, -0 against +0, NaNs passed over, a row
/// of -inf (index 0), and vocabularies that are not whole 16-byte chunks. Launched twice, since each launch must leave
/// its per-row state zeroed for the next; the second also writes the tokens to pinned host memory, as the runner reads
/// them.
/// </summary>
public sealed class ArgmaxKernelTests
{
    [Theory]
    [InlineData(151936, 9)] // Qwen3's vocabulary: 38 blocks per row
    [InlineData(4099, 9)]   // not a multiple of 4: the element-wise path, 2 blocks per row
    [InlineData(7, 9)]
    public void Greedy_tokens_are_the_first_index_of_each_rows_largest_logit(int vocab, int rows)
    {
        var compiler = new KernelCompiler(Gpu.Device, Gpu.NewCacheDirectory());
        using var module = RuntimeKernels.Compile(compiler, Gpu.Device);
        var kernel = module.GetKernel(ArgmaxLaunch.KernelName);
        var rng = new Random(vocab);
        var logits = new float[rows * vocab];
        for (var i = 0; i < logits.Length; i++) logits[i] = (float)(rng.NextDouble() * 20 - 10);
        Span<float> Row(int r) => logits.AsSpan(r * vocab, vocab);
        Row(1)[vocab - 1] = 50f;                                   // the last element
        Row(2)[vocab / 2] = 40f; Row(2)[vocab - 1] = 40f; Row(2)[vocab / 3] = 40f; // ties across blocks: vocab / 3 first
        Row(3).Fill(0f); Row(3)[0] = -0f;                          // all zero: index 0 (-0 == +0)
        Row(4).Fill(-0f); Row(4)[vocab - 1] = 0f;                  // -0 and +0 are equal: still index 0
        Row(5).Fill(float.NegativeInfinity);                       // nothing larger than -inf: index 0
        for (var i = 0; i < vocab; i += 3) Row(6)[i] = float.NaN;  // NaNs passed over
        Row(7).Fill(float.NaN); Row(7)[vocab - 1] = -5f;           // only one number
        Row(8).Fill(-1f); Row(8)[vocab / 2] = -0.5f;               // all negative
        var expected = Enumerable.Range(0, rows).Select(r => Reference(Row(r))).ToArray();
        Assert.Equal(vocab / 3, expected[2]);

        using var stream = CudaStream.Create();
        using var device = DeviceBuffer<float>.From(logits);
        using var tokens = DeviceBuffer<int>.Allocate(rows);
        using var hostTokens = PinnedHostBuffer<int>.Allocate(rows);
        hostTokens.Span.Fill(-1);
        using var state = DeviceBuffer<byte>.Allocate(rows * ArgmaxLaunch.RowStateBytes);
        state.FillBytesAsync(0, stream);
        for (var launch = 0; launch < 2; launch++)
        {
            tokens.FillBytesAsync(0xff, stream);
            var args = new KernelArgs();
            ArgmaxLaunch.AddArguments(ref args, device.Pointer, vocab, tokens.Pointer, state.Pointer, launch == 1 ? hostTokens.DevicePointer : 0);
            kernel.Launch(ArgmaxLaunch.Grid(vocab, rows), ArgmaxLaunch.Threads, stream, ref args);
            stream.Synchronize();
            Assert.Equal(expected, tokens.ToArray());
            Assert.Equal(launch == 1 ? expected : Enumerable.Repeat(-1, rows).ToArray(), hostTokens.Span.ToArray());
        }
        Assert.All(state.ToArray(), b => Assert.Equal(0, b));
        Gpu.Report($"argmax_rows, vocab {vocab}: {rows} rows as the reference, twice, state left zeroed, host copy as the device's");
    }

    /// <summary>torch.argmax without NaNs: the first index of the largest value, 0 where no value beats -inf.</summary>
    private static int Reference(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 0; i < row.Length; i++)
            if (!float.IsNaN(row[i]) && (float.IsNaN(row[best]) || row[i] > row[best])) best = i;
        return best;
    }
}
