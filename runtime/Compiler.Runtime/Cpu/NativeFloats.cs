using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// A 64-byte aligned, zero-filled native float array: weights, activations and KV cache of the CPU backend. Native
/// so that its address never moves (kernels keep raw pointers) and sizes may pass 2^31 elements; aligned for SIMD.
/// </summary>
internal sealed unsafe class NativeFloats : IDisposable
{
    private float* _pointer;

    public NativeFloats(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        var bytes = (nuint)Math.Max(1, length) * sizeof(float);
        try
        {
            _pointer = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        }
        catch (OutOfMemoryException)
        {
            throw new OutOfMemoryException($"The CPU backend could not allocate {bytes / (1024.0 * 1024 * 1024):F2} GiB; lower the KV cache size (max total tokens), the batch size, or use a smaller model.");
        }
        NativeMemory.Clear(_pointer, bytes);
    }

    ~NativeFloats() => Free();

    public long Length { get; }

    public float* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == null, this);
            return _pointer;
        }
    }

    /// <summary>The elements as a span; only for arrays under 2^31 elements.</summary>
    public Span<float> Span => Length <= int.MaxValue
        ? new Span<float>(Pointer, (int)Length)
        : throw new InvalidOperationException($"A native array of {Length} floats is too long for a Span; address it by pointer.");

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_pointer == null) return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }
}
