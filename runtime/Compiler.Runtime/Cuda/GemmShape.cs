namespace Compiler.Runtime.Cuda;

/// <summary>The key of a cached GEMM plan: sizes, whether a bias epilogue runs, and the pointers' common alignment
/// (cuBLASLt picks vectorised kernels that need aligned operands, so a less aligned view needs its own plan).</summary>
internal readonly record struct GemmShape(int M, int N, int K, bool Bias, int Alignment, bool FloatOutput = false);
