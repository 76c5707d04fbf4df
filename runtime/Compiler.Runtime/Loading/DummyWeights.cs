using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;

namespace Compiler.Runtime.Loading;

/// <summary>Builds dummy weights (SGLang's --load-format dummy): uniform(-scale, scale) values in native memory,
/// generated in parallel chunks by a counter-based hash so the bytes depend only on (seed, tensor name, element
/// index), never on thread count, order of the list or the CPU's vector width.</summary>
internal static unsafe class DummyWeights
{
    public const string SourceName = "<dummy>";

    // Work is split into chunks of this many elements (a power of two, so no chunk straddles a 2^32 boundary).
    private const int ChunkElements = 1 << 20;
    private const int BlockElements = 4096;

    public static (List<TensorView> Views, TensorStorage[] Storages) Create(IEnumerable<ExpectedTensor> tensors, TensorDType dtype, ulong seed, float scale)
    {
        if (!dtype.IsSupported())
            throw new ArgumentException($"dummy weights can be BF16, F16 or F32, not {dtype.ToSafetensorsName()}", nameof(dtype));
        if (!float.IsFinite(scale) || scale < 0)
            throw new ArgumentOutOfRangeException(nameof(scale), scale, "scale must be finite and non-negative");

        var views = new List<TensorView>();
        var storages = new List<TensorStorage>();
        var keys = new List<(uint K0, uint K1)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var t in tensors)
            {
                if (!names.Add(t.Name)) throw new ArgumentException($"tensor '{t.Name}' is listed twice", nameof(tensors));
                long elements = 1;
                foreach (var d in t.Shape)
                {
                    if (d < 0) throw new ArgumentException($"tensor '{t.Name}' has a negative dimension in {TensorView.FormatShape(t.Shape)}", nameof(tensors));
                    elements = checked(elements * d);
                }
                var bytes = checked(elements * dtype.ElementSize());
                var storage = new NativeBuffer(SourceName, bytes);
                storages.Add(storage);
                views.Add(new TensorView(t.Name, dtype, (long[])t.Shape.Clone(), elements, storage, 0, bytes));
                keys.Add(KeyFor(seed, t.Name));
            }

            // Flatten (tensor, chunk) pairs so one big embedding and many small norms spread evenly over cores.
            var work = new List<(int Tensor, long Start)>();
            for (var i = 0; i < views.Count; i++)
                for (long start = 0; start < views[i].ElementCount; start += ChunkElements)
                    work.Add((i, start));

            Parallel.For(0, work.Count, w =>
            {
                var (i, start) = work[w];
                var count = (int)Math.Min(ChunkElements, views[i].ElementCount - start);
                FillChunk(storages[i].Base, dtype, keys[i], start, count, scale);
            });
            return (views, storages.ToArray());
        }
        catch
        {
            foreach (var s in storages) s.Dispose();
            throw;
        }
    }

    /// <summary>The value dummy element <paramref name="index"/> of tensor <paramref name="name"/> gets before
    /// rounding to the dtype; the scalar definition the vector path reproduces bit for bit.</summary>
    public static float ValueAt(ulong seed, string name, long index, float scale)
    {
        var (k0, k1) = KeyFor(seed, name);
        var high = Mix((uint)(index >> 32) ^ k1);
        return ToUniform(Mix(Mix((uint)index + k0) ^ high), scale);
    }

    private static void FillChunk(byte* tensorBase, TensorDType dtype, (uint K0, uint K1) key, long start, int count, float scale)
    {
        var high = Mix((uint)(start >> 32) ^ key.K1);
        var block = stackalloc float[BlockElements];
        for (var done = 0; done < count; done += BlockElements)
        {
            var n = Math.Min(BlockElements, count - done);
            var first = start + done;
            var values = new Span<float>(block, n);
            Generate(values, (uint)first, key.K0, high, scale);
            switch (dtype)
            {
                case TensorDType.F32: values.CopyTo(new Span<float>(tensorBase + first * 4, n)); break;
                case TensorDType.BF16: FloatConversion.Float32ToBf16(values, new Span<ushort>(tensorBase + first * 2, n)); break;
                default: TensorPrimitives.ConvertToHalf(values, new Span<Half>(tensorBase + first * 2, n)); break;
            }
        }
    }

    private static void Generate(Span<float> values, uint firstLow, uint k0, uint high, float scale)
    {
        int i = 0, n = values.Length;
        ref var dst = ref MemoryMarshal.GetReference(values);
        if (Vector256.IsHardwareAccelerated)
        {
            var lane = Vector256.Create(0u, 1, 2, 3, 4, 5, 6, 7);
            for (; i <= n - 8; i += 8)
            {
                var h = Mix(Mix(Vector256.Create(firstLow + (uint)i) + lane + Vector256.Create(k0)) ^ Vector256.Create(high));
                var unit = Vector256.ConvertToSingle((h >> 8).AsInt32()) * Vector256.Create(1f / (1 << 23)) - Vector256<float>.One;
                (unit * Vector256.Create(scale)).StoreUnsafe(ref dst, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref dst, i) = ToUniform(Mix(Mix(firstLow + (uint)i + k0) ^ high), scale);
    }

    // 24 random bits -> [-1, 1) exactly (k * 2^-23 - 1 is representable), then one rounding for the scale.
    private static float ToUniform(uint h, float scale) => ((int)(h >> 8) * (1f / (1 << 23)) - 1f) * scale;

    // MurmurHash3's 32-bit finaliser: a bijection with full avalanche, cheap in SIMD (vpmulld).
    private static uint Mix(uint h)
    {
        h ^= h >> 16; h *= 0x85EBCA6Bu; h ^= h >> 13; h *= 0xC2B2AE35u; h ^= h >> 16;
        return h;
    }

    private static Vector256<uint> Mix(Vector256<uint> h)
    {
        h ^= h >> 16; h *= Vector256.Create(0x85EBCA6Bu); h ^= h >> 13; h *= Vector256.Create(0xC2B2AE35u); h ^= h >> 16;
        return h;
    }

    private static (uint K0, uint K1) KeyFor(ulong seed, string name)
    {
        // FNV-1a over the UTF-8 name, then SplitMix64 with the seed: a stable per-tensor key (string.GetHashCode is randomised per process).
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(name)) hash = (hash ^ b) * 0x100000001B3UL;
        var z = seed + 0x9E3779B97F4A7C15UL * (hash | 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return ((uint)z, (uint)(z >> 32));
    }
}
