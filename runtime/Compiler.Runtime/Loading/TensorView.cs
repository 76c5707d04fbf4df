namespace Compiler.Runtime.Loading;

/// <summary>One tensor of a checkpoint: name, dtype, shape, where it lives, and its bytes (no copy). Valid while its
/// <see cref="Checkpoint"/> is open; every access after disposal throws instead of reading unmapped memory.</summary>
/// <remarks>Public because the generated model code (Compiler.Models) uploads and converts weights through it.</remarks>
public sealed unsafe class TensorView
{
    private readonly TensorStorage _storage;
    private readonly long[] _shape;

    internal TensorView(string name, TensorDType dtype, long[] shape, long elementCount, TensorStorage storage, long offset, long byteLength)
    {
        Name = name;
        DType = dtype;
        _shape = shape;
        ElementCount = elementCount;
        _storage = storage;
        FileOffset = offset;
        ByteLength = byteLength;
    }

    /// <summary>The checkpoint name, e.g. "model.layers.0.self_attn.q_proj.weight".</summary>
    public string Name { get; }

    /// <summary>Element type as stored.</summary>
    public TensorDType DType { get; }

    /// <summary>Dimensions, outermost first (row-major, as in PyTorch).</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>Product of the dimensions (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Size of the data in bytes (ElementCount * element size).</summary>
    public long ByteLength { get; }

    /// <summary>The .safetensors file that holds the tensor ("&lt;dummy&gt;" for a dummy checkpoint).</summary>
    public string FilePath => _storage.Source;

    /// <summary>Absolute byte offset of the data within <see cref="FilePath"/>.</summary>
    public long FileOffset { get; }

    /// <summary>Address of the first byte, for uploads (cuMemcpyHtoD). Valid while the checkpoint is open.</summary>
    public nint Address => (nint)(_storage.Base + FileOffset);

    /// <summary>The raw bytes (little-endian, as stored). Tensors of 2 GiB or more need <see cref="GetBytes"/>.</summary>
    public ReadOnlySpan<byte> Bytes
    {
        get
        {
            if (ByteLength > int.MaxValue)
                throw new InvalidOperationException($"tensor '{Name}' has {ByteLength} bytes, more than one span can hold; read it in pieces with GetBytes or use Address");
            return new ReadOnlySpan<byte>(_storage.Base + FileOffset, (int)ByteLength);
        }
    }

    /// <summary>A piece of the raw bytes: <paramref name="count"/> bytes from <paramref name="start"/>.</summary>
    public ReadOnlySpan<byte> GetBytes(long start, int count)
    {
        if (start < 0 || count < 0 || start > ByteLength - count)
            throw new ArgumentOutOfRangeException(nameof(start), $"bytes [{start}, {start + count}) are outside tensor '{Name}' ({ByteLength} bytes)");
        return new ReadOnlySpan<byte>(_storage.Base + FileOffset + start, count);
    }

    /// <summary>True when the shape equals <paramref name="shape"/> exactly.</summary>
    public bool HasShape(ReadOnlySpan<long> shape) => shape.SequenceEqual(_shape);

    /// <summary>Converts all elements to float32 into <paramref name="destination"/> (length must be ElementCount).</summary>
    public void CopyToFloat32(Span<float> destination)
    {
        if (destination.Length != ElementCount)
            throw new ArgumentException($"destination holds {destination.Length} floats but tensor '{Name}' has {ElementCount} elements", nameof(destination));
        CopyToFloat32(0, destination);
    }

    /// <summary>Converts elements [<paramref name="firstElement"/>, +destination.Length) to float32, e.g. one row.</summary>
    public void CopyToFloat32(long firstElement, Span<float> destination)
    {
        RequireSupported();
        if (firstElement < 0 || firstElement > ElementCount - destination.Length)
            throw new ArgumentOutOfRangeException(nameof(firstElement), $"elements [{firstElement}, {firstElement + destination.Length}) are outside tensor '{Name}' ({ElementCount} elements)");
        var size = DType.ElementSize();
        var source = new ReadOnlySpan<byte>(_storage.Base + FileOffset + firstElement * size, destination.Length * size);
        FloatConversion.ToFloat32(DType, source, destination);
    }

    /// <summary>All elements as a new float32 array (for small tensors and the CPU backend).</summary>
    public float[] ToFloat32Array()
    {
        RequireSupported();
        if (ElementCount > Array.MaxLength)
            throw new InvalidOperationException($"tensor '{Name}' has {ElementCount} elements, too many for one array; convert it in pieces with CopyToFloat32(firstElement, destination)");
        var result = new float[ElementCount];
        CopyToFloat32(0, result);
        return result;
    }

    /// <summary>"name BF16[1024, 3072] in file".</summary>
    public override string ToString() => $"{Name} {DType.ToSafetensorsName()}[{string.Join(", ", _shape)}] in {FilePath}";

    internal void RequireSupported()
    {
        if (!DType.IsSupported())
            throw new CheckpointException(FilePath, Name, $"unsupported dtype {DType.ToSafetensorsName()}; the engine reads BF16, F16 and F32 weights only");
    }

    internal static string FormatShape(ReadOnlySpan<long> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
