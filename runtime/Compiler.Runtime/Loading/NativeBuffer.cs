using System.Runtime.InteropServices;

namespace Compiler.Runtime.Loading;

/// <summary>An aligned native allocation that holds one dummy tensor (never a managed array: these reach GBs).</summary>
internal sealed unsafe partial class NativeBuffer : TensorStorage
{
    private const long HugePage = 2 << 20;
    private const int MadvHugePage = 14;

    private byte* _base;

    public NativeBuffer(string source, long length) : base(source)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        var big = length >= HugePage;
        // At least one byte so a zero-element tensor still has a valid address.
        _base = (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(length, 1), big ? (nuint)HugePage : 64);
        // First touch of fresh pages dominates filling GBs; transparent huge pages cut the page faults 512-fold
        // (PyTorch's CPU allocator does the same). Advisory only: failure just means 4 KiB pages.
        if (big && OperatingSystem.IsLinux()) _ = Madvise((nint)_base, (nuint)length, MadvHugePage);
    }

    ~NativeBuffer() => Dispose();

    public override byte* Base { get { ThrowIfDisposed(); return _base; } }

    public override long Length { get; }

    protected override void Release()
    {
        NativeMemory.AlignedFree(_base);
        _base = null;
    }

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(nint address, nuint length, int advice);
}
