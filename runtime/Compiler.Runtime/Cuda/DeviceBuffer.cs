using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// An owned device allocation of <see cref="Length"/> elements of <typeparamref name="T"/> (cuMemAlloc, freed on
/// Dispose). Copies check sizes; the synchronous ones take managed spans, the async ones pinned host memory.
/// </summary>
internal sealed unsafe class DeviceBuffer<T> : IDisposable
    where T : unmanaged
{
    private DeviceBuffer(ulong pointer, long length)
    {
        Pointer = pointer;
        Length = length;
    }

    /// <summary>The CUdeviceptr of element 0.</summary>
    public ulong Pointer { get; private set; }

    public long Length { get; }

    public long SizeInBytes => Length * sizeof(T);

    /// <summary>Allocates <paramref name="length"/> elements (contents undefined). The current context must be set.</summary>
    public static DeviceBuffer<T> Allocate(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ulong pointer = 0;
        var bytes = (nuint)(Math.Max(length, 1) * sizeof(T));
        Cu.Check(CuDriver.cuMemAlloc(&pointer, bytes), "cuMemAlloc", $"allocating {bytes} bytes ({length} x {typeof(T).Name})");
        return new DeviceBuffer<T>(pointer, length);
    }

    /// <summary>Allocates a buffer and copies <paramref name="values"/> into it.</summary>
    public static DeviceBuffer<T> From(ReadOnlySpan<T> values)
    {
        var buffer = Allocate(values.Length);
        try
        {
            buffer.CopyFrom(values);
            return buffer;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>The address of element <paramref name="index"/>, for passing views to kernels.</summary>
    public ulong At(long index)
    {
        if ((ulong)index > (ulong)Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"Index past the end of a {Length}-element device buffer.");
        }

        return Pointer + (ulong)(index * sizeof(T));
    }

    /// <summary>Copies host values to the start of the buffer; returns when the copy is done.</summary>
    public void CopyFrom(ReadOnlySpan<T> source)
    {
        CheckCount(source.Length);
        fixed (T* p = source)
        {
            Cu.Check(CuDriver.cuMemcpyHtoD(Live, p, (nuint)(source.Length * sizeof(T))), "cuMemcpyHtoD");
        }

        // From pageable memory the call may return once the data is staged, before the DMA lands; the copy ran on
        // the legacy stream, which non-blocking streams do not wait for, so wait here to make "done" mean done.
        Cu.Check(CuDriver.cuStreamSynchronize(0), "cuStreamSynchronize", "finishing a host-to-device copy");
    }

    /// <summary>Copies the first <c>destination.Length</c> elements to the host; returns when the copy is done. It does
    /// not wait for work queued on non-blocking streams: synchronise the stream that wrote the buffer first.</summary>
    public void CopyTo(Span<T> destination)
    {
        CheckCount(destination.Length);
        fixed (T* p = destination)
        {
            Cu.Check(CuDriver.cuMemcpyDtoH(p, Live, (nuint)(destination.Length * sizeof(T))), "cuMemcpyDtoH");
        }
    }

    /// <summary>Reads the whole buffer into a new array (tests and diagnostics; not for hot paths).</summary>
    public T[] ToArray()
    {
        var values = new T[Length];
        CopyTo(values);
        return values;
    }

    /// <summary>Enqueues a copy from pinned host memory on <paramref name="stream"/>.</summary>
    public void CopyFromAsync(PinnedHostBuffer<T> source, long count, CudaStream stream)
    {
        CheckCount(count);
        source.CheckCount(count);
        Cu.Check(CuDriver.cuMemcpyHtoDAsync(Live, source.Pointer, (nuint)(count * sizeof(T)), stream.Handle), "cuMemcpyHtoDAsync");
    }

    /// <summary>Enqueues a copy to pinned host memory on <paramref name="stream"/>; read it after the stream syncs.</summary>
    public void CopyToAsync(PinnedHostBuffer<T> destination, long count, CudaStream stream)
    {
        CheckCount(count);
        destination.CheckCount(count);
        Cu.Check(CuDriver.cuMemcpyDtoHAsync(destination.Pointer, Live, (nuint)(count * sizeof(T)), stream.Handle), "cuMemcpyDtoHAsync");
    }

    /// <summary>Enqueues a device-to-device copy of <paramref name="count"/> elements from <paramref name="source"/>.</summary>
    public void CopyFromAsync(DeviceBuffer<T> source, long count, CudaStream stream)
    {
        CheckCount(count);
        source.CheckCount(count);
        Cu.Check(CuDriver.cuMemcpyDtoDAsync(Live, source.Live, (nuint)(count * sizeof(T)), stream.Handle), "cuMemcpyDtoDAsync");
    }

    /// <summary>Enqueues a byte fill of the whole buffer (0 gives zeros for every numeric type).</summary>
    public void FillBytesAsync(byte value, CudaStream stream) =>
        Cu.Check(CuDriver.cuMemsetD8Async(Live, value, (nuint)SizeInBytes, stream.Handle), "cuMemsetD8Async");

    public void Dispose()
    {
        if (Pointer != 0)
        {
            CuDriver.cuMemFree(Pointer);
            Pointer = 0;
        }
    }

    internal void CheckCount(long count)
    {
        if (count < 0 || count > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, $"A copy of {count} elements does not fit a {Length}-element device buffer of {typeof(T).Name}.");
        }
    }

    private ulong Live
    {
        get
        {
            ObjectDisposedException.ThrowIf(Pointer == 0, this);
            return Pointer;
        }
    }
}
