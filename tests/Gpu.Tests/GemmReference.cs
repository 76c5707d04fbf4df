using System.Numerics.Tensors;

namespace Gpu.Tests;

/// <summary>The CPU twin of the linear GEMM: y[m, n] = sum_k x[m, k] * w[n, k] (+ bias[n]), accumulated in float.</summary>
internal static class GemmReference
{
    public static float[] Row(float[] x, float[] w, int row, int n, int k, float[]? bias)
    {
        var output = new float[n];
        var xRow = x.AsSpan(row * k, k);
        for (var j = 0; j < n; j++)
        {
            output[j] = TensorPrimitives.Dot(xRow, w.AsSpan(j * k, k)) + (bias?[j] ?? 0f);
        }

        return output;
    }

    public static float[] ToFloats(ushort[] bf16) => bf16.Select(Bf16.ToFloat).ToArray();
}
