using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// Page-locked host memory (cuMemAllocHost) for staging async copies: pageable memory would make the driver copy
/// through its own bounce buffer and block the host.
/// </summary>
internal sealed unsafe class PinnedHostBuffer<T> : IDisposable
    where T : unmanaged
{
    private PinnedHostBuffer(T* pointer, long length)
    {
        Pointer = pointer;
        Length = length;
    }

    public T* Pointer { get; private set; }

    public long Length { get; }

    /// <summary>The address kernels reach this buffer at: with unified addressing (every 64-bit platform CUDA 12+ runs
    /// on), cuMemAllocHost's memory is mapped into every context at the host pointer itself.</summary>
    public ulong DevicePointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(Pointer == null, this);
            return (ulong)Pointer;
        }
    }

    public Span<T> Span
    {
        get
        {
            ObjectDisposedException.ThrowIf(Pointer == null, this);
            return new Span<T>(Pointer, checked((int)Length));
        }
    }

    public static PinnedHostBuffer<T> Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        void* pointer;
        var bytes = (nuint)(Math.Max(length, 1) * sizeof(T));
        Cu.Check(CuDriver.cuMemAllocHost(&pointer, bytes), "cuMemAllocHost", $"allocating {bytes} pinned bytes");
        return new PinnedHostBuffer<T>((T*)pointer, length);
    }

    public void Dispose()
    {
        if (Pointer != null)
        {
            CuDriver.cuMemFreeHost(Pointer);
            Pointer = null;
        }
    }

    internal void CheckCount(long count)
    {
        ObjectDisposedException.ThrowIf(Pointer == null, this);
        if (count < 0 || count > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A copy of {count} elements does not fit a {Length}-element pinned buffer.");
        }
    }
}
