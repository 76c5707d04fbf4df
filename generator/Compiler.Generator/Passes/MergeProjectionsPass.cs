using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Merges projections that read the same input (q/k/v, gate/up) into one GEMM over a weight concatenated along
/// the output features, as nano-vllm's <c>QKVParallelLinear</c> / <c>MergedColumnParallelLinear</c> do. The
/// concatenation is recorded on the merged weight (<see cref="Node.MergedFrom"/>) for the loader; each original
/// output becomes a <see cref="OpKind.Slice"/> of the merged one, which later fuses into the next kernel for free.
/// </summary>
internal static class MergeProjectionsPass
{
    public static Graph Run(Graph graph)
    {
        var groups = graph.Nodes
            .Where(n => n.Op == OpKind.Linear && graph[n.Inputs[1]].TiedIf is null)
            .GroupBy(n => (Input: n.Inputs[0], n.Section))
            .Where(g => g.Count() > 1)
            .ToDictionary(g => g.First().Id, g => g.ToList());
        if (groups.Count == 0) return graph;
        var memberOf = groups.SelectMany(g => g.Value.Select(n => (n.Id, First: g.Key))).ToDictionary(p => p.Id, p => p.First);

        var result = new List<Node>();
        var remap = new Dictionary<int, int>();
        var mergedLinear = new Dictionary<int, int>(); // group key -> new id of the merged GEMM
        foreach (var node in graph.Nodes)
        {
            if (!memberOf.TryGetValue(node.Id, out var groupKey))
            {
                remap[node.Id] = Append(result, node with { Inputs = node.Inputs.Select(i => remap[i]).ToEquatableArray() });
                continue;
            }
            var members = groups[groupKey];
            if (node.Id == groupKey)
            {
                var weights = members.Select(m => graph[m.Inputs[1]]).ToList();
                var outFeatures = weights.Select(w => w.WeightShape[0]).Aggregate((a, b) => a + b);
                var weightName = MergedName(weights.Select(w => w.WeightName!).ToList());
                var weight = Append(result, new Node(0, OpKind.Weight, EquatableArray<int>.Empty, node.Section, weights[0].Span)
                {
                    Name = weightName, WeightName = weightName, DType = DType.BFloat16,
                    WeightShape = new[] { outFeatures, weights[0].WeightShape[1] }.ToEquatableArray(),
                    MergedFrom = weights.Select(w => w.WeightName!).ToEquatableArray(),
                    MergedRows = weights.Select(w => w.WeightShape[0]).ToEquatableArray(),
                });
                mergedLinear[groupKey] = Append(result, node with
                {
                    Inputs = new[] { remap[node.Inputs[0]], weight }.ToEquatableArray(),
                    Length = outFeatures,
                    Name = WeightNames.Module(weightName),
                });
            }
            var offset = members.TakeWhile(m => m.Id != node.Id).Select(m => m.Length!).Aggregate(Dim.Zero, (a, b) => a + b);
            remap[node.Id] = Append(result, new Node(0, OpKind.Slice, new[] { mergedLinear[groupKey] }.ToEquatableArray(), node.Section, node.Span)
            {
                Name = node.Name, Length = node.Length, Offset = offset, DType = node.DType,
            });
        }
        // Loop-carried links point forward, so they are renumbered once every node has its new id.
        var relinked = result.Select(n => n.Op == OpKind.LoopIn ? n with { CarriedFrom = remap[n.CarriedFrom], CarriedBack = remap[n.CarriedBack] } : n);
        return Compact(graph.WithNodes(relinked));
    }

    private static int Append(List<Node> nodes, Node node)
    {
        nodes.Add(node with { Id = nodes.Count });
        return nodes.Count - 1;
    }

    /// <summary>Drops weights nothing reads any more (the parts of merged weights) and renumbers.</summary>
    private static Graph Compact(Graph graph)
    {
        var consumers = graph.Consumers();
        var keep = graph.Nodes.Where(n => n.Op != OpKind.Weight || consumers[n.Id].Length > 0).ToList();
        var remap = keep.Select((n, i) => (n.Id, i)).ToDictionary(p => p.Id, p => p.i);
        return graph.WithNodes(keep.Select(n => n with
        {
            Id = remap[n.Id],
            Inputs = n.Inputs.Select(i => remap[i]).ToEquatableArray(),
            CarriedFrom = n.CarriedFrom < 0 ? -1 : remap[n.CarriedFrom],
            CarriedBack = n.CarriedBack < 0 ? -1 : remap[n.CarriedBack],
        }));
    }

    /// <summary>
    /// <c>a.q_proj.weight</c> + <c>a.k_proj.weight</c> + <c>a.v_proj.weight</c> -> <c>a.qkv_proj.weight</c>;
    /// <c>b.gate_proj.weight</c> + <c>b.up_proj.weight</c> -> <c>b.gate_up_proj.weight</c>.
    /// </summary>
    internal static string MergedName(IReadOnlyList<string> names)
    {
        var prefix = names.Aggregate((a, b) => new string(a.TakeWhile((c, i) => i < b.Length && b[i] == c).ToArray()));
        prefix = prefix.Substring(0, prefix.LastIndexOf('.') + 1);
        var suffix = names.Select(n => new string(n.Reverse().ToArray())).Aggregate((a, b) => new string(a.TakeWhile((c, i) => i < b.Length && b[i] == c).ToArray()));
        suffix = new string(suffix.Reverse().ToArray());
        var cut = suffix.IndexOfAny(new[] { '_', '.' });
        suffix = cut < 0 ? "" : suffix.Substring(cut);
        var middles = names.Select(n => n.Substring(prefix.Length, n.Length - prefix.Length - suffix.Length)).ToList();
        var joined = middles.All(m => m.Length == 1) ? string.Concat(middles) : string.Join("_", middles);
        return prefix + joined + suffix;
    }
}
