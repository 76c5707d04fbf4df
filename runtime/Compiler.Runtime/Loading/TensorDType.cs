namespace Compiler.Runtime.Loading;

/// <summary>Element types a safetensors header can name. Only <see cref="BF16"/>, <see cref="F16"/> and
/// <see cref="F32"/> can be used by the engine; the rest are known so that their files still validate and list.</summary>
public enum TensorDType
{
    /// <summary>bfloat16 (the usual dtype of Hub checkpoints).</summary>
    BF16,
    /// <summary>IEEE half.</summary>
    F16,
    /// <summary>IEEE single.</summary>
    F32,
    /// <summary>IEEE double (unsupported).</summary>
    F64,
    /// <summary>8-bit float E4M3 (unsupported).</summary>
    F8E4M3,
    /// <summary>8-bit float E5M2 (unsupported).</summary>
    F8E5M2,
    /// <summary>8-bit exponent-only scale E8M0 (unsupported).</summary>
    F8E8M0,
    /// <summary>Boolean, one byte (unsupported).</summary>
    Bool,
    /// <summary>Unsigned 8-bit integer (unsupported).</summary>
    U8,
    /// <summary>Signed 8-bit integer (unsupported).</summary>
    I8,
    /// <summary>Unsigned 16-bit integer (unsupported).</summary>
    U16,
    /// <summary>Signed 16-bit integer (unsupported).</summary>
    I16,
    /// <summary>Unsigned 32-bit integer (unsupported).</summary>
    U32,
    /// <summary>Signed 32-bit integer (unsupported).</summary>
    I32,
    /// <summary>Unsigned 64-bit integer (unsupported).</summary>
    U64,
    /// <summary>Signed 64-bit integer (unsupported).</summary>
    I64,
}
