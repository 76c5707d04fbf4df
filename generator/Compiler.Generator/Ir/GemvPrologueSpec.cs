namespace Compiler.Generator.Ir;

/// <summary>
/// A decode variant of the layer step pair (kernel <see cref="Kernel"/>, then the GEMM that reads its output
/// <see cref="Input"/>): one generated kernel, <see cref="Name"/>, that runs the decode GEMV with the producer as its
/// prologue. Every GEMV block computes the rows of <see cref="Input"/> it multiplies into shared memory (they never
/// reach global memory), and block 0 also stores the producer's other outputs. <see cref="Output"/> is the GEMM's
/// output and <see cref="K"/> its reduction length (the input row).
/// </summary>
internal sealed record GemvPrologueSpec(string Name, string Kernel, int Input, int Output, Dim K);
