using System.Runtime.CompilerServices;

namespace Compiler.Runtime.Cuda.Native;

/// <summary>cublasLtMatmulAlgo_t: an opaque 64-byte algorithm description chosen by the heuristic.</summary>
[InlineArray(8)]
internal struct CublasLtMatmulAlgo
{
    private ulong element;
}
