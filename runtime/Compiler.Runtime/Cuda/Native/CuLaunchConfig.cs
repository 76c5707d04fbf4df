using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cuda.Native;

/// <summary>CUlaunchConfig of cuda.h: a launch's shape, stream and extra attributes (for cuLaunchKernelEx).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct CuLaunchConfig
{
    public uint GridDimX, GridDimY, GridDimZ;
    public uint BlockDimX, BlockDimY, BlockDimZ;
    public uint SharedMemBytes;
    public nint Stream;
    public CuLaunchAttribute* Attributes;
    public uint NumAttributes;
}

/// <summary>CUlaunchAttribute: an id, padding to 8 bytes, then a 64-byte value union.</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
internal struct CuLaunchAttribute
{
    /// <summary>CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION: the kernel may start before the previous kernel
    /// in the stream has finished; it must execute griddepcontrol.wait before touching that kernel's results.</summary>
    public const int ProgrammaticStreamSerialization = 6;

    [FieldOffset(0)] public int Id;
    [FieldOffset(8)] public int Value;
}
