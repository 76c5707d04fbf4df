using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cuda.Native;

/// <summary>The cuBLASLt entry points (cublasLt.h) used by the GEMM wrapper, with the attribute numbers it sets.</summary>
internal static unsafe partial class CublasLtNative
{
    private const string Lib = CudaLibraries.CublasLtName;

    // cudaDataType_t / cublasComputeType_t
    public const int CudaR32F = 0;
    public const int CudaR16F = 2;
    public const int CudaR16BF = 14;
    public const int ComputeType32F = 68;

    // cublasOperation_t
    public const int OpN = 0;
    public const int OpT = 1;

    // cublasLtMatmulDescAttributes_t
    public const int DescTransA = 3;
    public const int DescTransB = 4;
    public const int DescEpilogue = 7;
    public const int DescBiasPointer = 8;

    // cublasLtEpilogue_t
    public const uint EpilogueDefault = 1;
    public const uint EpilogueBias = 4;

    // cublasLtMatmulPreferenceAttributes_t
    public const int PrefMaxWorkspaceBytes = 1;
    public const int PrefMinAlignmentA = 5;
    public const int PrefMinAlignmentB = 6;
    public const int PrefMinAlignmentC = 7;
    public const int PrefMinAlignmentD = 8;

    [LibraryImport(Lib)] public static partial nuint cublasLtGetVersion();
    [LibraryImport(Lib)] public static partial byte* cublasLtGetStatusName(CublasStatus status);
    [LibraryImport(Lib)] public static partial byte* cublasLtGetStatusString(CublasStatus status);

    [LibraryImport(Lib)] public static partial CublasStatus cublasLtCreate(nint* handle);
    [LibraryImport(Lib)] public static partial CublasStatus cublasLtDestroy(nint handle);

    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatmulDescCreate(nint* desc, int computeType, int scaleType);
    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatmulDescDestroy(nint desc);
    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatmulDescSetAttribute(nint desc, int attribute, void* value, nuint size);

    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatrixLayoutCreate(nint* layout, int type, ulong rows, ulong cols, long ld);
    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatrixLayoutDestroy(nint layout);

    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatmulPreferenceCreate(nint* preference);
    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatmulPreferenceDestroy(nint preference);
    [LibraryImport(Lib)] public static partial CublasStatus cublasLtMatmulPreferenceSetAttribute(nint preference, int attribute, void* value, nuint size);

    [LibraryImport(Lib)]
    public static partial CublasStatus cublasLtMatmulAlgoGetHeuristic(
        nint handle, nint operation, nint aDesc, nint bDesc, nint cDesc, nint dDesc, nint preference,
        int requestedCount, CublasLtHeuristicResult* results, int* returnedCount);

    [LibraryImport(Lib)]
    public static partial CublasStatus cublasLtMatmul(
        nint handle, nint operation, void* alpha, ulong a, nint aDesc, ulong b, nint bDesc, void* beta,
        ulong c, nint cDesc, ulong d, nint dDesc, CublasLtMatmulAlgo* algo, ulong workspace, nuint workspaceBytes, nint stream);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(CublasStatus status, string call, string? context = null)
    {
        if (status != CublasStatus.Success)
        {
            Throw(status, call, context);
        }
    }

    public static string StatusName(CublasStatus status)
    {
        try
        {
            var text = cublasLtGetStatusName(status);
            if (text != null)
            {
                return Marshal.PtrToStringUTF8((nint)text) ?? $"cublasStatus {(int)status}";
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }

        return status switch
        {
            CublasStatus.NotInitialized => "CUBLAS_STATUS_NOT_INITIALIZED",
            CublasStatus.AllocFailed => "CUBLAS_STATUS_ALLOC_FAILED",
            CublasStatus.InvalidValue => "CUBLAS_STATUS_INVALID_VALUE",
            CublasStatus.ArchMismatch => "CUBLAS_STATUS_ARCH_MISMATCH",
            CublasStatus.ExecutionFailed => "CUBLAS_STATUS_EXECUTION_FAILED",
            CublasStatus.InternalError => "CUBLAS_STATUS_INTERNAL_ERROR",
            CublasStatus.NotSupported => "CUBLAS_STATUS_NOT_SUPPORTED",
            _ => $"cublasStatus {(int)status}",
        };
    }

    public static string? StatusString(CublasStatus status)
    {
        try
        {
            var text = cublasLtGetStatusString(status);
            return text == null ? null : Marshal.PtrToStringUTF8((nint)text);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(CublasStatus status, string call, string? context) =>
        throw new CudaException(call, (int)status, StatusName(status), StatusString(status), context);
}
