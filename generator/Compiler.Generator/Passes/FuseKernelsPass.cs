using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Diagnostics;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Cuts the graph into launches. GEMMs and attention ("anchors") are launches of their own; every run of point-wise
/// and row-local ops between two anchors becomes one generated kernel. Runs are also fused across block boundaries:
/// the ops after a layer's last GEMM (the residual add) are fused with the ops before the next layer's first GEMM
/// (its input norm) -- nano-vllm's <c>fused_add_rms_norm(x, residual)</c>, found by the compiler. So the layer runs
/// from its first GEMM to a boundary kernel; the first layer's inputs come from an entry kernel that also does the
/// embedding lookup, and the last layer's boundary kernel is replaced by an exit kernel that also does the final norm.
/// </summary>
internal sealed class FuseKernelsPass
{
    private enum Instance { Prologue, Current, Next, Epilogue }

    private enum Boundary { None, Entry, Cross, Exit }

    private readonly Graph _graph;
    private readonly System.Collections.Immutable.ImmutableArray<System.Collections.Immutable.ImmutableArray<int>> _consumers;
    private readonly Dictionary<int, int> _valueKey = new();
    private readonly List<KernelSpec> _kernels = new();

    private FuseKernelsPass(Graph graph)
    {
        _graph = graph;
        _consumers = graph.Consumers();
        // A loop-carried value lives in one buffer: the prologue's value, the layer's input and the layer's output.
        foreach (var node in graph.Nodes.Where(n => n.Op == OpKind.LoopIn))
        {
            _valueKey[node.Id] = node.CarriedFrom;
            _valueKey[node.CarriedBack] = node.CarriedFrom;
        }
    }

    private int KeyOf(int id) => _valueKey.TryGetValue(id, out var key) ? key : id;

    public static Schedule? Run(Graph graph, List<ModelDiagnostic> diagnostics) => new FuseKernelsPass(graph).Fuse(diagnostics);

    private abstract record Item;
    private sealed record Group(List<int> Nodes) : Item;
    private sealed record Anchor(int Node) : Item;

    private Schedule? Fuse(List<ModelDiagnostic> diagnostics)
    {
        var prologue = Items(Section.Prologue);
        var layer = Items(Section.Layer);
        var epilogue = Items(Section.Epilogue);
        if (!layer.OfType<Anchor>().Any())
        {
            var first = _graph.Nodes.First(n => n.Section == Section.Layer);
            diagnostics.Add(new ModelDiagnostic(DiagnosticIds.BadStructure, "The layer has no projection or attention, so there is nothing to launch per layer", first.Span));
            return null;
        }

        var prologueTail = TakeLast(prologue);
        var layerHead = TakeFirst(layer);
        var layerTail = TakeLast(layer);
        var epilogueHead = TakeFirst(epilogue);

        var prologueSteps = Steps(prologue, Instance.Prologue, RowSet.AllTokens);
        if (prologueTail is not null || layerHead is not null)
            prologueSteps.Add(KernelStep(Kernel(Boundary.Entry, prologueTail, Instance.Prologue, layerHead, Instance.Current, RowSet.AllTokens)));

        var layerSteps = Steps(layer, Instance.Current, RowSet.AllTokens);
        if (layerTail is not null || layerHead is not null || epilogueHead is not null)
        {
            var cross = Kernel(Boundary.Cross, layerTail, Instance.Current, layerHead, Instance.Next, RowSet.AllTokens);
            var exit = Kernel(Boundary.Exit, layerTail, Instance.Current, epilogueHead, Instance.Epilogue, RowSet.OutputRows);
            layerSteps.Add(KernelStep(cross) with { LastLayerKernel = exit.Name });
        }

        var epilogueSteps = Steps(epilogue, Instance.Epilogue, RowSet.OutputRows);
        return new Schedule(_kernels.ToEquatableArray(), prologueSteps.ToEquatableArray(), layerSteps.ToEquatableArray(), epilogueSteps.ToEquatableArray());
    }

    private static List<int>? TakeFirst(List<Item> items)
    {
        if (items.Count == 0 || items[0] is not Group g) return null;
        items.RemoveAt(0);
        return g.Nodes;
    }

    private static List<int>? TakeLast(List<Item> items)
    {
        if (items.Count == 0 || items[items.Count - 1] is not Group g) return null;
        items.RemoveAt(items.Count - 1);
        return g.Nodes;
    }

    /// <summary>
    /// Orders a section into point-wise groups and anchors by phase: a point-wise op's phase is the number of anchors
    /// on its longest input path, so every op of a phase can run together before that phase's anchors.
    /// </summary>
    private List<Item> Items(Section section)
    {
        var phase = new Dictionary<int, int>();
        int PhaseOf(int id)
        {
            var node = _graph[id];
            if (node.Section != section || node.Op.IsSource()) return 0;
            return phase.TryGetValue(id, out var p) ? p : 0;
        }
        var nodes = _graph.Nodes.Where(n => n.Section == section && !n.Op.IsSource()).ToList();
        foreach (var node in nodes)
            phase[node.Id] = node.Inputs.Select(i => PhaseOf(i) + (_graph[i].Op.IsAnchor() && _graph[i].Section == section ? 1 : 0)).DefaultIfEmpty(0).Max();

        var items = new List<Item>();
        foreach (var p in nodes.Select(n => phase[n.Id]).Distinct().OrderBy(p => p))
        {
            var group = nodes.Where(n => phase[n.Id] == p && !n.Op.IsAnchor()).Select(n => n.Id).ToList();
            if (group.Count > 0) items.Add(new Group(group));
            items.AddRange(nodes.Where(n => phase[n.Id] == p && n.Op.IsAnchor()).Select(n => new Anchor(n.Id)));
        }
        return items;
    }

    private List<StepSpec> Steps(List<Item> items, Instance instance, RowSet rows) =>
        items.Select(item => item switch
        {
            Anchor a => AnchorStep(_graph[a.Node], rows),
            Group g => KernelStep(Kernel(Boundary.None, g.Nodes, instance, null, instance, rows)),
            _ => throw new System.InvalidOperationException(),
        }).ToList();

    private static StepSpec KernelStep(KernelSpec kernel) => new(StepKind.Kernel, kernel.Name, kernel.Rows) { Kernel = kernel.Name };

    private StepSpec AnchorStep(Node node, RowSet rows)
    {
        var input = _graph[node.Inputs[0]];
        if (node.Op == OpKind.Attention)
        {
            var k = _graph[node.Inputs[1]];
            return new StepSpec(StepKind.Attention, "attention", rows)
            {
                Input = KeyOf(input.Id), Output = KeyOf(node.Id), HeadDim = node.Group,
                Heads = input.Length!.TryDivide(node.Group!), KvHeads = k.Length!.TryDivide(node.Group!),
            };
        }
        var weight = _graph[node.Inputs[1]];
        return new StepSpec(StepKind.Gemm, node.Name, rows)
        {
            Input = KeyOf(input.Id), Output = KeyOf(node.Id), Weight = weight.WeightName,
            N = weight.WeightShape[0], K = weight.WeightShape[1],
        };
    }

    // ---- building one fused kernel ---------------------------------------------------------------------------

    private KernelSpec Kernel(Boundary boundary, List<int>? left, Instance leftInstance, List<int>? right, Instance rightInstance, RowSet rows)
    {
        var builder = new KernelBuilder(this, boundary, left ?? new List<int>(), leftInstance, right ?? new List<int>(), rightInstance);
        var (ops, fuses, name) = builder.Build();
        var unique = name;
        for (var i = 2; _kernels.Any(k => k.Name == unique); i++) unique = name + "_" + i;
        var group = SplitGroup(ops);
        var kernel = new KernelSpec(unique, rows, ops.ToEquatableArray(), fuses, group is not null || SplitsColumns(ops)) { SplitGroup = group };
        _kernels.Add(kernel);
        return kernel;
    }

    /// <summary>Whether a kernel is purely element-wise (see <see cref="KernelSpec.SplitsColumns"/>): it has no RMS norm
    /// and no computed value read more than once (such a value would be kept in shared memory for the whole row).</summary>
    private static bool SplitsColumns(List<KernelOp> ops)
    {
        if (ops.Any(o => o.Op is PrimOp.RmsNorm)) return false;
        var uses = ops.SelectMany(o => o.Args).GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
        return !ops.Any(o => o.Result >= 0 && o.Op is not (PrimOp.LoadRow or PrimOp.LoadWeight or PrimOp.Gather)
                             && uses.TryGetValue(o.Result, out var n) && n > 1);
    }

    /// <summary>The group width a kernel's rows split by (see <see cref="KernelSpec.SplitGroup"/>): it has RMS norms, all
    /// per-group of one width, and every loop it runs is a whole number of such groups. Otherwise null.</summary>
    private static Dim? SplitGroup(List<KernelOp> ops)
    {
        var norms = ops.Where(o => o.Op is PrimOp.RmsNorm).ToList();
        if (norms.Count == 0 || norms.Any(n => n.Group!.Equals(n.Length))) return null;
        var group = norms[0].Group!;
        if (norms.Any(n => !n.Group!.Equals(group))) return null;
        return ops.Where(o => o.Result >= 0 || o.Op is PrimOp.StoreRow or PrimOp.StoreKv).All(o => o.Length.TryDivide(group) is not null) ? group : null;
    }

    private sealed class KernelBuilder
    {
        private readonly FuseKernelsPass _pass;
        private readonly Boundary _boundary;
        private readonly List<(int Node, Instance Instance)> _members = new();
        private readonly Dictionary<(int, Instance), int> _locals = new();
        private readonly Dictionary<(int, string), int> _loads = new();
        private readonly List<KernelOp> _ops = new();
        private int _next;

        public KernelBuilder(FuseKernelsPass pass, Boundary boundary, List<int> left, Instance leftInstance, List<int> right, Instance rightInstance)
        {
            _pass = pass;
            _boundary = boundary;
            _members.AddRange(left.Select(n => (n, leftInstance)));
            _members.AddRange(right.Select(n => (n, rightInstance)));
        }

        private Graph Graph => _pass._graph;

        private bool IsMember(int node, Instance instance) => _members.Contains((node, instance));

        public (List<KernelOp> Ops, string Fuses, string Name) Build()
        {
            foreach (var (id, instance) in _members)
            {
                var node = Graph[id];
                var result = Translate(node, instance);
                if (result < 0) continue;
                _locals[(id, instance)] = result;
                if (ExternalUse(id, instance))
                    _ops.Add(new KernelOp(PrimOp.StoreRow, -1, new[] { result }.ToEquatableArray(), node.Length!) { Value = _pass.KeyOf(id), Label = node.Name });
            }
            var fuses = string.Join("; ", _members.Select(m => Describe(Graph[m.Node])));
            var words = new List<string>();
            foreach (var word in _members.Select(m => Word(Graph[m.Node])).Where(w => w.Length > 0))
                if (words.Count == 0 || words[words.Count - 1] != word) words.Add(word);
            return (_ops, fuses, words.Count == 0 ? "kernel" : string.Join("_", words));
        }

        private int Emit(KernelOp op)
        {
            var result = op.Result >= 0 ? _next++ : -1;
            _ops.Add(op with { Result = result });
            return result;
        }

        private int LayerOffset(Instance instance) => instance == Instance.Next ? 1 : 0;

        private int Translate(Node node, Instance instance)
        {
            EquatableArray<int> Args(params int[] ids) => ids.ToEquatableArray();
            int In(int index) => Resolve(node.Inputs[index], instance);
            string WeightOf(int index) => Graph[node.Inputs[index]].WeightName!;

            switch (node.Op)
            {
                case OpKind.Embed:
                    return Emit(new KernelOp(PrimOp.Gather, 0, Args(), node.Length!) { Weight = WeightOf(1), LayerOffset = LayerOffset(instance), Label = node.Name });
                case OpKind.RmsNorm:
                    return Emit(new KernelOp(PrimOp.RmsNorm, 0, Args(In(0)), node.Length!)
                        { Weight = WeightOf(1), LayerOffset = LayerOffset(instance), Epsilon = node.Epsilon, Group = node.Group ?? node.Length, Label = node.Name });
                case OpKind.Add when Graph[node.Inputs[1]].Op == OpKind.Weight:
                    var bias = Emit(new KernelOp(PrimOp.LoadWeight, 0, Args(), node.Length!) { Weight = WeightOf(1), LayerOffset = LayerOffset(instance), Label = Graph[node.Inputs[1]].Name });
                    return Emit(new KernelOp(PrimOp.Add, 0, Args(In(0), bias), node.Length!) { Label = node.Name });
                case OpKind.Add:
                case OpKind.Mul:
                    return Emit(new KernelOp(node.Op == OpKind.Add ? PrimOp.Add : PrimOp.Mul, 0, Args(In(0), In(1)), node.Length!) { Label = node.Name });
                case OpKind.Silu:
                    return Emit(new KernelOp(PrimOp.Silu, 0, Args(In(0)), node.Length!) { Label = node.Name });
                case OpKind.Rope:
                    return Emit(new KernelOp(PrimOp.Rope, 0, Args(In(0)), node.Length!) { Group = node.Group, Label = node.Name });
                case OpKind.Slice:
                    var source = Graph[node.Inputs[0]];
                    return Load(source.Id, node.Offset!, node.Length!, source.Length!, node.Name);
                case OpKind.KvStore:
                    Emit(new KernelOp(PrimOp.StoreKv, -1, Args(In(0)), node.Length!) { Cache = node.Cache, LayerOffset = LayerOffset(instance), Group = node.Group, Label = node.Name });
                    return -1;
                default:
                    throw new System.InvalidOperationException($"{node.Op} cannot be fused");
            }
        }

        private int Load(int node, Dim offset, Dim length, Dim rowLength, string label)
        {
            var key = _pass.KeyOf(node);
            if (_loads.TryGetValue((key, offset.ToString()), out var local)) return local;
            local = Emit(new KernelOp(PrimOp.LoadRow, 0, EquatableArray<int>.Empty, length) { Value = key, Offset = offset, RowLength = rowLength, Label = label });
            _loads[(key, offset.ToString())] = local;
            return local;
        }

        /// <summary>The kernel-local value for input <paramref name="id"/> of a member at <paramref name="instance"/>:
        /// computed in this kernel, or loaded from the buffer another launch wrote.</summary>
        private int Resolve(int id, Instance instance)
        {
            var node = Graph[id];
            if (node.Op == OpKind.LoopIn)
            {
                var (source, sourceInstance) = (_boundary, instance) switch
                {
                    (Boundary.Entry, Instance.Current) => (node.CarriedFrom, Instance.Prologue),
                    (Boundary.Cross, Instance.Next) => (node.CarriedBack, Instance.Current),
                    _ => (id, instance),
                };
                if (_locals.TryGetValue((source, sourceInstance), out var carried)) return carried;
                return Load(id, Dim.Zero, node.Length!, node.Length!, node.Name);
            }
            var owner = node.Section switch
            {
                Section.Prologue => Instance.Prologue,
                Section.Epilogue => Instance.Epilogue,
                _ => instance is Instance.Current or Instance.Next ? instance : Instance.Current,
            };
            if (_locals.TryGetValue((id, owner), out var local)) return local;
            return Load(id, Dim.Zero, node.Length!, node.Length!, node.Name);
        }

        /// <summary>Whether a member's value is read outside this kernel, so it must be written to its buffer.</summary>
        private bool ExternalUse(int id, Instance instance)
        {
            var node = Graph[id];
            foreach (var consumer in _pass._consumers[id])
            {
                var c = Graph[consumer];
                if (c.Op == OpKind.LoopIn)
                {
                    if (_boundary == Boundary.Exit && instance == Instance.Current) continue; // no layer follows the last
                    var nextInstance = (_boundary, instance) switch
                    {
                        (Boundary.Entry, Instance.Prologue) => Instance.Current,
                        (Boundary.Cross, Instance.Current) => Instance.Next,
                        _ => (Instance?)null,
                    };
                    if (nextInstance is null || _pass._consumers[consumer].Any(c2 => !IsMember(c2, nextInstance.Value))) return true;
                    continue;
                }
                if (_boundary == Boundary.Cross && c.Section == Section.Epilogue) continue; // the epilogue follows the exit kernel
                var consumerInstance = c.Section switch
                {
                    Section.Prologue => Instance.Prologue,
                    Section.Epilogue => Instance.Epilogue,
                    _ => node.Section == Section.Layer ? instance : Instance.Current,
                };
                if (!IsMember(consumer, consumerInstance)) return true;
            }
            return false;
        }

        private string Describe(Node node)
        {
            string Arg(int i) => Graph[node.Inputs[i]] is { Op: OpKind.Weight } w ? ShortWeight(w.WeightName!) : Graph[node.Inputs[i]].Name;
            var call = node.Op switch
            {
                OpKind.Add => $"{Arg(0)} + {Arg(1)}",
                OpKind.Mul => $"{Arg(0)} * {Arg(1)}",
                OpKind.Slice => $"{Arg(0)}[{node.Offset} : +{node.Length}]",
                OpKind.KvStore => $"{node.Cache}_cache <- {Arg(0)}",
                _ => $"{LowerPass.OpName(node.Op)}({string.Join(", ", node.Inputs.Select((_, i) => Arg(i)))})",
            };
            return node.Op == OpKind.KvStore ? call : $"{node.Name} = {call}";
        }

        /// <summary>A layer tensor's name inside the layer (the model file's declared prefix dropped), e.g. <c>input_layernorm.weight</c>.</summary>
        private string ShortWeight(string name)
        {
            var prefix = Graph.LayerPrefix + ".";
            return name.StartsWith(prefix, System.StringComparison.Ordinal) ? name.Substring(prefix.Length) : name;
        }

        private string Word(Node node) => node.Op switch
        {
            OpKind.Embed => "embed",
            OpKind.RmsNorm => WeightNames.Module(Graph[node.Inputs[1]].WeightName!),
            OpKind.Add when Graph[node.Inputs[1]].Op == OpKind.Weight => "bias",
            OpKind.Add => "add",
            OpKind.Mul => "mul",
            OpKind.Silu => "silu",
            OpKind.Rope => "rope",
            OpKind.KvStore => "kv_store",
            _ => "",
        };
    }
}
