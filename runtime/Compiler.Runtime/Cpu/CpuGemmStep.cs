namespace Compiler.Runtime.Cpu;

/// <summary>A linear layer of the plan: output[rows, N] = input[rows, K] @ W[N, K]^T over all tokens or the logits
/// rows; a null output pointer means the caller's logits.</summary>
internal sealed unsafe class CpuGemmStep(CpuGemm gemm, float* input, float* weight, float* output, int n, int k, bool outputRows) : ICpuStep
{
    public void Run(CpuForwardState state)
    {
        var rows = outputRows ? state.NumLogitsRows : state.NumTokens;
        gemm.Run(input, rows, k, weight, n, output != null ? output : state.Logits);
    }
}
