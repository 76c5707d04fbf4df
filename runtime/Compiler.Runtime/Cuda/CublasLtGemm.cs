using System.Numerics;
using System.Runtime.CompilerServices;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>
/// The linear layer's GEMM on cuBLASLt: <c>Y[M,N] = X[M,K] @ W[N,K]^T (+ bias[N])</c>, bf16 in and out, fp32
/// accumulation, all buffers row-major, W in the Hugging Face layout [out_features, in_features]. cuBLAS is
/// column-major, where a row-major [R,C] buffer reads as its transpose, so this computes
/// <c>Y^T[N,M] = op(W)[N,K] * X^T[K,M]</c> with op = transpose on the W buffer (read as K x N) and none on X
/// (read as K x M): the "TN" GEMM, cuBLASLt's best-served layout. One plan (descriptors and the heuristic's
/// algorithm) is cached per shape, so a call after the first does no setup. Not thread-safe: one per stream owner.
/// </summary>
internal sealed unsafe class CublasLtGemm : IDisposable
{
    /// <summary>32 MiB, what cuBLAS recommends for Hopper.</summary>
    public const long DefaultWorkspaceBytes = 32L << 20;

    private readonly Dictionary<GemmShape, GemmPlan> plans = new();
    private readonly DeviceBuffer<byte> workspace;
    private nint handle;
    private nint preference;

    public CublasLtGemm(long workspaceBytes = DefaultWorkspaceBytes)
    {
        CudaLibraries.Require(CudaLibrary.CublasLt);
        Version = (long)CublasLtNative.cublasLtGetVersion();
        nint h;
        CublasLtNative.Check(CublasLtNative.cublasLtCreate(&h), "cublasLtCreate");
        handle = h;
        try
        {
            workspace = DeviceBuffer<byte>.Allocate(workspaceBytes);
            nint p;
            CublasLtNative.Check(CublasLtNative.cublasLtMatmulPreferenceCreate(&p), "cublasLtMatmulPreferenceCreate");
            preference = p;
            var max = (ulong)workspaceBytes;
            CublasLtNative.Check(CublasLtNative.cublasLtMatmulPreferenceSetAttribute(p, CublasLtNative.PrefMaxWorkspaceBytes, &max, sizeof(ulong)), "cublasLtMatmulPreferenceSetAttribute", "setting the workspace limit");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>cublasLtGetVersion(), e.g. 130000 for 13.0.0.</summary>
    public long Version { get; }

    /// <summary>How many shapes have a cached plan.</summary>
    public int PlanCount => plans.Count;

    /// <summary>Y = X W^T (+ bias), enqueued on <paramref name="stream"/>. Buffers hold bf16 bits as ushort.</summary>
    public void Linear(DeviceBuffer<ushort> y, DeviceBuffer<ushort> x, DeviceBuffer<ushort> w, int m, int n, int k, CudaStream stream, DeviceBuffer<ushort>? bias = null)
    {
        Require(y, (long)m * n, "Y", m, n, k);
        Require(x, (long)m * k, "X", m, n, k);
        Require(w, (long)n * k, "W", m, n, k);
        if (bias is not null)
        {
            Require(bias, n, "bias", m, n, k);
        }

        Linear(y.Pointer, x.Pointer, w.Pointer, m, n, k, stream.Handle, bias?.Pointer ?? 0);
    }

    /// <summary>Y = X W^T (+ bias) on raw device addresses (bias 0 = none); Y is fp32 when <paramref name="floatOutput"/>
    /// (logits), else bf16. After the first call for a shape this allocates nothing.</summary>
    public void Linear(ulong y, ulong x, ulong w, int m, int n, int k, nint stream, ulong bias = 0, bool floatOutput = false)
    {
        if (m <= 0 || n <= 0 || k <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(m), $"GEMM sizes must be positive: M={m}, N={n}, K={k}.");
        }

        var alignment = Alignment(y | x | w | bias);
        var shape = new GemmShape(m, n, k, bias != 0, alignment, floatOutput);
        if (!plans.TryGetValue(shape, out var plan))
        {
            plan = CreatePlan(shape, bias);
            plans.Add(shape, plan);
        }

        if (bias != 0)
        {
            CublasLtNative.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(plan.Operation, CublasLtNative.DescBiasPointer, &bias, (nuint)sizeof(ulong)), "cublasLtMatmulDescSetAttribute", "setting the bias pointer");
        }

        float alpha = 1f, beta = 0f;
        var algorithm = plan.Algorithm;
        var status = CublasLtNative.cublasLtMatmul(
            handle, plan.Operation, &alpha, w, plan.LayoutA, x, plan.LayoutB, &beta, y, plan.LayoutC, y, plan.LayoutC,
            &algorithm, workspace.Pointer, (nuint)workspace.SizeInBytes, stream);
        if (status != CublasStatus.Success)
        {
            ThrowMatmul(status, shape);
        }
    }

    /// <summary>The plan cached for a shape, or null (for tests and diagnostics).</summary>
    internal GemmPlan? PlanFor(GemmShape shape) => plans.GetValueOrDefault(shape);

    public void Dispose()
    {
        foreach (var plan in plans.Values)
        {
            plan.Dispose();
        }

        plans.Clear();
        if (preference != 0)
        {
            CublasLtNative.cublasLtMatmulPreferenceDestroy(preference);
            preference = 0;
        }

        workspace?.Dispose();
        if (handle != 0)
        {
            CublasLtNative.cublasLtDestroy(handle);
            handle = 0;
        }
    }

    /// <summary>The largest power of two up to 256 that divides every address OR-ed into <paramref name="addresses"/>.</summary>
    internal static int Alignment(ulong addresses)
    {
        var lowest = addresses == 0 ? 256 : 1 << BitOperations.TrailingZeroCount(addresses);
        return Math.Min(lowest, 256);
    }

    private GemmPlan CreatePlan(GemmShape shape, ulong bias)
    {
        var plan = new GemmPlan(shape);
        try
        {
            var context = $"planning the bf16 GEMM M={shape.M} N={shape.N} K={shape.K}";
            nint operation;
            CublasLtNative.Check(CublasLtNative.cublasLtMatmulDescCreate(&operation, CublasLtNative.ComputeType32F, CublasLtNative.CudaR32F), "cublasLtMatmulDescCreate", context);
            plan.Operation = operation;
            int transposed = CublasLtNative.OpT, plain = CublasLtNative.OpN;
            CublasLtNative.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(operation, CublasLtNative.DescTransA, &transposed, sizeof(int)), "cublasLtMatmulDescSetAttribute", context);
            CublasLtNative.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(operation, CublasLtNative.DescTransB, &plain, sizeof(int)), "cublasLtMatmulDescSetAttribute", context);
            if (shape.Bias)
            {
                var epilogue = CublasLtNative.EpilogueBias;
                CublasLtNative.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(operation, CublasLtNative.DescEpilogue, &epilogue, sizeof(uint)), "cublasLtMatmulDescSetAttribute", context);
                CublasLtNative.Check(CublasLtNative.cublasLtMatmulDescSetAttribute(operation, CublasLtNative.DescBiasPointer, &bias, (nuint)sizeof(ulong)), "cublasLtMatmulDescSetAttribute", context);
            }

            nint a, b, c;
            // Column-major views of the row-major buffers: W[N,K] is K x N (ld K), X[M,K] is K x M (ld K), Y[M,N] is N x M (ld N).
            CublasLtNative.Check(CublasLtNative.cublasLtMatrixLayoutCreate(&a, CublasLtNative.CudaR16BF, (ulong)shape.K, (ulong)shape.N, shape.K), "cublasLtMatrixLayoutCreate", context);
            plan.LayoutA = a;
            CublasLtNative.Check(CublasLtNative.cublasLtMatrixLayoutCreate(&b, CublasLtNative.CudaR16BF, (ulong)shape.K, (ulong)shape.M, shape.K), "cublasLtMatrixLayoutCreate", context);
            plan.LayoutB = b;
            CublasLtNative.Check(CublasLtNative.cublasLtMatrixLayoutCreate(&c, shape.FloatOutput ? CublasLtNative.CudaR32F : CublasLtNative.CudaR16BF, (ulong)shape.N, (ulong)shape.M, shape.N), "cublasLtMatrixLayoutCreate", context);
            plan.LayoutC = c;

            var alignment = (uint)shape.Alignment;
            for (var attribute = CublasLtNative.PrefMinAlignmentA; attribute <= CublasLtNative.PrefMinAlignmentD; attribute++)
            {
                CublasLtNative.Check(CublasLtNative.cublasLtMatmulPreferenceSetAttribute(preference, attribute, &alignment, sizeof(uint)), "cublasLtMatmulPreferenceSetAttribute", context);
            }

            const int requested = 8;
            var results = stackalloc CublasLtHeuristicResult[requested];
            int returned;
            CublasLtNative.Check(CublasLtNative.cublasLtMatmulAlgoGetHeuristic(handle, operation, a, b, c, c, preference, requested, results, &returned), "cublasLtMatmulAlgoGetHeuristic", context);
            for (var i = 0; i < returned; i++)
            {
                // Results come fastest-first by the heuristic's estimate; take the first that is usable.
                if (results[i].State == CublasStatus.Success && (long)results[i].WorkspaceSize <= workspace.SizeInBytes)
                {
                    plan.Algorithm = results[i].Algo;
                    plan.WorkspaceBytes = (long)results[i].WorkspaceSize;
                    plan.Waves = results[i].WavesCount;
                    return plan;
                }
            }

            throw new CudaException($"cuBLASLt has no algorithm for the bf16 GEMM M={shape.M} N={shape.N} K={shape.K} (bias: {shape.Bias}, operand alignment {shape.Alignment} bytes, workspace {workspace.SizeInBytes} bytes). Check that K and N are multiples of 8 and the buffers are 16-byte aligned.");
        }
        catch
        {
            plan.Dispose();
            throw;
        }
    }

    private static void Require(DeviceBuffer<ushort> buffer, long elements, string name, int m, int n, int k)
    {
        if (buffer.Length < elements)
        {
            throw new ArgumentException($"GEMM M={m} N={n} K={k}: {name} needs {elements} bf16 elements but its buffer holds {buffer.Length}.", name);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowMatmul(CublasStatus status, GemmShape shape) =>
        CublasLtNative.Check(status, "cublasLtMatmul", $"running the bf16 GEMM M={shape.M} N={shape.N} K={shape.K}");
}
