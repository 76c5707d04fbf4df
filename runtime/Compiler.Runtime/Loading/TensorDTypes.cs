namespace Compiler.Runtime.Loading;

/// <summary>Sizes and safetensors spellings of <see cref="TensorDType"/>.</summary>
public static class TensorDTypes
{
    private static readonly string[] Names =
        ["BF16", "F16", "F32", "F64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64"];

    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this TensorDType dtype) => dtype switch
    {
        TensorDType.BF16 or TensorDType.F16 or TensorDType.U16 or TensorDType.I16 => 2,
        TensorDType.F32 or TensorDType.U32 or TensorDType.I32 => 4,
        TensorDType.F64 or TensorDType.U64 or TensorDType.I64 => 8,
        TensorDType.F8E4M3 or TensorDType.F8E5M2 or TensorDType.F8E8M0 or TensorDType.Bool or TensorDType.U8 or TensorDType.I8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a TensorDType"),
    };

    /// <summary>True for the dtypes the engine computes with (BF16, F16, F32).</summary>
    public static bool IsSupported(this TensorDType dtype) =>
        dtype is TensorDType.BF16 or TensorDType.F16 or TensorDType.F32;

    /// <summary>The spelling used in safetensors headers ("BF16", "F8_E4M3", ...).</summary>
    public static string ToSafetensorsName(this TensorDType dtype) => Names[(int)dtype];

    /// <summary>Parses a safetensors header dtype; false for a name the format does not define.</summary>
    public static bool TryParseSafetensorsName(string name, out TensorDType dtype)
    {
        var index = Array.IndexOf(Names, name);
        dtype = (TensorDType)Math.Max(index, 0);
        return index >= 0;
    }

    /// <summary>Maps a config.json dtype ("bfloat16", "float16", "float32", with or without "torch.") to a dtype.</summary>
    public static bool TryParseTorchName(string name, out TensorDType dtype)
    {
        var bare = name.StartsWith("torch.", StringComparison.Ordinal) ? name["torch.".Length..] : name;
        (var ok, dtype) = bare switch
        {
            "bfloat16" => (true, TensorDType.BF16),
            "float16" or "half" => (true, TensorDType.F16),
            "float32" or "float" => (true, TensorDType.F32),
            _ => (false, TensorDType.BF16),
        };
        return ok;
    }

    /// <summary>All safetensors spellings, for error messages.</summary>
    internal static string AllNames => string.Join(", ", Names);
}
