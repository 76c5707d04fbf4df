namespace Compiler.Runtime.Cuda;

/// <summary>
/// The one exception type of the CUDA layer: a failed driver, NVRTC or cuBLASLt call, a missing library, or a
/// kernel that did not compile. The message names the call and the library's own error name and text, e.g.
/// <c>cuModuleLoadData failed: CUDA_ERROR_INVALID_PTX (a PTX JIT compilation failed)</c>.
/// </summary>
internal sealed class CudaException : Exception
{
    public CudaException(string message)
        : base(message)
    {
        Call = string.Empty;
        ErrorName = string.Empty;
    }

    public CudaException(string message, Exception inner)
        : base(message, inner)
    {
        Call = string.Empty;
        ErrorName = string.Empty;
    }

    internal CudaException(string call, int errorCode, string errorName, string? description, string? context = null, string? log = null)
        : base(Format(call, errorName, description, context, log))
    {
        Call = call;
        ErrorCode = errorCode;
        ErrorName = errorName;
        Log = log;
    }

    /// <summary>The native function that failed (empty for errors not raised by one call).</summary>
    public string Call { get; }

    /// <summary>The numeric status the call returned (CUresult, nvrtcResult or cublasStatus_t).</summary>
    public int ErrorCode { get; }

    /// <summary>The status's symbolic name, e.g. CUDA_ERROR_OUT_OF_MEMORY.</summary>
    public string ErrorName { get; }

    /// <summary>The NVRTC compile log, when the failure was a compile error.</summary>
    public string? Log { get; }

    /// <summary>Builds the message text: "call failed: NAME (description) [while context]" then the log, if any.</summary>
    internal static string Format(string call, string errorName, string? description, string? context = null, string? log = null)
    {
        var text = string.IsNullOrWhiteSpace(description)
            ? $"{call} failed: {errorName}"
            : $"{call} failed: {errorName} ({description.Trim()})";
        if (!string.IsNullOrWhiteSpace(context))
        {
            text += $" while {context}";
        }

        if (!string.IsNullOrWhiteSpace(log))
        {
            text += Environment.NewLine + log.TrimEnd();
        }

        return text;
    }
}
