namespace Compiler.Runtime.Cuda.Native;

/// <summary>CUfunction_attribute values (cuda.h) the runtime reads or sets.</summary>
internal enum CuFunctionAttribute
{
    MaxThreadsPerBlock = 0,
    SharedSizeBytes = 1,
    NumRegs = 4,
    MaxDynamicSharedSizeBytes = 8,
    PreferredSharedMemoryCarveout = 9,
}
