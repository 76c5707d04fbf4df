using System.Runtime.InteropServices;
using System.Text;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// One GPU and its primary context (the context the CUDA runtime, PyTorch and cuBLAS share). Opening makes the
/// context current on the calling thread; other threads that issue CUDA calls call <see cref="MakeCurrent"/> first.
/// </summary>
internal sealed unsafe class CudaDevice : IDisposable
{
    private static readonly Lazy<string?> Unavailable = new(ProbeUnavailableReason, LazyThreadSafetyMode.ExecutionAndPublication);
    private nint context;

    private CudaDevice(int ordinal, int handle, nint context)
    {
        Ordinal = ordinal;
        Handle = handle;
        this.context = context;
        Name = QueryName(handle);
        ComputeCapability = (Attribute(CuDeviceAttribute.ComputeCapabilityMajor), Attribute(CuDeviceAttribute.ComputeCapabilityMinor));
        MultiprocessorCount = Attribute(CuDeviceAttribute.MultiprocessorCount);
        MaxSharedMemoryPerBlockOptin = Attribute(CuDeviceAttribute.MaxSharedMemoryPerBlockOptin);
        L2CacheBytes = Attribute(CuDeviceAttribute.L2CacheSize);
        nuint total;
        Cu.Check(CuDriver.cuDeviceTotalMem(&total, handle), "cuDeviceTotalMem");
        TotalMemoryBytes = (long)total;
        DriverVersion = QueryDriverVersion();
    }

    /// <summary>True when a CUDA driver loads, initialises and reports at least one GPU. Never throws; cached.</summary>
    public static bool IsAvailable => Unavailable.Value is null;

    /// <summary>Why <see cref="IsAvailable"/> is false (for test skip messages), or null when a GPU is usable.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    public int Ordinal { get; }

    /// <summary>The CUdevice handle.</summary>
    public int Handle { get; }

    public string Name { get; }

    public (int Major, int Minor) ComputeCapability { get; }

    /// <summary>The NVRTC architecture for this device, e.g. "sm_90" on an H100.</summary>
    public string Architecture => $"sm_{ComputeCapability.Major}{ComputeCapability.Minor}";

    public int MultiprocessorCount { get; }

    public int MaxSharedMemoryPerBlockOptin { get; }

    public int L2CacheBytes { get; }

    public long TotalMemoryBytes { get; }

    /// <summary>The driver's CUDA version as the driver encodes it: 1000 * major + 10 * minor (13000 = 13.0).</summary>
    public int DriverVersion { get; }

    /// <summary>The primary context handle.</summary>
    public nint Context => context;

    /// <summary>Initialises the driver and retains device <paramref name="ordinal"/>'s primary context, current on this thread.</summary>
    public static CudaDevice Open(int ordinal = 0)
    {
        CudaLibraries.Require(CudaLibrary.Driver);
        Cu.Check(CuDriver.cuInit(0), "cuInit");
        int count;
        Cu.Check(CuDriver.cuDeviceGetCount(&count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count)
        {
            throw new CudaException($"CUDA device {ordinal} does not exist: the driver reports {count} device(s). Pick an ordinal below {count} (or check CUDA_VISIBLE_DEVICES).");
        }

        int device;
        Cu.Check(CuDriver.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        nint ctx;
        Cu.Check(CuDriver.cuDevicePrimaryCtxRetain(&ctx, device), "cuDevicePrimaryCtxRetain");
        var ok = false;
        try
        {
            Cu.Check(CuDriver.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
            var opened = new CudaDevice(ordinal, device, ctx);
            ok = true;
            return opened;
        }
        finally
        {
            if (!ok)
            {
                CuDriver.cuDevicePrimaryCtxRelease(device);
            }
        }
    }

    /// <summary>Makes this device's primary context current on the calling thread (cheap; call on every worker thread).</summary>
    public void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(context == 0, this);
        Cu.Check(CuDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    public int Attribute(CuDeviceAttribute attribute) => Attribute(Handle, attribute);

    /// <summary>The name and compute capability of GPU <paramref name="ordinal"/>, without creating a context (for
    /// choosing a device before opening one). Needs <see cref="IsAvailable"/>.</summary>
    public static (string Name, (int Major, int Minor) ComputeCapability) Describe(int ordinal = 0)
    {
        CudaLibraries.Require(CudaLibrary.Driver);
        Cu.Check(CuDriver.cuInit(0), "cuInit");
        int device;
        Cu.Check(CuDriver.cuDeviceGet(&device, ordinal), "cuDeviceGet");
        return (QueryName(device), (Attribute(device, CuDeviceAttribute.ComputeCapabilityMajor), Attribute(device, CuDeviceAttribute.ComputeCapabilityMinor)));
    }

    private static int Attribute(int device, CuDeviceAttribute attribute)
    {
        int value;
        Cu.Check(CuDriver.cuDeviceGetAttribute(&value, attribute, device), "cuDeviceGetAttribute", attribute.ToString());
        return value;
    }

    /// <summary>Free and total device memory, in bytes, as the driver sees them now.</summary>
    public (long Free, long Total) MemoryInfo()
    {
        nuint free, total;
        Cu.Check(CuDriver.cuMemGetInfo(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    /// <summary>Waits for all work in the context.</summary>
    public void Synchronize() => Cu.Check(CuDriver.cuCtxSynchronize(), "cuCtxSynchronize");

    public override string ToString() =>
        $"{Name} (device {Ordinal}, {Architecture}, {MultiprocessorCount} SMs, {TotalMemoryBytes / (1024.0 * 1024 * 1024):F1} GiB, driver CUDA {DriverVersion / 1000}.{DriverVersion % 1000 / 10})";

    public void Dispose()
    {
        if (context != 0)
        {
            context = 0;
            CuDriver.cuDevicePrimaryCtxRelease(Handle);
        }
    }

    internal static int QueryDriverVersion()
    {
        int version;
        Cu.Check(CuDriver.cuDriverGetVersion(&version), "cuDriverGetVersion");
        return version;
    }

    private static string QueryName(int device)
    {
        var buffer = stackalloc byte[256];
        Cu.Check(CuDriver.cuDeviceGetName(buffer, 256, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((nint)buffer) ?? $"CUDA device {device}";
    }

    private static string? ProbeUnavailableReason()
    {
        try
        {
            if (!CudaLibraries.TryRequire(CudaLibrary.Driver, out _))
            {
                return "no CUDA driver: tried " + string.Join(", ", CudaLibraries.Candidates(CudaLibrary.Driver, OperatingSystem.IsWindows(), new CudaSearchPath([], [])));
            }

            var init = CuDriver.cuInit(0);
            if (init != CuResult.Success)
            {
                return $"cuInit failed: {Cu.ErrorName(init)} ({Cu.ErrorString(init)})";
            }

            int count;
            var result = CuDriver.cuDeviceGetCount(&count);
            if (result != CuResult.Success)
            {
                return $"cuDeviceGetCount failed: {Cu.ErrorName(result)}";
            }

            return count > 0 ? null : "the CUDA driver reports no GPU";
        }
        catch (Exception e)
        {
            return $"CUDA probe failed: {e.GetType().Name}: {e.Message}";
        }
    }
}
