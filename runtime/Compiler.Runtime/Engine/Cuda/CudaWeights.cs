using Compiler.Runtime.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Engine.Cuda;

/// <summary>The model's weights on the GPU in bf16, one buffer per resolved tensor (merged weights concatenated at
/// upload). Other checkpoint dtypes are converted on the host, in chunks.</summary>
internal sealed unsafe class CudaWeights : IDisposable
{
    private readonly Dictionary<string, DeviceBuffer<ushort>> _buffers = new();
    private readonly Dictionary<string, ulong> _aliases = new();

    public CudaWeights(ModelConstants constants, Checkpoint checkpoint, CudaStream stream)
    {
        checkpoint.EnsureValid(ModelWeights.Expected(constants));
        var scratch = new ConversionScratch();
        foreach (var weight in ModelWeights.Resolve(constants, checkpoint))
        {
            // A tied weight (lm_head = embed_tokens) shares the buffer instead of a second copy.
            if (weight.Sources is [var only] && only != weight.Name && _buffers.TryGetValue(only, out var shared))
            {
                _aliases[weight.Name] = shared.Pointer;
                continue;
            }
            var elements = weight.Shape.Aggregate(1L, (a, b) => a * b);
            var buffer = DeviceBuffer<ushort>.Allocate(elements);
            _buffers[weight.Name] = buffer;
            long offset = 0;
            foreach (var source in weight.Sources)
            {
                var tensor = checkpoint.GetTensor(source);
                Upload(tensor, buffer.At(offset), stream, scratch);
                offset += tensor.ElementCount;
            }
            if (offset != elements)
                throw new CheckpointException(checkpoint.Source, weight.Name, $"needs {elements} elements but its sources [{string.Join(", ", weight.Sources)}] hold {offset}");
            TotalBytes += buffer.SizeInBytes;
        }
        stream.Synchronize();
    }

    public long TotalBytes { get; }

    /// <summary>The device address of a resolved weight ("{i}" already expanded).</summary>
    public ulong this[string name] => _buffers.TryGetValue(name, out var b) ? b.Pointer
        : _aliases.TryGetValue(name, out var alias) ? alias
        : throw new InvalidOperationException($"No weight '{name}' was loaded");

    private static void Upload(TensorView tensor, ulong destination, CudaStream stream, ConversionScratch scratch)
    {
        if (tensor.DType == TensorDType.BF16)
        {
            // Straight from the memory-mapped file; a synchronous copy, since the mapping is pageable memory.
            for (long done = 0; done < tensor.ByteLength; done += int.MaxValue / 2)
            {
                var count = (int)Math.Min(int.MaxValue / 2, tensor.ByteLength - done);
                var bytes = tensor.GetBytes(done, count);
                fixed (byte* p = bytes)
                    Compiler.Runtime.Cuda.Native.Cu.Check(Compiler.Runtime.Cuda.Native.CuDriver.cuMemcpyHtoDAsync(destination + (ulong)done, p, (nuint)count, stream.Handle), "cuMemcpyHtoDAsync", $"uploading {tensor.Name}");
                stream.Synchronize();
            }
            return;
        }
        var (floats, bf16) = scratch.Rent((int)Math.Min(ConversionScratch.Chunk, tensor.ElementCount));
        for (long first = 0; first < tensor.ElementCount; first += ConversionScratch.Chunk)
        {
            var count = (int)Math.Min(ConversionScratch.Chunk, tensor.ElementCount - first);
            tensor.CopyToFloat32(first, floats.AsSpan(0, count));
            FloatConversion.Float32ToBf16(floats.AsSpan(0, count), bf16.AsSpan(0, count));
            fixed (ushort* p = bf16)
                Compiler.Runtime.Cuda.Native.Cu.Check(Compiler.Runtime.Cuda.Native.CuDriver.cuMemcpyHtoDAsync(destination + (ulong)(first * 2), p, (nuint)(count * 2), stream.Handle), "cuMemcpyHtoDAsync", $"uploading {tensor.Name}");
            stream.Synchronize();
        }
    }

    /// <summary>Host buffers for converting non-bf16 tensors, one pair for the whole load (grown to the largest
    /// chunk needed) instead of a fresh pair per tensor; the copies are synchronous, so a chunk is free once sent.</summary>
    private sealed class ConversionScratch
    {
        public const int Chunk = 1 << 22;

        private float[] _floats = [];
        private ushort[] _bf16 = [];

        public (float[] Floats, ushort[] Bf16) Rent(int length)
        {
            if (_floats.Length < length)
            {
                _floats = new float[length];
                _bf16 = new ushort[length];
            }
            return (_floats, _bf16);
        }
    }

    public void Dispose()
    {
        foreach (var buffer in _buffers.Values) buffer.Dispose();
        _buffers.Clear();
    }
}
