using System.Runtime.InteropServices;

namespace Compiler.Runtime.Loading;

/// <summary>A 64-byte aligned native allocation that holds one dummy tensor (never a managed array: these reach GBs).</summary>
internal sealed unsafe class NativeBuffer : TensorStorage
{
    private byte* _base;

    public NativeBuffer(string source, long length) : base(source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        // Allocate at least one byte so a zero-element tensor still has a valid address.
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), 64);
    }

    ~NativeBuffer() => Dispose();

    public override byte* Base { get { ThrowIfDisposed(); return _base; } }

    public override long Length { get; }

    protected override void Release()
    {
        NativeMemory.AlignedFree(_base);
        _base = null;
    }
}
