using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>An owned CUDA event, for timing and for cross-stream ordering.</summary>
internal sealed unsafe class CudaEvent : IDisposable
{
    private const uint DisableTiming = 2;
    private const uint RecordExternal = 1; // CU_EVENT_RECORD_EXTERNAL

    private CudaEvent(nint handle) => Handle = handle;

    /// <summary>The CUevent handle.</summary>
    public nint Handle { get; private set; }

    /// <summary>Creates an event; <paramref name="timing"/> false makes record/wait cheaper when no times are read.</summary>
    public static CudaEvent Create(bool timing = true)
    {
        nint handle;
        Cu.Check(CuDriver.cuEventCreate(&handle, timing ? 0u : DisableTiming), "cuEventCreate");
        return new CudaEvent(handle);
    }

    public void Record(CudaStream stream) => Cu.Check(CuDriver.cuEventRecord(Handle, stream.Handle), "cuEventRecord");

    /// <summary>Records on <paramref name="stream"/>, or while the stream is being captured, as an event record node of
    /// the graph (CU_EVENT_RECORD_EXTERNAL), so that every replay records it where the capture did -- a plain record
    /// during capture only orders the graph's nodes.</summary>
    public void RecordOrCapture(CudaStream stream)
    {
        if (!stream.IsCapturing) { Record(stream); return; }
        Cu.Check(CuDriver.cuEventRecordWithFlags(Handle, stream.Handle, RecordExternal), "cuEventRecordWithFlags", "recording an event node in a captured graph");
    }

    public void Synchronize() => Cu.Check(CuDriver.cuEventSynchronize(Handle), "cuEventSynchronize");

    /// <summary>True when all work captured by the last record has finished.</summary>
    public bool IsComplete
    {
        get
        {
            var result = CuDriver.cuEventQuery(Handle);
            if (result == CuResult.ErrorNotReady)
            {
                return false;
            }

            Cu.Check(result, "cuEventQuery");
            return true;
        }
    }

    /// <summary>Milliseconds between <paramref name="start"/> and <paramref name="end"/> (both recorded and completed).</summary>
    public static float ElapsedMilliseconds(CudaEvent start, CudaEvent end)
    {
        float milliseconds;
        Cu.Check(CuDriver.cuEventElapsedTime(&milliseconds, start.Handle, end.Handle), "cuEventElapsedTime");
        return milliseconds;
    }

    public void Dispose()
    {
        if (Handle != 0)
        {
            CuDriver.cuEventDestroy(Handle);
            Handle = 0;
        }
    }
}
