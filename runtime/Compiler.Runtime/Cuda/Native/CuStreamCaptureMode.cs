namespace Compiler.Runtime.Cuda.Native;

/// <summary>CUstreamCaptureMode: which unsafe calls (allocations, syncs) are forbidden while a stream captures.</summary>
internal enum CuStreamCaptureMode
{
    Global = 0,
    ThreadLocal = 1,
    Relaxed = 2,
}
