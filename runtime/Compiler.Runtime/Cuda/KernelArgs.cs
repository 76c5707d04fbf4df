using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// Packs kernel arguments on the stack with no allocation: values are written into an inline byte block and
/// <see cref="CudaKernel.Launch"/> builds the <c>void**</c> array cuLaunchKernel wants from their offsets. Add the
/// arguments in the kernel's parameter order with the exact C types (a device pointer is a <c>ulong</c>, an
/// <c>int</c> parameter an <c>int</c>, a <c>float</c> a <c>float</c>).
/// <code>var args = new KernelArgs(); args.Add(x.Pointer).Add(y.Pointer).Add(n).Add(2.0f); kernel.Launch(grid, block, stream, ref args);</code>
/// </summary>
internal ref struct KernelArgs
{
    public const int MaxArguments = 32;
    public const int MaxBytes = 512;

    private ArgumentBytes bytes;
    private ArgumentOffsets offsets;
    private int used;

    /// <summary>How many arguments have been added.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one argument, aligned to its size (at most 16 bytes).</summary>
    [UnscopedRef]
    public ref KernelArgs Add<T>(T value)
        where T : unmanaged
    {
        var size = Unsafe.SizeOf<T>();
        var alignment = Math.Min(size, 16);
        var offset = (used + alignment - 1) & ~(alignment - 1);
        if (Count == MaxArguments || offset + size > MaxBytes)
        {
            ThrowFull(size);
        }

        Unsafe.WriteUnaligned(ref bytes[offset], value);
        offsets[Count++] = offset;
        used = offset + size;
        return ref this;
    }

    /// <summary>Fills <paramref name="pointers"/> with the address of each argument. The args must stay where they are
    /// (on the caller's stack) until the launch call returns, which a ref struct passed by ref guarantees.</summary>
    internal readonly unsafe void FillPointers(Span<nint> pointers, byte* start)
    {
        for (var i = 0; i < Count; i++)
        {
            pointers[i] = (nint)(start + offsets[i]);
        }
    }

    [UnscopedRef]
    internal ref byte FirstByte => ref bytes[0];

    [DoesNotReturn]
    private readonly void ThrowFull(int size) => throw new InvalidOperationException(
        $"KernelArgs is full: {Count} arguments / {used} bytes used, cannot add {size} more bytes (limits: {MaxArguments} arguments, {MaxBytes} bytes). Pass large data through a device buffer.");

    [InlineArray(MaxBytes)]
    private struct ArgumentBytes
    {
        private byte element;
    }

    [InlineArray(MaxArguments)]
    private struct ArgumentOffsets
    {
        private int element;
    }
}
