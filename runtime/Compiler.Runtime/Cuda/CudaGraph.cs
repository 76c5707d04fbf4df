using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// An instantiated CUDA graph: the work a delegate enqueued on a stream, captured once and replayed with one
/// launch. Replays read and write the same device addresses as the capture, so inputs go into the captured buffers.
/// </summary>
internal sealed unsafe class CudaGraph : IDisposable
{
    private CudaGraph(nint exec) => Handle = exec;

    /// <summary>The CUgraphExec handle.</summary>
    public nint Handle { get; private set; }

    /// <summary>
    /// Runs <paramref name="enqueue"/> with <paramref name="stream"/> capturing (thread-local mode: this thread may not
    /// allocate or synchronise meanwhile), then instantiates the graph. A failed capture ends it and rethrows.
    /// </summary>
    public static CudaGraph Capture(CudaStream stream, Action<CudaStream> enqueue)
    {
        Cu.Check(CuDriver.cuStreamBeginCapture(stream.Handle, CuStreamCaptureMode.ThreadLocal), "cuStreamBeginCapture");
        nint graph = 0;
        try
        {
            enqueue(stream);
        }
        catch
        {
            // End the capture so the stream is usable again; the partial graph is discarded.
            if (CuDriver.cuStreamEndCapture(stream.Handle, &graph) == CuResult.Success && graph != 0)
            {
                CuDriver.cuGraphDestroy(graph);
            }

            throw;
        }

        Cu.Check(CuDriver.cuStreamEndCapture(stream.Handle, &graph), "cuStreamEndCapture", "ending a graph capture (an illegal call during capture invalidates it)");
        try
        {
            nint exec;
            Cu.Check(CuDriver.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags");
            return new CudaGraph(exec);
        }
        finally
        {
            // The executable graph is independent of the graph it came from.
            CuDriver.cuGraphDestroy(graph);
        }
    }

    /// <summary>Uploads the graph's resources ahead of the first replay, so that replay is not slower than the rest.</summary>
    public void Upload(CudaStream stream) => Cu.Check(CuDriver.cuGraphUpload(Live, stream.Handle), "cuGraphUpload");

    /// <summary>Enqueues one replay of the captured work.</summary>
    public void Launch(CudaStream stream) => Cu.Check(CuDriver.cuGraphLaunch(Live, stream.Handle), "cuGraphLaunch");

    public void Dispose()
    {
        if (Handle != 0)
        {
            CuDriver.cuGraphExecDestroy(Handle);
            Handle = 0;
        }
    }

    private nint Live
    {
        get
        {
            ObjectDisposedException.ThrowIf(Handle == 0, this);
            return Handle;
        }
    }
}
