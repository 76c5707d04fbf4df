using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Finds the layer's residual add + RMS norm kernels that sit between two GEMMs (StepSpec.NormEpilogue): a kernel that
/// adds the previous GEMM's product to an fp32 residual row, stores the sum, and stores the sum's whole-row RMS norm as
/// the next GEMM's input, and does nothing else, where no other launch reads the product or the normed row. Where the
/// runtime's gemm_tiled runs both GEMMs (decode batches of a few to 64 requests), the kernel's work moves into their
/// epilogues and its launch drops out; with other GEMM kernels (the GEMV, which has its own prologue for it, cuBLASLt)
/// the steps run as they are. The layer's last kernel feeds the next layer's first GEMM, so in the last layer (exit
/// kernel) it is not split. (The buffer plan decides the storage types -- the residual fp32, the normed row bf16 -- and
/// the runtime splits only where they are those.)
/// </summary>
internal static class NormEpiloguePass
{
    public static Schedule Run(Graph graph, Schedule schedule)
    {
        var kernels = schedule.Kernels.ToDictionary(k => k.Name);
        var layer = schedule.Layer.ToList();
        for (var j = 1; j < layer.Count; j++)
        {
            var (before, step, after) = (layer[j - 1], layer[j], layer[(j + 1) % layer.Count]);
            if (before.Kind != StepKind.Gemm || step.Kind != StepKind.Kernel || after.Kind != StepKind.Gemm) continue;
            if (Split(graph, kernels[step.Kernel!], before, after) is not { } spec) continue;
            if (GemvProloguePass.ReadByAnotherLaunch(schedule, kernels, before.Output, step) ||
                GemvProloguePass.ReadByAnotherLaunch(schedule, kernels, spec.Normed, after)) continue;
            layer[j] = step with { NormEpilogue = spec };
        }
        return schedule with { Layer = layer.ToEquatableArray() };
    }

    /// <summary>The split of <paramref name="kernel"/> when it is exactly residual + <paramref name="before"/>'s product,
    /// stored, and its RMS norm stored as <paramref name="after"/>'s input; null otherwise.</summary>
    private static NormEpilogueSpec? Split(Graph graph, KernelSpec kernel, StepSpec before, StepSpec after)
    {
        if (kernel.Rows != RowSet.AllTokens || kernel.Ops.Count != 6) return null;
        var ops = kernel.Ops.Where(o => o.Result >= 0).ToDictionary(o => o.Result);
        var stores = kernel.Ops.Where(o => o.Op == PrimOp.StoreRow).ToList();
        var norm = kernel.Ops.SingleOrDefault(o => o.Op == PrimOp.RmsNorm);
        if (stores.Count != 2 || norm is null || !norm.Group!.Equals(norm.Length) || !ops.TryGetValue(norm.Args[0], out var add) || add.Op != PrimOp.Add) return null;
        var sumStore = stores.SingleOrDefault(s => s.Args[0] == add.Result);
        var normStore = stores.SingleOrDefault(s => s.Args[0] == norm.Result);
        if (sumStore is null || normStore is null || normStore.Value != after.Input || !normStore.Length.Equals(after.K!)) return null;
        bool Row(KernelOp? load) => load is { Op: PrimOp.LoadRow } && (load.Offset ?? Dim.Zero).Equals(Dim.Zero) && load.Length.Equals(before.N!) && load.RowLength!.Equals(before.N!);
        var loads = add.Args.Select(a => ops.TryGetValue(a, out var o) ? o : null).ToList();
        var product = loads.SingleOrDefault(l => l?.Value == before.Output);
        var residual = loads.SingleOrDefault(l => l is not null && l.Value != before.Output);
        if (!Row(product) || !Row(residual) || !add.Length.Equals(before.N!) || graph[before.Output].DType != DType.BFloat16) return null;
        return new NormEpilogueSpec(residual!.Value, sumStore.Value, norm.Weight!, norm.LayerOffset, norm.Epsilon!, normStore.Value);
    }
}
