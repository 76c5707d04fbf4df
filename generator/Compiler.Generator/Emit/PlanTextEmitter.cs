using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Emit;

/// <summary>A readable listing of a compiled model: launches per step, what each kernel fuses, buffers, merged weights.
/// It is embedded in the generated class (ModelPlan.Description), printed by the CLI's 'plan' command and snapshot-tested.</summary>
internal static class PlanTextEmitter
{
    public static string Render(CompiledModel model)
    {
        var (graph, schedule, buffers) = (model.Graph, model.Schedule, model.Buffers);
        var kernels = schedule.Kernels.ToDictionary(k => k.Name);
        var w = new SourceWriter();
        var layers = graph.Constants.First(c => c.Symbol == graph.LayerCount).Name;
        var total = $"{schedule.Prologue.Count} + {layers} x {schedule.Layer.Count} + {schedule.Epilogue.Count}";
        w.Line($"{graph.ModelName}: {schedule.Layer.Count} launches per layer, {total} per forward step (extend and decode alike)");
        w.Line();
        Section(w, "prologue", schedule.Prologue);
        Section(w, $"layer (x {layers}, tensors {graph.LayerPrefix}.*)", schedule.Layer);
        Section(w, "epilogue", schedule.Epilogue);

        w.Line("kernels:");
        foreach (var kernel in schedule.Kernels)
        {
            w.Line($"  {kernel.Name} [{Rows(kernel.Rows)}]: {kernel.Fuses}");
            var stores = kernel.Ops.Where(o => o.Op is PrimOp.StoreRow).Select(o => $"{buffers.Of(o.Value).Name} ({Type(buffers.Of(o.Value).DType)})")
                .Concat(kernel.Ops.Where(o => o.Op == PrimOp.StoreKv).Select(o => $"{o.Cache}_cache"));
            var loads = kernel.Ops.Where(o => o.Op == PrimOp.LoadRow).Select(o => buffers.Of(o.Value).Name).Distinct();
            w.Line($"    reads {string.Join(", ", loads.DefaultIfEmpty("-"))}; writes {string.Join(", ", stores.DefaultIfEmpty("-"))}");
        }
        if (schedule.GemvPrologues.Count > 0)
        {
            w.Line();
            w.Line("decode GEMV prologues (a kernel run inside the next GEMM's GEMV, when the GEMV serves the batch):");
            foreach (var g in schedule.GemvPrologues)
                w.Line($"  {g.Name}: {g.Kernel}, then {buffers.Of(g.Output).Name} = {buffers.Of(g.Input).Name} (in shared memory) @ W^T");
        }
        if (schedule.AttentionPrologues.Count > 0)
        {
            w.Line();
            w.Line("decode attention prologues (a kernel run inside the decode attention after it, per kv head):");
            foreach (var a in schedule.AttentionPrologues)
                w.Line($"  {a.Name}: {a.Kernel}, {buffers.Of(a.Input).Name} in shared memory, then decode attention");
        }
        w.Line();
        w.Line($"buffers ({buffers.SlotCount} slots, rows = tokens):");
        foreach (var slot in buffers.Values.GroupBy(v => v.Slot).OrderBy(g => g.Key))
            w.Line($"  slot {slot.Key}: " + string.Join(", ", slot.Select(v => $"{v.Name} [{v.Length}] {Type(v.DType)}")));
        var merged = graph.Nodes.Where(n => n.MergedFrom.Count > 0).ToList();
        if (merged.Count > 0)
        {
            w.Line();
            w.Line("merged weights (concatenated along dim 0 at load):");
            foreach (var m in merged) w.Line($"  {m.WeightName} = cat({string.Join(", ", m.MergedFrom)})");
        }
        return w.ToString();

        void Section(SourceWriter writer, string title, EquatableArray<StepSpec> steps)
        {
            writer.Line(title + ":");
            foreach (var step in steps) writer.Line("  " + Describe(step));
            writer.Line();
        }

        string Describe(StepSpec step) => step.Kind switch
        {
            StepKind.Kernel => $"kernel {step.Kernel}" + (step.LastLayerKernel is { } last ? $" (last layer: {last})" : "") + $" [{Rows(step.Rows)}]" +
                (step.GemvPrologue is { } gemv ? $" (decode GEMV: {gemv})" : "") +
                (step.AttentionPrologue is { } attention ? $" (decode attention: {attention})" : "") +
                (step.NormEpilogue is { } norm ? $" (decode: split over the GEMMs' epilogues, {buffers.Of(norm.ResidualOut).Name} and {buffers.Of(norm.Normed).Name} = {buffers.Of(norm.ResidualOut).Name} * {norm.Weight} with row sums of squares, then rows scaled)" : ""),
            StepKind.Gemm => $"gemm {step.Name}: {buffers.Of(step.Output).Name}[{step.N}] = {buffers.Of(step.Input).Name}[{step.K}] @ {step.Weight}^T [{Rows(step.Rows)}]" +
                (step.SiluGate >= 0 ? $" (SiLU gate in the epilogue: {buffers.Of(step.SiluGate).Name})" : ""),
            _ => $"attention: {buffers.Of(step.Output).Name} = attention({buffers.Of(step.Input).Name}, k_cache, v_cache) heads {step.Heads}, kv heads {step.KvHeads}, head dim {step.HeadDim} (extend or decode kernel)",
        };
    }

    private static string Rows(RowSet rows) => rows == RowSet.AllTokens ? "all tokens" : "output rows";

    private static string Type(DType t) => t switch { DType.BFloat16 => "bf16", DType.Float32 => "f32", _ => "i32" };
}
