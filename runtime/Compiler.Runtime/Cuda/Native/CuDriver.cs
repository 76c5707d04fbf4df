using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cuda.Native;

/// <summary>
/// The CUDA driver API entry points the runtime uses. Names are the exported symbols, which for several calls
/// carry the _v2 suffix that cuda.h's macros add (cuMemAlloc -> cuMemAlloc_v2, ...); the legacy default stream
/// variants are bound (not _ptsz), since every call here takes an explicit stream. Handles are opaque pointers,
/// CUdeviceptr is a 64-bit integer.
/// </summary>
internal static unsafe partial class CuDriver
{
    private const string Lib = CudaLibraries.DriverName;

    [LibraryImport(Lib)] public static partial CuResult cuInit(uint flags);
    [LibraryImport(Lib)] public static partial CuResult cuDriverGetVersion(int* version);
    [LibraryImport(Lib)] public static partial CuResult cuGetErrorName(CuResult error, byte** name);
    [LibraryImport(Lib)] public static partial CuResult cuGetErrorString(CuResult error, byte** text);

    [LibraryImport(Lib)] public static partial CuResult cuDeviceGetCount(int* count);
    /// <summary>Marks the range an external profiler started with collection off (ncu --profile-from-start off) measures.</summary>
    [LibraryImport(Lib)] public static partial CuResult cuProfilerStart();
    [LibraryImport(Lib)] public static partial CuResult cuProfilerStop();
    [LibraryImport(Lib)] public static partial CuResult cuDeviceGet(int* device, int ordinal);
    [LibraryImport(Lib)] public static partial CuResult cuDeviceGetName(byte* name, int length, int device);
    [LibraryImport(Lib)] public static partial CuResult cuDeviceGetAttribute(int* value, CuDeviceAttribute attribute, int device);
    [LibraryImport(Lib, EntryPoint = "cuDeviceTotalMem_v2")] public static partial CuResult cuDeviceTotalMem(nuint* bytes, int device);

    [LibraryImport(Lib)] public static partial CuResult cuDevicePrimaryCtxRetain(nint* context, int device);
    [LibraryImport(Lib, EntryPoint = "cuDevicePrimaryCtxRelease_v2")] public static partial CuResult cuDevicePrimaryCtxRelease(int device);
    [LibraryImport(Lib)] public static partial CuResult cuCtxSetCurrent(nint context);
    [LibraryImport(Lib)] public static partial CuResult cuCtxGetCurrent(nint* context);
    [LibraryImport(Lib)] public static partial CuResult cuCtxSynchronize();

    [LibraryImport(Lib, EntryPoint = "cuMemGetInfo_v2")] public static partial CuResult cuMemGetInfo(nuint* free, nuint* total);
    [LibraryImport(Lib, EntryPoint = "cuMemAlloc_v2")] public static partial CuResult cuMemAlloc(ulong* pointer, nuint bytes);
    [LibraryImport(Lib, EntryPoint = "cuMemFree_v2")] public static partial CuResult cuMemFree(ulong pointer);
    [LibraryImport(Lib, EntryPoint = "cuMemAllocHost_v2")] public static partial CuResult cuMemAllocHost(void** pointer, nuint bytes);
    [LibraryImport(Lib)] public static partial CuResult cuMemFreeHost(void* pointer);
    [LibraryImport(Lib)] public static partial CuResult cuMemsetD8Async(ulong pointer, byte value, nuint count, nint stream);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyHtoD_v2")] public static partial CuResult cuMemcpyHtoD(ulong destination, void* source, nuint bytes);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoH_v2")] public static partial CuResult cuMemcpyDtoH(void* destination, ulong source, nuint bytes);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyHtoDAsync_v2")] public static partial CuResult cuMemcpyHtoDAsync(ulong destination, void* source, nuint bytes, nint stream);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoHAsync_v2")] public static partial CuResult cuMemcpyDtoHAsync(void* destination, ulong source, nuint bytes, nint stream);
    [LibraryImport(Lib, EntryPoint = "cuMemcpyDtoDAsync_v2")] public static partial CuResult cuMemcpyDtoDAsync(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Lib)] public static partial CuResult cuModuleLoadData(nint* module, void* image);
    [LibraryImport(Lib)] public static partial CuResult cuModuleUnload(nint module);
    [LibraryImport(Lib)] public static partial CuResult cuModuleGetFunction(nint* function, nint module, byte* name);
    [LibraryImport(Lib)] public static partial CuResult cuFuncSetAttribute(nint function, CuFunctionAttribute attribute, int value);
    [LibraryImport(Lib)] public static partial CuResult cuFuncGetAttribute(int* value, CuFunctionAttribute attribute, nint function);
    [LibraryImport(Lib)] public static partial CuResult cuOccupancyMaxActiveBlocksPerMultiprocessor(int* numBlocks, nint function, int blockSize, nuint dynamicSMemSize);
    [LibraryImport(Lib)]
    public static partial CuResult cuLaunchKernel(
        nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, nint stream, void** kernelParams, void** extra);
    [LibraryImport(Lib)] public static partial CuResult cuLaunchKernelEx(CuLaunchConfig* config, nint function, void** kernelParams, void** extra);

    [LibraryImport(Lib)] public static partial CuResult cuStreamCreate(nint* stream, uint flags);
    [LibraryImport(Lib, EntryPoint = "cuStreamDestroy_v2")] public static partial CuResult cuStreamDestroy(nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuStreamSynchronize(nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuStreamWaitEvent(nint stream, nint @event, uint flags);
    [LibraryImport(Lib)] public static partial CuResult cuStreamIsCapturing(nint stream, int* captureStatus);

    [LibraryImport(Lib)] public static partial CuResult cuEventCreate(nint* @event, uint flags);
    [LibraryImport(Lib, EntryPoint = "cuEventDestroy_v2")] public static partial CuResult cuEventDestroy(nint @event);
    [LibraryImport(Lib)] public static partial CuResult cuEventRecord(nint @event, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuEventRecordWithFlags(nint @event, nint stream, uint flags);
    [LibraryImport(Lib)] public static partial CuResult cuEventSynchronize(nint @event);
    [LibraryImport(Lib)] public static partial CuResult cuEventQuery(nint @event);

    // cuda.h 13 maps cuEventElapsedTime to _v2; the original symbol stays exported by every 12/13 driver.
    [LibraryImport(Lib)] public static partial CuResult cuEventElapsedTime(float* milliseconds, nint start, nint end);

    [LibraryImport(Lib, EntryPoint = "cuStreamBeginCapture_v2")] public static partial CuResult cuStreamBeginCapture(nint stream, CuStreamCaptureMode mode);
    [LibraryImport(Lib)] public static partial CuResult cuStreamEndCapture(nint stream, nint* graph);
    [LibraryImport(Lib)] public static partial CuResult cuGraphInstantiateWithFlags(nint* graphExec, nint graph, ulong flags);
    [LibraryImport(Lib)] public static partial CuResult cuGraphLaunch(nint graphExec, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuGraphUpload(nint graphExec, nint stream);
    [LibraryImport(Lib)] public static partial CuResult cuGraphExecDestroy(nint graphExec);
    [LibraryImport(Lib)] public static partial CuResult cuGraphDestroy(nint graph);
}
