using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Finds the gated MLP's GEMM whose product only feeds the SiLU gate after it: a kernel that loads both halves of each
/// row of the GEMM's output, stores silu(first half) * second half, and does nothing else, where no other launch reads
/// the product. The GEMM step records the gate's output (StepSpec.SiluGate): the runtime's gemm_tiled and bulk GEMV
/// apply the gate in their epilogue and write that output themselves, so the gate kernel's launch and the full
/// product's trip through memory drop out; with any other GEMM kernel the two steps run as they are.
/// </summary>
internal static class SiluGatePass
{
    public static Schedule Run(Graph graph, Schedule schedule)
    {
        var kernels = schedule.Kernels.ToDictionary(k => k.Name);
        var layer = schedule.Layer.ToList();
        for (var j = 0; j + 1 < layer.Count; j++)
        {
            var (gemm, step) = (layer[j], layer[j + 1]);
            if (gemm.Kind != StepKind.Gemm || step.Kind != StepKind.Kernel || step.LastLayerKernel is not null) continue;
            if (graph[gemm.Output].DType != DType.BFloat16 || GemvProloguePass.ReadByAnotherLaunch(schedule, kernels, gemm.Output, step)) continue;
            if (GateOutput(kernels[step.Kernel!], gemm) is { } output) layer[j] = gemm with { SiluGate = output };
        }
        return schedule with { Layer = layer.ToEquatableArray() };
    }

    /// <summary>The value <paramref name="kernel"/> stores when it is exactly the SiLU gate of <paramref name="gemm"/>'s
    /// product (silu of columns [0, N/2) times columns [N/2, N) of each token row); null otherwise.</summary>
    private static int? GateOutput(KernelSpec kernel, StepSpec gemm)
    {
        if (kernel.Rows != RowSet.AllTokens || kernel.Ops.Count != 5) return null;
        var ops = kernel.Ops.Where(o => o.Result >= 0).ToDictionary(o => o.Result);
        var store = kernel.Ops.SingleOrDefault(o => o.Op == PrimOp.StoreRow);
        if (store is null || !ops.TryGetValue(store.Args[0], out var mul) || mul.Op != PrimOp.Mul) return null;
        if (!ops.TryGetValue(mul.Args[0], out var silu) || silu.Op != PrimOp.Silu) return null;
        if (!ops.TryGetValue(silu.Args[0], out var gate) || !ops.TryGetValue(mul.Args[1], out var up)) return null;
        var half = store.Length;
        bool Half(KernelOp load, Dim offset) =>
            load.Op == PrimOp.LoadRow && load.Value == gemm.Output && load.Length.Equals(half) &&
            (load.Offset ?? Dim.Zero).Equals(offset) && load.RowLength!.Equals(gemm.N!);
        return Half(gate, Dim.Zero) && Half(up, half) && gemm.N!.Equals(half + half) ? store.Value : null;
    }
}
