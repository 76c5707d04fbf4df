using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cuda.Native;

/// <summary>cublasLtMatmulHeuristicResult_t (96 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CublasLtHeuristicResult
{
    public CublasLtMatmulAlgo Algo;
    public nuint WorkspaceSize;
    public CublasStatus State;
    public float WavesCount;
    public int Reserved0;
    public int Reserved1;
    public int Reserved2;
    public int Reserved3;
}
