namespace Compiler.Runtime.Kernels;

/// <summary>Grid, block and dynamic shared memory of one kernel launch (the arguments of cuLaunchKernel).</summary>
internal readonly record struct KernelLaunchShape(
    int GridX, int GridY, int GridZ, int BlockX, int BlockY, int BlockZ, int DynamicSharedMemoryBytes)
{
    public long TotalBlocks => (long)GridX * GridY * GridZ;
}
