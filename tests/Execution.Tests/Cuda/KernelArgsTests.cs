using Compiler.Runtime.Cuda;

namespace Execution.Tests.Cuda;

public sealed unsafe class KernelArgsTests
{
    [Fact]
    public void Arguments_are_packed_aligned_and_point_at_their_values()
    {
        var args = new KernelArgs();
        args.Add(0x1122334455667788UL).Add(7).Add(2.5f).Add((byte)9).Add(0xAABBCCDDEEFF0011UL);

        var pointers = stackalloc nint[KernelArgs.MaxArguments];
        fixed (byte* start = &args.FirstByte)
        {
            args.FillPointers(new Span<nint>(pointers, KernelArgs.MaxArguments), start);
            Assert.Equal(5, args.Count);
            Assert.Equal(0x1122334455667788UL, *(ulong*)pointers[0]);
            Assert.Equal(7, *(int*)pointers[1]);
            Assert.Equal(2.5f, *(float*)pointers[2]);
            Assert.Equal(9, *(byte*)pointers[3]);
            Assert.Equal(0xAABBCCDDEEFF0011UL, *(ulong*)pointers[4]);
            Assert.Equal(0, (pointers[0] - (nint)start) % 8);
            Assert.Equal(8, pointers[1] - pointers[0]);
            Assert.Equal(4, pointers[2] - pointers[1]);
            Assert.Equal(0, (pointers[4] - (nint)start) % 8);
        }
    }

    [Fact]
    public void Adding_past_the_limit_throws_with_the_limits()
    {
        var error = Assert.Throws<InvalidOperationException>(() =>
        {
            var args = new KernelArgs();
            for (var i = 0; i <= KernelArgs.MaxArguments; i++)
            {
                args.Add(i);
            }
        });

        Assert.Contains($"{KernelArgs.MaxArguments} arguments", error.Message);
    }

    [Theory]
    [InlineData(0x1000UL, 256)]
    [InlineData(0x7f0000000010UL, 16)]
    [InlineData(0x7f0000000002UL, 2)]
    [InlineData(0UL, 256)]
    public void Gemm_alignment_is_the_largest_power_of_two_dividing_the_addresses(ulong address, int expected)
    {
        Assert.Equal(expected, CublasLtGemm.Alignment(address));
    }
}
