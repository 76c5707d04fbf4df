using Compiler.Runtime.Loading;

namespace Compiler.Runtime.Plan;

/// <summary>One concrete tensor a backend holds: a plan weight for one layer (or a global one), its shape, and the
/// checkpoint tensors it is made of (several for a merged weight, concatenated along dim 0).</summary>
public sealed record ResolvedWeight(string Name, long[] Shape, string[] Sources);

/// <summary>
/// Maps a plan's weights onto a checkpoint: expands "{i}" for every layer, evaluates shapes, resolves merged weights to
/// their parts and tied weights to the tensor they share when the checkpoint leaves them out.
/// </summary>
public static class ModelWeights
{
    /// <summary>Every tensor the backend needs, keyed by plan name with the layer index filled in.</summary>
    public static IReadOnlyList<ResolvedWeight> Resolve(ModelConstants constants, Checkpoint? checkpoint = null)
    {
        var plan = constants.Plan;
        var result = new List<ResolvedWeight>();
        foreach (var weight in plan.Weights)
            foreach (var layer in Layers(constants, weight))
            {
                var name = Expand(weight.Name, layer);
                var shape = weight.Shape.Select(constants.Dim).ToArray();
                string[] sources = weight.MergedFrom.Length > 0 ? weight.MergedFrom.Select(p => Expand(p, layer)).ToArray() : [name];
                if (IsTiedAway(constants, weight, checkpoint)) sources = [weight.TiedTo!];
                result.Add(new ResolvedWeight(name, shape, sources));
            }
        return result;
    }

    /// <summary>The checkpoint tensors the model reads, with their shapes: what a checkpoint must hold (and what a
    /// dummy checkpoint is made of). A tied tensor is only expected when the config does not tie it.</summary>
    public static IReadOnlyList<ExpectedTensor> Expected(ModelConstants constants)
    {
        var plan = constants.Plan;
        var expected = new List<ExpectedTensor>();
        foreach (var weight in plan.Weights)
        {
            if (weight.TiedIf is { } flag && constants.Bool(flag)) continue;
            foreach (var layer in Layers(constants, weight))
            {
                var shape = weight.Shape.Select(constants.Dim).ToArray();
                if (weight.MergedFrom.Length == 0) { expected.Add(new ExpectedTensor(Expand(weight.Name, layer), shape)); continue; }
                for (var p = 0; p < weight.MergedFrom.Length; p++)
                    expected.Add(new ExpectedTensor(Expand(weight.MergedFrom[p], layer), [constants.Dim(weight.MergedRows[p]), .. shape[1..]]));
            }
        }
        return expected;
    }

    private static bool IsTiedAway(ModelConstants constants, WeightSpec weight, Checkpoint? checkpoint) =>
        weight.TiedTo is not null && weight.TiedIf is { } flag && constants.Bool(flag) &&
        (checkpoint is null || !checkpoint.Contains(weight.Name));

    private static IEnumerable<int> Layers(ModelConstants constants, WeightSpec weight) =>
        weight.PerLayer ? Enumerable.Range(0, constants.Int(constants.Plan.LayerCount)) : [-1];

    public static string Expand(string name, int layer) => layer < 0 ? name : name.Replace("{i}", layer.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
