using System.Runtime.CompilerServices;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>A <c>__global__</c> function of a loaded <see cref="CudaModule"/>; launching allocates nothing.</summary>
internal sealed unsafe class CudaKernel
{
    internal CudaKernel(string name, nint handle)
    {
        Name = name;
        Handle = handle;
    }

    public string Name { get; }

    /// <summary>The CUfunction handle.</summary>
    public nint Handle { get; }

    /// <summary>Registers per thread (as compiled), a quick check on occupancy.</summary>
    public int Registers => GetAttribute(CuFunctionAttribute.NumRegs);

    /// <summary>The most threads per block this kernel can launch with.</summary>
    public int MaxThreadsPerBlock => GetAttribute(CuFunctionAttribute.MaxThreadsPerBlock);

    /// <summary>How many blocks of this kernel fit on one SM at once (registers, shared memory, threads).</summary>
    public int MaxActiveBlocksPerMultiprocessor(int blockSize, int dynamicSharedMemoryBytes)
    {
        int blocks;
        Cu.Check(CuDriver.cuOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, Handle, blockSize, (nuint)dynamicSharedMemoryBytes),
            "cuOccupancyMaxActiveBlocksPerMultiprocessor", $"kernel '{Name}', {blockSize} threads, {dynamicSharedMemoryBytes} bytes of dynamic shared memory");
        return blocks;
    }

    /// <summary>Allows more than 48 KiB of dynamic shared memory (up to the device's opt-in limit).</summary>
    public void SetMaxDynamicSharedMemory(int bytes) =>
        Cu.Check(CuDriver.cuFuncSetAttribute(Handle, CuFunctionAttribute.MaxDynamicSharedSizeBytes, bytes), "cuFuncSetAttribute", $"setting {bytes} bytes of dynamic shared memory on kernel '{Name}'");

    /// <summary>Asks for an SM split of L1 and shared memory with <paramref name="percent"/> % of the most shared memory
    /// an SM has (rounded up to a configuration the GPU supports; more where the kernel needs it).</summary>
    public void PreferSharedMemoryCarveout(int percent) =>
        Cu.Check(CuDriver.cuFuncSetAttribute(Handle, CuFunctionAttribute.PreferredSharedMemoryCarveout, percent), "cuFuncSetAttribute", $"preferring a {percent} % shared-memory carveout for kernel '{Name}'");

    /// <summary>Enqueues the kernel on <paramref name="stream"/>. With <paramref name="programmatic"/> (sm_90+) it may
    /// start while the previous kernel of the stream still runs (programmatic dependent launch): the kernel must
    /// execute <c>griddepcontrol.wait</c> before it reads or writes anything that kernel touches.</summary>
    public void Launch(Dim3 grid, Dim3 block, CudaStream stream, ref KernelArgs args, uint sharedMemoryBytes = 0, bool programmatic = false) =>
        Launch(grid, block, stream.Handle, ref args, sharedMemoryBytes, programmatic);

    /// <summary>Enqueues the kernel on a raw CUstream handle.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Launch(Dim3 grid, Dim3 block, nint stream, ref KernelArgs args, uint sharedMemoryBytes = 0, bool programmatic = false)
    {
        var pointers = stackalloc nint[KernelArgs.MaxArguments];
        fixed (byte* start = &args.FirstByte)
        {
            args.FillPointers(new Span<nint>(pointers, KernelArgs.MaxArguments), start);
            CuResult result;
            if (programmatic)
            {
                var attribute = new CuLaunchAttribute { Id = CuLaunchAttribute.ProgrammaticStreamSerialization, Value = 1 };
                var config = new CuLaunchConfig
                {
                    GridDimX = grid.X, GridDimY = grid.Y, GridDimZ = grid.Z,
                    BlockDimX = block.X, BlockDimY = block.Y, BlockDimZ = block.Z,
                    SharedMemBytes = sharedMemoryBytes, Stream = stream, Attributes = &attribute, NumAttributes = 1,
                };
                result = CuDriver.cuLaunchKernelEx(&config, Handle, (void**)pointers, null);
            }
            else
            {
                result = CuDriver.cuLaunchKernel(
                    Handle, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedMemoryBytes, stream, (void**)pointers, null);
            }
            if (result != CuResult.Success)
            {
                ThrowLaunch(result, grid, block, sharedMemoryBytes, programmatic);
            }
        }
    }

    private int GetAttribute(CuFunctionAttribute attribute)
    {
        int value;
        Cu.Check(CuDriver.cuFuncGetAttribute(&value, attribute, Handle), "cuFuncGetAttribute", $"reading {attribute} of kernel '{Name}'");
        return value;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowLaunch(CuResult result, Dim3 grid, Dim3 block, uint sharedMemoryBytes, bool programmatic) =>
        Cu.Check(result, programmatic ? "cuLaunchKernelEx" : "cuLaunchKernel", $"launching '{Name}' with grid ({grid.X},{grid.Y},{grid.Z}), block ({block.X},{block.Y},{block.Z}), {sharedMemoryBytes} bytes of shared memory");
}
