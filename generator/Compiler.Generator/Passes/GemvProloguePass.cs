using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Finds the layer's kernels that can run inside the decode GEMV of the GEMM after them (GemvPrologueSpec). At decode
/// batch 1 every launch is a dependent step of a ~250-launch chain, and the residual add + RMS norm kernels between
/// the GEMMs do next to no work: each GEMV block can repeat the norm of the rows it reads instead. A kernel
/// qualifies when it works on whole token rows (row loads, weights, add, mul, SiLU, whole-row RMS norms, row stores),
/// contains a norm, and stores the GEMM's whole input row, which nothing else reads. Element-wise kernels
/// (SiLU-mul before down_proj) stay on their own: every block would redo the whole row (two rows of the intermediate
/// size per block), and skipping that launch altogether took ~0.01 ms off a Qwen3-0.6B batch-1 step (H100).
/// The layer's last kernel feeds the next layer's first GEMM, so in the last layer (exit kernel) it is not fused.
/// </summary>
internal static class GemvProloguePass
{
    public static Schedule Run(Graph graph, Schedule schedule)
    {
        var kernels = schedule.Kernels.ToDictionary(k => k.Name);
        var layer = schedule.Layer.ToList();
        var prologues = new List<GemvPrologueSpec>();
        for (var j = 0; j < layer.Count; j++)
        {
            var step = layer[j];
            var gemm = layer[(j + 1) % layer.Count];
            if (step.Kind != StepKind.Kernel || gemm.Kind != StepKind.Gemm) continue;
            var kernel = kernels[step.Kernel!];
            if (!Qualifies(kernel, gemm) || graph[gemm.Output].DType != DType.BFloat16 || ReadByAnotherLaunch(schedule, kernels, gemm.Input, gemm)) continue;
            var spec = new GemvPrologueSpec(kernel.Name + "_gemv", kernel.Name, gemm.Input, gemm.Output, gemm.K!);
            prologues.Add(spec);
            layer[j] = step with { GemvPrologue = spec.Name };
        }
        return schedule with { Layer = layer.ToEquatableArray(), GemvPrologues = prologues.ToEquatableArray() };
    }

    private static bool Qualifies(KernelSpec kernel, StepSpec gemm) =>
        kernel.Rows == RowSet.AllTokens &&
        kernel.Ops.All(o => o.Op is PrimOp.LoadRow or PrimOp.LoadWeight or PrimOp.Add or PrimOp.Mul or PrimOp.Silu or PrimOp.StoreRow ||
                            o.Op == PrimOp.RmsNorm && o.Group!.Equals(o.Length)) &&
        kernel.Ops.Any(o => o.Op == PrimOp.RmsNorm) &&
        kernel.Ops.Any(o => o.Op == PrimOp.StoreRow && o.Value == gemm.Input && o.Length.Equals(gemm.K!));

    /// <summary>Whether a launch other than <paramref name="consumer"/> reads <paramref name="value"/> (then it must reach
    /// global memory).</summary>
    internal static bool ReadByAnotherLaunch(Schedule schedule, Dictionary<string, KernelSpec> kernels, int value, StepSpec consumer)
    {
        foreach (var step in schedule.Prologue.Concat(schedule.Layer).Concat(schedule.Epilogue))
        {
            if (step == consumer) continue;
            if (step.Kind != StepKind.Kernel) { if (step.Input == value) return true; continue; }
            foreach (var name in new[] { step.Kernel, step.LastLayerKernel })
                if (name is not null && kernels[name].Ops.Any(o => o.Op == PrimOp.LoadRow && o.Value == value)) return true;
        }
        return false;
    }
}
