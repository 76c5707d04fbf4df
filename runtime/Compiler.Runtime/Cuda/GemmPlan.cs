using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>One cuBLASLt problem shape, described once and kept: the matmul descriptor, the three layouts and the
/// algorithm the heuristic picked. Built by <see cref="CublasLtGemm"/>, reused for every call with that shape.</summary>
internal sealed unsafe class GemmPlan : IDisposable
{
    public nint Operation;
    public nint LayoutA;
    public nint LayoutB;
    public nint LayoutC;
    public CublasLtMatmulAlgo Algorithm;

    public GemmPlan(GemmShape shape) => Shape = shape;

    public GemmShape Shape { get; }

    /// <summary>Workspace bytes the chosen algorithm needs (at most the wrapper's workspace).</summary>
    public long WorkspaceBytes { get; set; }

    /// <summary>The heuristic's estimate of waves (tiles / SMs); handy when reading benchmark numbers.</summary>
    public float Waves { get; set; }

    public void Dispose()
    {
        if (LayoutC != 0)
        {
            CublasLtNative.cublasLtMatrixLayoutDestroy(LayoutC);
            LayoutC = 0;
        }

        if (LayoutB != 0)
        {
            CublasLtNative.cublasLtMatrixLayoutDestroy(LayoutB);
            LayoutB = 0;
        }

        if (LayoutA != 0)
        {
            CublasLtNative.cublasLtMatrixLayoutDestroy(LayoutA);
            LayoutA = 0;
        }

        if (Operation != 0)
        {
            CublasLtNative.cublasLtMatmulDescDestroy(Operation);
            Operation = 0;
        }
    }
}
