using System.Collections.Generic;
using Compiler.Generator.Diagnostics;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Infers each value's row length (symbolic, in config constants) and dtype, and checks every op's operands agree:
/// a projection's input against its weight's in-features, a norm's weight against the normalised size, both sides
/// of an add. Point-wise values are computed in fp32; GEMM and attention outputs are stored in bf16, logits in fp32.
/// </summary>
internal static class ShapeInferencePass
{
    public static Graph Run(Graph graph, List<ModelDiagnostic> diagnostics)
    {
        var nodes = new List<Node>(graph.Nodes);
        foreach (var node in graph.Nodes)
        {
            var inferred = Infer(node, nodes, diagnostics);
            nodes[node.Id] = inferred;
        }
        foreach (var node in nodes)
            if (node.Op == OpKind.LoopIn && nodes[node.CarriedBack].Length is { } back && node.Length is { } start && !back.Equals(start))
                Mismatch(diagnostics, nodes[node.CarriedBack], $"'{node.Name}' enters the layer with {start} elements per token but leaves it with {back}; a value carried between layers keeps its size");
        return graph.WithNodes(nodes);
    }

    private static Node Infer(Node node, List<Node> nodes, List<ModelDiagnostic> diagnostics)
    {
        Node In(int i) => nodes[node.Inputs[i]];
        Dim? Len(int i) => In(i).Length;

        switch (node.Op)
        {
            case OpKind.Input:
            case OpKind.Weight:
                return node;
            case OpKind.LoopIn:
                return node with { Length = nodes[node.CarriedFrom].Length, DType = DType.Float32 };
            case OpKind.Embed:
            {
                var w = Matrix(In(1), diagnostics, "embed");
                if (In(0) is not { Op: OpKind.Input, Name: "input_ids" })
                    Mismatch(diagnostics, node, "The first argument of 'embed' is 'input_ids'");
                return node with { Length = w?[1], DType = DType.Float32 };
            }
            case OpKind.RmsNorm:
            {
                var w = In(1).WeightShape;
                if (w.Count != 1) { Mismatch(diagnostics, In(1), $"A norm weight is a vector, but '{In(1).WeightName}' has {w.Count} dimensions"); return node; }
                if (node.Group is null && Len(0) is { } x && !x.Equals(w[0]))
                    Mismatch(diagnostics, node, $"rms_norm weight '{In(1).WeightName}' has {w[0]} elements but its input '{In(0).Name}' has {x}");
                if (node.Group is { } g && Len(0) is { } xs && xs.TryDivide(g) is null)
                    Mismatch(diagnostics, node, $"head_rms_norm weight '{In(1).WeightName}' has {g} elements, which does not divide the input's {xs}");
                return node with { Length = Len(0), DType = DType.Float32 };
            }
            case OpKind.Add:
            case OpKind.Mul:
            {
                var right = In(1);
                if (right.Op == OpKind.Weight)
                {
                    if (right.WeightShape.Count != 1 || Len(0) is { } l && !l.Equals(right.WeightShape[0]))
                        Mismatch(diagnostics, node, $"Bias '{right.WeightName}' [{string.Join(", ", right.WeightShape)}] does not match '{In(0).Name}' with {Len(0)} elements");
                }
                else if (Len(0) is { } a && Len(1) is { } b && !a.Equals(b))
                    Mismatch(diagnostics, node, $"'{(node.Op == OpKind.Add ? "+" : "*")}' of '{In(0).Name}' ({a} elements) and '{In(1).Name}' ({b} elements): both sides need the same size");
                return node with { Length = Len(0), DType = DType.Float32 };
            }
            case OpKind.Silu:
                return node with { Length = Len(0), DType = DType.Float32 };
            case OpKind.Rope:
            case OpKind.KvStore:
                if (Len(0) is { } r && node.Group is { } hd && r.TryDivide(hd) is null)
                    Mismatch(diagnostics, node, $"'{In(0).Name}' has {r} elements, which is not a whole number of heads of {hd}");
                return node with { Length = Len(0), DType = DType.Float32 };
            case OpKind.Linear:
            case OpKind.LmHead:
            {
                var w = Matrix(In(1), diagnostics, node.Op == OpKind.Linear ? "linear" : "lm_head");
                if (w is { } m && Len(0) is { } x && !x.Equals(m[1]))
                    Mismatch(diagnostics, node, $"'{In(1).WeightName}' [{m[0]}, {m[1]}] takes {m[1]} input features but '{In(0).Name}' has {x}");
                return node with { Length = w?[0], DType = node.Op == OpKind.Linear ? DType.BFloat16 : DType.Float32 };
            }
            case OpKind.Attention:
                if (Len(1) is { } k && Len(2) is { } v && !k.Equals(v))
                    Mismatch(diagnostics, node, $"attention's k has {k} elements per token but v has {v}");
                if (Len(0) is { } q && node.Group is { } d && q.TryDivide(d) is null)
                    Mismatch(diagnostics, node, $"attention's q has {q} elements, which is not a whole number of heads of {d}");
                return node with { Length = Len(0), DType = DType.BFloat16 };
            default:
                return node;
        }
    }

    private static EquatableArray<Dim>? Matrix(Node weight, List<ModelDiagnostic> diagnostics, string op)
    {
        if (weight.WeightShape.Count == 2) return weight.WeightShape;
        Mismatch(diagnostics, weight, $"'{op}' needs a matrix [out_features, in_features], but '{weight.WeightName}' has {weight.WeightShape.Count} dimensions");
        return null;
    }

    private static void Mismatch(List<ModelDiagnostic> diagnostics, Node node, string message) =>
        diagnostics.Add(new ModelDiagnostic(DiagnosticIds.ShapeMismatch, message, node.Span));
}
