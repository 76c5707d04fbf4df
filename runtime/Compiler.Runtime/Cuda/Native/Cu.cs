using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cuda.Native;

/// <summary>Turns driver API statuses into <see cref="CudaException"/>s named after the call and the CUDA error.</summary>
internal static unsafe class Cu
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(CuResult result, string call)
    {
        if (result != CuResult.Success)
        {
            Throw(result, call, null);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(CuResult result, string call, string context)
    {
        if (result != CuResult.Success)
        {
            Throw(result, call, context);
        }
    }

    /// <summary>The error's symbolic name from the driver (e.g. CUDA_ERROR_INVALID_PTX), or its number.</summary>
    public static string ErrorName(CuResult result)
    {
        byte* text = null;
        try
        {
            if (CuDriver.cuGetErrorName(result, &text) == CuResult.Success && text != null)
            {
                return Marshal.PtrToStringUTF8((nint)text) ?? $"CUresult {(int)result}";
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }

        return $"CUresult {(int)result}";
    }

    /// <summary>The driver's description of the error, or null when it has none.</summary>
    public static string? ErrorString(CuResult result)
    {
        byte* text = null;
        try
        {
            if (CuDriver.cuGetErrorString(result, &text) == CuResult.Success && text != null)
            {
                return Marshal.PtrToStringUTF8((nint)text);
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }

        return null;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(CuResult result, string call, string? context) =>
        throw new CudaException(call, (int)result, ErrorName(result), ErrorString(result), context);
}
