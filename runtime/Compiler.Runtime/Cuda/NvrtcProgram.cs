using System.Text;
using Compiler.Runtime.Cuda.Native;

namespace Compiler.Runtime.Cuda;

/// <summary>One NVRTC compilation: create the program, compile with the given options, fetch the CUBIN or PTX and
/// the log, destroy the program. A compile error becomes a <see cref="CudaException"/> carrying the log.</summary>
internal static unsafe class NvrtcProgram
{
    public static (byte[] Image, string Log) Compile(string name, string source, IReadOnlyList<string> options, string target, bool isPtx)
    {
        nint program = 0;
        fixed (byte* src = NullTerminated(source))
        fixed (byte* programName = NullTerminated(name + ".cu"))
        {
            Nvrtc.Check(Nvrtc.nvrtcCreateProgram(&program, src, programName, 0, null, null), "nvrtcCreateProgram", $"creating the program for kernel '{name}'");
        }

        try
        {
            var result = CompileProgram(program, options);
            var log = ProgramLog(program);
            if (result != NvrtcResult.Success)
            {
                throw new CudaException("nvrtcCompileProgram", (int)result, Nvrtc.ErrorName(result), Nvrtc.Describe(result),
                    $"compiling kernel '{name}' for {target} with options [{string.Join(' ', options)}]", log);
            }

            nuint size;
            Nvrtc.Check(isPtx ? Nvrtc.nvrtcGetPTXSize(program, &size) : Nvrtc.nvrtcGetCUBINSize(program, &size), isPtx ? "nvrtcGetPTXSize" : "nvrtcGetCUBINSize");
            var image = new byte[checked((int)size)];
            fixed (byte* p = image)
            {
                Nvrtc.Check(isPtx ? Nvrtc.nvrtcGetPTX(program, p) : Nvrtc.nvrtcGetCUBIN(program, p), isPtx ? "nvrtcGetPTX" : "nvrtcGetCUBIN");
            }

            return (image, log);
        }
        finally
        {
            Nvrtc.nvrtcDestroyProgram(&program);
        }
    }

    /// <summary>The architectures this NVRTC can emit CUBINs for (e.g. 75, 80, ..., 90, 100), or empty if it cannot say.</summary>
    public static int[] SupportedArchitectures()
    {
        try
        {
            int count;
            if (Nvrtc.nvrtcGetNumSupportedArchs(&count) != NvrtcResult.Success || count <= 0)
            {
                return [];
            }

            var architectures = new int[count];
            fixed (int* p = architectures)
            {
                return Nvrtc.nvrtcGetSupportedArchs(p) == NvrtcResult.Success ? architectures : [];
            }
        }
        catch (EntryPointNotFoundException)
        {
            return [];
        }
    }

    private static NvrtcResult CompileProgram(nint program, IReadOnlyList<string> options)
    {
        // All options in one pinned buffer of NUL-terminated strings, with a pointer to each.
        var offsets = new int[options.Count];
        var total = 0;
        for (var i = 0; i < options.Count; i++)
        {
            offsets[i] = total;
            total += Encoding.UTF8.GetByteCount(options[i]) + 1;
        }

        var text = new byte[Math.Max(total, 1)];
        for (var i = 0; i < options.Count; i++)
        {
            Encoding.UTF8.GetBytes(options[i], text.AsSpan(offsets[i]));
        }

        var pointers = new byte*[Math.Max(options.Count, 1)];
        fixed (byte* start = text)
        fixed (byte** optionPointers = pointers)
        {
            for (var i = 0; i < options.Count; i++)
            {
                pointers[i] = start + offsets[i];
            }

            return Nvrtc.nvrtcCompileProgram(program, options.Count, optionPointers);
        }
    }

    private static string ProgramLog(nint program)
    {
        nuint size;
        if (Nvrtc.nvrtcGetProgramLogSize(program, &size) != NvrtcResult.Success || size <= 1)
        {
            return string.Empty;
        }

        var buffer = new byte[checked((int)size)];
        fixed (byte* p = buffer)
        {
            if (Nvrtc.nvrtcGetProgramLog(program, p) != NvrtcResult.Success)
            {
                return string.Empty;
            }
        }

        return Encoding.UTF8.GetString(buffer, 0, buffer.Length - 1);
    }

    private static byte[] NullTerminated(string text)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(text) + 1];
        Encoding.UTF8.GetBytes(text, bytes);
        return bytes;
    }
}
