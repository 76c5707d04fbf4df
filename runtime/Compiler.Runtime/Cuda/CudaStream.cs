using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>An owned, non-blocking CUDA stream (it does not synchronise with the legacy default stream).</summary>
internal sealed unsafe class CudaStream : IDisposable
{
    private const uint NonBlocking = 1;

    private CudaStream(nint handle) => Handle = handle;

    /// <summary>The CUstream handle.</summary>
    public nint Handle { get; private set; }

    public static CudaStream Create()
    {
        nint handle;
        Cu.Check(CuDriver.cuStreamCreate(&handle, NonBlocking), "cuStreamCreate");
        return new CudaStream(handle);
    }

    public void Synchronize() => Cu.Check(CuDriver.cuStreamSynchronize(Handle), "cuStreamSynchronize");

    /// <summary>Makes later work on this stream wait for <paramref name="event"/> (no host blocking).</summary>
    public void Wait(CudaEvent @event) => Cu.Check(CuDriver.cuStreamWaitEvent(Handle, @event.Handle, 0), "cuStreamWaitEvent");

    /// <summary>Whether a graph capture on this stream is under way (cuStreamIsCapturing: allowed during one).</summary>
    public bool IsCapturing
    {
        get
        {
            int status; // CUstreamCaptureStatus: 0 none, 1 active, 2 invalidated
            Cu.Check(CuDriver.cuStreamIsCapturing(Handle, &status), "cuStreamIsCapturing");
            return status != 0;
        }
    }

    public void Dispose()
    {
        if (Handle != 0)
        {
            CuDriver.cuStreamDestroy(Handle);
            Handle = 0;
        }
    }
}
