using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// Every plan weight of a model as an fp32 native array, keyed by its layer-expanded plan name: merged weights
/// (qkv_proj, gate_up_proj) are their parts concatenated along dim 0, and a tied lm_head shares the embedding's array.
/// </summary>
internal sealed class CpuWeights : IDisposable
{
    private readonly Dictionary<string, (NativeFloats Data, long[] Shape)> _byName = new(StringComparer.Ordinal);
    private readonly List<NativeFloats> _owned = [];

    public CpuWeights(ModelConstants constants, Checkpoint checkpoint)
    {
        checkpoint.EnsureValid(ModelWeights.Expected(constants));
        var resolved = ModelWeights.Resolve(constants, checkpoint);
        // Weights with the same sources (a tied lm_head and the embedding) share one array.
        var bySources = new Dictionary<string, NativeFloats>(StringComparer.Ordinal);
        var toLoad = new List<(NativeFloats Data, ResolvedWeight Weight)>();
        foreach (var w in resolved)
        {
            var key = string.Join('\n', w.Sources);
            if (!bySources.TryGetValue(key, out var data))
            {
                data = new NativeFloats(w.Shape.Aggregate(1L, (a, b) => a * b));
                _owned.Add(data);
                bySources.Add(key, data);
                toLoad.Add((data, w));
            }
            _byName.Add(w.Name, (data, w.Shape));
        }
        // bf16 -> fp32 conversion of GBs is worth the cores.
        Parallel.ForEach(toLoad, item => Load(checkpoint, item.Weight, item.Data));
        TotalFloats = _owned.Sum(d => d.Length);
    }

    /// <summary>Floats held (shared arrays counted once).</summary>
    public long TotalFloats { get; }

    public int Count => _byName.Count;

    /// <summary>The array of a layer-expanded plan weight name; the message lists what went wrong.</summary>
    public NativeFloats Get(string name, out long[] shape)
    {
        if (!_byName.TryGetValue(name, out var entry))
            throw new InvalidOperationException($"The plan reads weight '{name}', which the plan's weight list does not resolve; the model plan is inconsistent (regenerate it).");
        shape = entry.Shape;
        return entry.Data;
    }

    private static unsafe void Load(Checkpoint checkpoint, ResolvedWeight weight, NativeFloats data)
    {
        long offset = 0;
        foreach (var source in weight.Sources)
        {
            var tensor = checkpoint.GetTensor(source);
            if (offset + tensor.ElementCount > data.Length)
                throw new CheckpointException(checkpoint.Source, source, $"is {TensorView.FormatShape(tensor.Shape.ToArray())}, too large for its part of '{weight.Name}' {TensorView.FormatShape(weight.Shape)}");
            // In pieces: a Span holds at most 2^31 elements.
            const int piece = 1 << 24;
            for (long done = 0; done < tensor.ElementCount; done += piece)
            {
                var n = (int)Math.Min(piece, tensor.ElementCount - done);
                tensor.CopyToFloat32(done, new Span<float>(data.Pointer + offset + done, n));
            }
            offset += tensor.ElementCount;
        }
        if (offset != data.Length)
            throw new CheckpointException(checkpoint.Source, weight.Sources[0], $"'{weight.Name}' should hold {data.Length} elements {TensorView.FormatShape(weight.Shape)} but its parts [{string.Join(", ", weight.Sources)}] hold {offset}");
    }

    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
