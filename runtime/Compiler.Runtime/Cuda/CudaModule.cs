using System.Text;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>A loaded CUBIN or PTX image (cuModuleLoadData) and the kernels looked up in it.</summary>
internal sealed unsafe class CudaModule : IDisposable
{
    private readonly Dictionary<string, CudaKernel> kernels = new(StringComparer.Ordinal);

    private CudaModule(string name, nint handle)
    {
        Name = name;
        Handle = handle;
    }

    public string Name { get; }

    /// <summary>The CUmodule handle.</summary>
    public nint Handle { get; private set; }

    /// <summary>Loads a CUBIN, or a PTX text (which must end in a NUL byte; this method adds one if missing).</summary>
    public static CudaModule Load(string name, ReadOnlySpan<byte> image, bool isPtx)
    {
        byte[]? copy = null;
        if (isPtx && (image.IsEmpty || image[^1] != 0))
        {
            copy = new byte[image.Length + 1];
            image.CopyTo(copy);
            image = copy;
        }

        nint handle;
        fixed (byte* p = image)
        {
            Cu.Check(CuDriver.cuModuleLoadData(&handle, p), "cuModuleLoadData", $"loading the {(isPtx ? "PTX" : "CUBIN")} of '{name}' ({image.Length} bytes)");
        }

        return new CudaModule(name, handle);
    }

    /// <summary>The kernels looked up so far.</summary>
    public IEnumerable<CudaKernel> LoadedKernels => kernels.Values;

    /// <summary>The kernel called <paramref name="kernelName"/>; declare it <c>extern "C" __global__</c> so its name is not mangled.</summary>
    public CudaKernel GetKernel(string kernelName)
    {
        ObjectDisposedException.ThrowIf(Handle == 0, this);
        if (kernels.TryGetValue(kernelName, out var kernel))
        {
            return kernel;
        }

        var bytes = Encoding.UTF8.GetBytes(kernelName + "\0");
        nint function;
        CuResult result;
        fixed (byte* p = bytes)
        {
            result = CuDriver.cuModuleGetFunction(&function, Handle, p);
        }

        if (result == CuResult.ErrorNotFound)
        {
            throw new CudaException("cuModuleGetFunction", (int)result, Cu.ErrorName(result), Cu.ErrorString(result),
                $"looking up kernel '{kernelName}' in module '{Name}': is it declared extern \"C\" __global__ (C++ names are mangled)?");
        }

        Cu.Check(result, "cuModuleGetFunction", $"looking up kernel '{kernelName}' in module '{Name}'");
        kernel = new CudaKernel(kernelName, function);
        kernels.Add(kernelName, kernel);
        return kernel;
    }

    public void Dispose()
    {
        if (Handle != 0)
        {
            CuDriver.cuModuleUnload(Handle);
            Handle = 0;
        }
    }
}
