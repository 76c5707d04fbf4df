using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Compiler.Runtime.Cuda.Native;

/// <summary>The NVRTC entry points (nvrtc.h) and their status check.</summary>
internal static unsafe partial class Nvrtc
{
    private const string Lib = CudaLibraries.NvrtcName;

    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcVersion(int* major, int* minor);
    [LibraryImport(Lib)] public static partial byte* nvrtcGetErrorString(NvrtcResult result);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetNumSupportedArchs(int* count);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetSupportedArchs(int* architectures);

    [LibraryImport(Lib)]
    public static partial NvrtcResult nvrtcCreateProgram(
        nint* program, byte* source, byte* name, int headerCount, byte** headers, byte** includeNames);

    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcDestroyProgram(nint* program);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcCompileProgram(nint program, int optionCount, byte** options);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetProgramLogSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetProgramLog(nint program, byte* log);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetCUBINSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetCUBIN(nint program, byte* cubin);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetPTXSize(nint program, nuint* size);
    [LibraryImport(Lib)] public static partial NvrtcResult nvrtcGetPTX(nint program, byte* ptx);

    public static void Check(NvrtcResult result, string call, string? context = null)
    {
        if (result != NvrtcResult.Success)
        {
            Throw(result, call, context);
        }
    }

    /// <summary>The NVRTC name of a status (nvrtcGetErrorString returns the symbolic name, e.g. NVRTC_ERROR_COMPILATION).</summary>
    public static string ErrorName(NvrtcResult result)
    {
        try
        {
            var text = nvrtcGetErrorString(result);
            if (text != null)
            {
                return Marshal.PtrToStringUTF8((nint)text) ?? $"nvrtcResult {(int)result}";
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
        }

        return $"nvrtcResult {(int)result}";
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(NvrtcResult result, string call, string? context) =>
        throw new CudaException(call, (int)result, ErrorName(result), Describe(result), context);

    /// <summary>A sentence for each status, since NVRTC itself only returns the symbolic name.</summary>
    internal static string? Describe(NvrtcResult result) => result switch
    {
        NvrtcResult.OutOfMemory => "NVRTC ran out of host memory",
        NvrtcResult.ProgramCreationFailure => "the program could not be created",
        NvrtcResult.InvalidInput => "an argument was invalid",
        NvrtcResult.InvalidProgram => "the program handle is invalid",
        NvrtcResult.InvalidOption => "a compile option is not accepted by this NVRTC, e.g. an architecture it does not know",
        NvrtcResult.Compilation => "the source did not compile; see the log",
        NvrtcResult.BuiltinOperationFailure => "NVRTC's builtin headers could not be loaded (libnvrtc-builtins missing?)",
        _ => null,
    };
}
