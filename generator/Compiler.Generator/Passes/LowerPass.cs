using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using Compiler.Generator.Diagnostics;
using Compiler.Generator.Ir;
using Compiler.Generator.Syntax;

namespace Compiler.Generator.Passes;

/// <summary>
/// Gives the parsed file its meaning: resolves names (values, config constants, checkpoint tensors), checks calls
/// against the op table, detects cycles, and builds the graph in topological order. Values assigned in the
/// embedding block and re-assigned in the layer block become loop-carried (<see cref="OpKind.LoopIn"/>).
/// </summary>
internal sealed class LowerPass
{
    private readonly ModelSyntax _model;
    private readonly List<ModelDiagnostic> _diagnostics;
    private readonly List<Node> _nodes = new();
    private readonly Dictionary<string, ConfigConstant> _constants = new();
    private readonly Dictionary<string, int> _inputs = new();
    private Section _section;
    private string _prefix = "";

    private LowerPass(ModelSyntax model, List<ModelDiagnostic> diagnostics) { _model = model; _diagnostics = diagnostics; }

    public static Graph? Run(ModelSyntax model, List<ModelDiagnostic> diagnostics) => new LowerPass(model, diagnostics).Lower();

    private sealed class LowerError : System.Exception { }

    private LowerError Report(string id, string message, SourceSpan span)
    {
        _diagnostics.Add(new ModelDiagnostic(id, message, span));
        return new LowerError();
    }

    private Graph? Lower()
    {
        var errorsBefore = _diagnostics.Count;
        foreach (var entry in _model.Config) LowerConstant(entry);

        var embedding = SingleBlock(BlockKind.Embedding);
        var layer = SingleBlock(BlockKind.Layer);
        var head = SingleBlock(BlockKind.Head);
        if (embedding is null || layer is null || head is null) return null;

        if (!head.Statements.Any(s => s.Value is CallSyntax { Function: "lm_head" }))
            Report(DiagnosticIds.MissingLmHead, "The head block has no 'lm_head(...)': add e.g. 'logits = lm_head(x, lm_head.weight[vocab, hidden])'", head.Span);
        if (layer.RepeatSymbol is { } count && (!_constants.TryGetValue(count, out var c) || c.Kind != ConstantKind.Int))
            Report(DiagnosticIds.UndefinedName, $"The layer count '{count}' is not an integer constant of the config block" +
                Suggest.DidYouMean(count, _constants.Keys), layer.RepeatSpan);

        _section = Section.Prologue;
        var prologueEnv = LowerBlock(embedding, new Dictionary<string, int>());

        // Names the embedding block defines and the layer re-assigns are carried from layer to layer.
        _section = Section.Layer;
        _prefix = layer.Prefix + ".";
        var layerEnv = new Dictionary<string, int>(prologueEnv);
        var carried = new List<int>();
        foreach (var name in layer.Statements.Select(s => s.Target).Distinct().Where(prologueEnv.ContainsKey).OrderBy(n => n, System.StringComparer.Ordinal))
        {
            var loopIn = Add(new Node(0, OpKind.LoopIn, EquatableArray<int>.Empty, Section.Layer, layer.Span)
                { Name = name, CarriedFrom = prologueEnv[name] });
            layerEnv[name] = loopIn;
            carried.Add(loopIn);
        }
        var layerOut = LowerBlock(layer, layerEnv);
        foreach (var loopIn in carried)
            _nodes[loopIn] = _nodes[loopIn] with { CarriedBack = layerOut[_nodes[loopIn].Name] };

        _section = Section.Epilogue;
        _prefix = "";
        LowerBlock(head, new Dictionary<string, int>(layerOut));

        if (_diagnostics.Count > errorsBefore) return null;
        return new Graph(_model.Name, _nodes.ToEquatableArray(),
            _constants.Values.OrderBy(k => k.Symbol, System.StringComparer.Ordinal).ToEquatableArray(), layer.Prefix, layer.RepeatSymbol!);
    }

    private BlockSyntax? SingleBlock(BlockKind kind)
    {
        var blocks = _model.Blocks.Where(b => b.Kind == kind).ToList();
        var word = kind.ToString().ToLowerInvariant();
        if (blocks.Count == 1) return blocks[0];
        if (blocks.Count == 0)
        {
            var (id, hint) = kind == BlockKind.Head
                ? (DiagnosticIds.MissingLmHead, "add 'head { x = rms_norm(...)  logits = lm_head(x, lm_head.weight[vocab, hidden]) }'")
                : (DiagnosticIds.BadStructure, $"add a '{word}' block");
            Report(id, $"Model '{_model.Name}' has no '{word}' block: {hint}", _model.NameSpan);
        }
        else Report(DiagnosticIds.BadStructure, $"Model '{_model.Name}' has {blocks.Count} '{word}' blocks; it needs exactly one", blocks[1].Span);
        return null;
    }

    // ---- config constants -------------------------------------------------------------------------------------

    private void LowerConstant(ConfigEntrySyntax entry)
    {
        try
        {
            if (_constants.ContainsKey(entry.Symbol))
                throw Report(DiagnosticIds.BadStructure, $"Constant '{entry.Symbol}' is defined twice", entry.SymbolSpan);
            var (code, kind) = ConfigExpression(entry.Value);
            _constants[entry.Symbol] = new ConfigConstant(entry.Symbol, entry.Symbol.ToUpperInvariant(), kind, code, Render(entry.Value));
        }
        catch (LowerError) { }
    }

    private (string Code, ConstantKind Kind) ConfigExpression(ExprSyntax expr)
    {
        switch (expr)
        {
            case NameSyntax { Name: "true" or "false" } b:
                return (b.Name, ConstantKind.Bool);
            case NameSyntax n:
                return (Read(n, null), KeyKind(n));
            case NumberSyntax num:
                return Number(num);
            case BinarySyntax { Operator: "??", Left: NameSyntax key } b:
                var (fallback, _) = ConfigExpression(b.Right);
                return (Read(key, fallback), KeyKind(key));
            case BinarySyntax b when b.Operator != "??":
                var (l, lk) = ConfigExpression(b.Left);
                var (r, rk) = ConfigExpression(b.Right);
                var kind = lk == ConstantKind.Float || rk == ConstantKind.Float ? ConstantKind.Float : lk;
                // Integer constants divide as integers, as Python's '//' in the modeling files.
                return (kind == ConstantKind.Int && b.Operator == "/" ? $"System.Math.Floor({l} / {r})" : $"({l} {b.Operator} {r})", kind);
            default:
                throw Report(DiagnosticIds.Syntax, "A config value is a config.json key, a number, or 'key ?? default'", expr.Span);
        }
    }

    private ConstantKind KeyKind(NameSyntax key) =>
        ConfigKeys.Known.TryGetValue(key.Name, out var kind) ? kind
            : throw Report(DiagnosticIds.UnknownConfigKey, $"'{key.Name}' is not a config.json key the model compiler knows" +
                Suggest.DidYouMean(key.Name, ConfigKeys.Known.Keys) + " (known keys are listed in ConfigKeys.cs)", key.Span);

    private string Read(NameSyntax key, string? fallback)
    {
        var method = KeyKind(key) switch { ConstantKind.Int => "Int", ConstantKind.Float => "Float", _ => "Bool" };
        return fallback is null ? $"ConfigReader.{method}(config, \"{key.Name}\")" : $"ConfigReader.{method}Or(config, \"{key.Name}\", {fallback})";
    }

    /// <summary>A literal is an integer when it is all digits, else a float in C# round-trip form (<c>1E-6</c> ->
    /// <c>1E-06d</c>); anything else the lexer took for a number (<c>1x6</c>) is an error here rather than broken C#.</summary>
    private (string Code, ConstantKind Kind) Number(NumberSyntax num)
    {
        if (long.TryParse(num.Text, NumberStyles.None, CultureInfo.InvariantCulture, out _)) return (num.Text, ConstantKind.Int);
        if (double.TryParse(num.Text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value) && !double.IsInfinity(value))
            return (value.ToString("R", CultureInfo.InvariantCulture) + "d", ConstantKind.Float);
        throw Report(DiagnosticIds.Syntax, $"'{num.Text}' is not a number: write an integer (32) or a float (0.5, 1e-6)", num.Span);
    }

    private static string Render(ExprSyntax expr) => expr switch
    {
        NameSyntax n => n.Name,
        NumberSyntax n => n.Text,
        BinarySyntax b => $"{Render(b.Left)} {b.Operator} {Render(b.Right)}",
        _ => "?",
    };

    // ---- blocks and statements --------------------------------------------------------------------------------

    private Dictionary<string, int> LowerBlock(BlockSyntax block, Dictionary<string, int> env)
    {
        for (var i = 0; i < block.Statements.Count; i++)
        {
            var statement = block.Statements[i];
            try
            {
                CheckForwardReferences(block, i);
                var id = LowerValue(statement.Value, env);
                if (!_nodes[id].Op.IsSource()) _nodes[id] = _nodes[id] with { Name = statement.Target };
                env[statement.Target] = id;
            }
            catch (LowerError) { }
        }
        return env;
    }

    /// <summary>A statement that reads a name only assigned later is either a cycle (the later assignment needs this
    /// statement) or a use before definition; both are reported with the chain of names.</summary>
    private void CheckForwardReferences(BlockSyntax block, int index)
    {
        var statements = block.Statements;
        foreach (var name in NamesIn(statements[index].Value))
        {
            if (statements.Take(index).Any(s => s.Target == name.Name) || IsKnownOutside(name.Name, block)) continue;
            var later = Enumerable.Range(index + 1, statements.Count - index - 1).FirstOrDefault(k => statements[k].Target == name.Name);
            if (later == 0) continue; // not assigned anywhere: reported as undefined when lowered
            var chain = DependencyChain(block, later, index, new HashSet<int>());
            if (chain is not null)
                throw Report(DiagnosticIds.Cycle, $"'{statements[index].Target}' depends on itself: {statements[index].Target} -> {string.Join(" -> ", chain)}; " +
                    "a value cannot be computed from its own result", statements[index].TargetSpan);
            throw Report(DiagnosticIds.UndefinedName, $"'{name.Name}' is used before it is defined (line {statements[later].TargetSpan.Line + 1}); move this statement after it", name.Span);
        }
    }

    /// <summary>The names on a path from statement <paramref name="from"/> back to statement <paramref name="target"/>, if any.
    /// A name in a statement means its latest assignment before that statement, or else its first one after.</summary>
    private List<string>? DependencyChain(BlockSyntax block, int from, int target, HashSet<int> seen)
    {
        var statements = block.Statements;
        if (!seen.Add(from)) return null;
        foreach (var name in NamesIn(statements[from].Value))
        {
            var before = Enumerable.Range(0, from).Where(k => statements[k].Target == name.Name).DefaultIfEmpty(-1).Last();
            if (before < 0 && IsKnownOutside(name.Name, block)) continue;
            var source = before >= 0 ? before : Enumerable.Range(from + 1, statements.Count - from - 1).Where(k => statements[k].Target == name.Name).DefaultIfEmpty(-1).First();
            if (source < 0) continue;
            if (source == target) return new List<string> { statements[from].Target, statements[target].Target };
            if (DependencyChain(block, source, target, seen) is { } rest) { rest.Insert(0, statements[from].Target); return rest; }
        }
        return null;
    }

    private bool IsKnownOutside(string name, BlockSyntax block) =>
        name is "input_ids" or "positions" || _constants.ContainsKey(name) ||
        block.Kind != BlockKind.Embedding && _model.Blocks.Any(b => b.Kind == BlockKind.Embedding && b.Statements.Any(s => s.Target == name));

    private static IEnumerable<NameSyntax> NamesIn(ExprSyntax expr) => expr switch
    {
        NameSyntax n => new[] { n },
        BinarySyntax b => NamesIn(b.Left).Concat(NamesIn(b.Right)),
        CallSyntax c => c.Arguments.SelectMany(NamesIn),
        _ => Enumerable.Empty<NameSyntax>(),
    };

    private int LowerValue(ExprSyntax expr, Dictionary<string, int> env)
    {
        switch (expr)
        {
            case NameSyntax n:
                return Resolve(n, env);
            case BinarySyntax { Operator: "+" or "*" } b:
                var left = LowerValue(b.Left, env);
                var right = LowerValue(b.Right, env);
                return Add(new Node(0, b.Operator == "+" ? OpKind.Add : OpKind.Mul, Ids(left, right), _section, b.Span));
            case BinarySyntax b:
                throw Report(DiagnosticIds.UnknownOp, $"Operator '{b.Operator}' is not defined on tensors; use '+' or '*'", b.Span);
            case CallSyntax call:
                return LowerCall(call, env);
            case WeightSyntax w:
                return LowerWeight(w);
            default:
                throw Report(DiagnosticIds.WrongArguments, "A number cannot be used as a tensor", expr.Span);
        }
    }

    private int Resolve(NameSyntax n, Dictionary<string, int> env)
    {
        if (env.TryGetValue(n.Name, out var id)) return id;
        if (n.Name is "input_ids" or "positions")
        {
            if (!_inputs.TryGetValue(n.Name, out id))
                _inputs[n.Name] = id = Add(new Node(0, OpKind.Input, EquatableArray<int>.Empty, Section.Prologue, n.Span) { Name = n.Name, DType = DType.Int32 });
            return id;
        }
        if (_constants.ContainsKey(n.Name))
            throw Report(DiagnosticIds.WrongArguments, $"'{n.Name}' is a config constant, not a tensor", n.Span);
        throw Report(DiagnosticIds.UndefinedName, $"Undefined tensor '{n.Name}'" +
            Suggest.DidYouMean(n.Name, env.Keys.Concat(new[] { "input_ids", "positions" })), n.Span);
    }

    private int LowerCall(CallSyntax call, Dictionary<string, int> env)
    {
        if (!Ops.All.TryGetValue(call.Function, out var signature))
            throw Report(DiagnosticIds.UnknownOp, $"Unknown operation '{call.Function}'" + Suggest.DidYouMean(call.Function, Ops.All.Keys) +
                $" (operations: {string.Join(", ", Ops.All.Keys.OrderBy(k => k, System.StringComparer.Ordinal))})", call.FunctionSpan);
        var args = call.Arguments;
        var required = signature.Parameters.Length - signature.Optional;
        if (args.Count < required || args.Count > signature.Parameters.Length)
            throw Report(DiagnosticIds.WrongArguments, $"'{call.Function}' takes {(signature.Optional > 0 ? $"{required} or {signature.Parameters.Length}" : required.ToString(CultureInfo.InvariantCulture))} " +
                $"arguments ({string.Join(", ", signature.Parameters)}), not {args.Count}: e.g. {signature.Help}", call.Span);

        switch (call.Function)
        {
            case "embed":
                return Add(new Node(0, OpKind.Embed, Ids(Value(args[0]), Tensor(args[1])), _section, call.Span));
            case "rms_norm":
            case "head_rms_norm":
                var weight = Tensor(args[1]);
                var norm = new Node(0, OpKind.RmsNorm, Ids(Value(args[0]), weight), _section, call.Span)
                    { Epsilon = ConstantName(args[2], ConstantKind.Float) };
                if (call.Function == "head_rms_norm") norm = norm with { Group = _nodes[weight].WeightShape.Count == 1 ? _nodes[weight].WeightShape[0] : null };
                return Add(norm);
            case "linear":
                var projection = Tensor(args[1]);
                var linear = Add(new Node(0, OpKind.Linear, Ids(Value(args[0]), projection), _section, call.Span) { Name = WeightNames.Module(_nodes[projection].WeightName!) });
                // A bias is a point-wise add after the GEMM, so it fuses into the next kernel.
                return args.Count == 3 ? Add(new Node(0, OpKind.Add, Ids(linear, Tensor(args[2])), _section, args[2].Span)) : linear;
            case "rope":
                var position = Value(args[1]);
                if (_nodes[position] is not { Op: OpKind.Input, Name: "positions" })
                    throw Report(DiagnosticIds.WrongArguments, "The second argument of 'rope' is 'positions'", args[1].Span);
                return Add(new Node(0, OpKind.Rope, Ids(Value(args[0]), position), _section, call.Span) { Group = DimOf(args[2]) });
            case "attention":
                var headDim = DimOf(args[3]);
                var k = Add(new Node(0, OpKind.KvStore, Ids(Value(args[1])), _section, args[1].Span) { Cache = "k", Group = headDim });
                var v = Add(new Node(0, OpKind.KvStore, Ids(Value(args[2])), _section, args[2].Span) { Cache = "v", Group = headDim });
                return Add(new Node(0, OpKind.Attention, Ids(Value(args[0]), k, v), _section, call.Span) { Group = headDim });
            case "silu":
                return Add(new Node(0, OpKind.Silu, Ids(Value(args[0])), _section, call.Span));
            case "lm_head":
                if (_section != Section.Epilogue)
                    throw Report(DiagnosticIds.BadStructure, "'lm_head' belongs in the head block", call.Span);
                return Add(new Node(0, OpKind.LmHead, Ids(Value(args[0]), Tensor(args[1])), _section, call.Span) { DType = DType.Float32 });
            default:
                throw Report(DiagnosticIds.UnknownOp, $"Operation '{call.Function}' has no lowering", call.FunctionSpan);
        }

        int Value(ExprSyntax arg)
        {
            var id = LowerValue(arg, env);
            if (_nodes[id].Op == OpKind.Weight)
                throw Report(DiagnosticIds.WrongArguments, $"'{call.Function}' expects an activation here, not the checkpoint tensor '{_nodes[id].WeightName}'", arg.Span);
            return id;
        }

        int Tensor(ExprSyntax arg) => arg is WeightSyntax w ? LowerWeight(w)
            : throw Report(DiagnosticIds.WrongArguments, $"'{call.Function}' expects a checkpoint tensor with its shape here, e.g. {signature.Help}", arg.Span);
    }

    private int LowerWeight(WeightSyntax w)
    {
        if (!w.Name.EndsWith(".weight", System.StringComparison.Ordinal) && !w.Name.EndsWith(".bias", System.StringComparison.Ordinal))
            throw Report(DiagnosticIds.UndefinedName, $"Checkpoint tensor '{w.Name}' should end in '.weight' or '.bias'", w.Span);
        var shape = w.Shape.Select(DimOf).ToEquatableArray();
        if (w.TiedIf is { } flag && (!_constants.TryGetValue(flag, out var c) || c.Kind != ConstantKind.Bool))
            throw Report(DiagnosticIds.UndefinedName, $"'{flag}' is not a boolean constant of the config block" + Suggest.DidYouMean(flag, _constants.Keys), w.Span);
        var name = _prefix + w.Name;
        var existing = _nodes.FirstOrDefault(n => n.Op == OpKind.Weight && n.WeightName == name);
        if (existing is not null)
        {
            if (!existing.WeightShape.Equals(shape))
                throw Report(DiagnosticIds.ShapeMismatch, $"Tensor '{name}' is declared as [{string.Join(", ", existing.WeightShape)}] and as [{string.Join(", ", shape)}]", w.Span);
            return existing.Id;
        }
        return Add(new Node(0, OpKind.Weight, EquatableArray<int>.Empty, _section, w.Span)
            { Name = w.Name, WeightName = name, WeightShape = shape, TiedTo = w.TiedTo, TiedIf = w.TiedIf is null ? null : _constants[w.TiedIf].Name, DType = DType.BFloat16 });
    }

    /// <summary>A dimension expression over integer config constants.</summary>
    private Dim DimOf(ExprSyntax expr)
    {
        switch (expr)
        {
            case NumberSyntax n when long.TryParse(n.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var value):
                return Dim.Constant(value);
            case NameSyntax n:
                if (_constants.TryGetValue(n.Name, out var c) && c.Kind == ConstantKind.Int) return Dim.Symbol(c.Name);
                throw Report(DiagnosticIds.UndefinedName, $"'{n.Name}' is not an integer constant of the config block" + Suggest.DidYouMean(n.Name, _constants.Keys), n.Span);
            case BinarySyntax { Operator: "*" } b:
                return DimOf(b.Left) * DimOf(b.Right);
            case BinarySyntax { Operator: "+" } b:
                return DimOf(b.Left) + DimOf(b.Right);
            default:
                throw Report(DiagnosticIds.Syntax, "A dimension is a product or sum of integer constants, e.g. 'heads * head_dim'", expr.Span);
        }
    }

    private string ConstantName(ExprSyntax expr, ConstantKind kind) =>
        expr is NameSyntax n && _constants.TryGetValue(n.Name, out var c) && c.Kind == kind ? c.Name
            : throw Report(DiagnosticIds.WrongArguments, $"Expected a {kind.ToString().ToLowerInvariant()} constant of the config block here (e.g. 'eps')", expr.Span);

    internal static string OpName(OpKind op) => op switch
    {
        OpKind.RmsNorm => "rms_norm",
        OpKind.KvStore => "kv_store",
        OpKind.LmHead => "lm_head",
        _ => op.ToString().ToLowerInvariant(),
    };

    private static EquatableArray<int> Ids(params int[] ids) => ids.ToEquatableArray();

    private int Add(Node node)
    {
        var id = _nodes.Count;
        // A value inside an expression (e.g. 'silu(g) * u') is named after its op until a statement names it.
        if (node.Name.Length == 0) node = node with { Name = OpName(node.Op) };
        _nodes.Add(node with { Id = id });
        return id;
    }
}
