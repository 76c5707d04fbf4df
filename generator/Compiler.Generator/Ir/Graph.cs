using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace Compiler.Generator.Ir;

/// <summary>
/// The whole model as a graph in topological order: prologue nodes, then one layer (repeated <see cref="LayerCount"/>
/// times), then epilogue nodes. Config constants are symbols in dimensions; <see cref="Constants"/> says how each is read.
/// </summary>
internal sealed record Graph(string ModelName, EquatableArray<Node> Nodes, EquatableArray<ConfigConstant> Constants,
    string LayerPrefix, string LayerCount)
{
    public Node this[int id] => Nodes[id];

    public Graph WithNodes(IEnumerable<Node> nodes) => this with { Nodes = nodes.ToEquatableArray() };

    /// <summary>For each node, the nodes that read it (including the LoopIn that carries a layer output to the next layer).</summary>
    public ImmutableArray<ImmutableArray<int>> Consumers()
    {
        var lists = Nodes.Select(_ => new List<int>()).ToList();
        foreach (var node in Nodes)
        {
            foreach (var input in node.Inputs) lists[input].Add(node.Id);
            if (node.Op == OpKind.LoopIn)
            {
                lists[node.CarriedFrom].Add(node.Id);
                lists[node.CarriedBack].Add(node.Id);
            }
        }
        return lists.Select(l => l.Distinct().OrderBy(i => i).ToImmutableArray()).ToImmutableArray();
    }
}
