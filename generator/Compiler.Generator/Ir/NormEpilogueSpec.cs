namespace Compiler.Generator.Ir;

/// <summary>
/// A residual add + RMS norm kernel between two GEMMs -- <see cref="ResidualOut"/> = <see cref="Residual"/> + the GEMM
/// before's product; <see cref="Normed"/> = rms_norm(that sum) * <see cref="Weight"/> (layer <c>{i}</c> plus
/// <see cref="LayerOffset"/>), which only the GEMM after reads -- that GEMM kernels can split over their epilogues
/// (NormEpiloguePass): the GEMM before stores the sum, the sum times the weight, and each row's sum of squares; the
/// GEMM after scales each row of its product by rsqrt(mean square + <see cref="Epsilon"/>).
/// </summary>
internal sealed record NormEpilogueSpec(int Residual, int ResidualOut, string Weight, int LayerOffset, string Epsilon, int Normed);
