using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Finds the layer's kernel that can run inside the decode attention after it (AttentionPrologueSpec): the kernel that
/// turns the QKV projection into roped (and normed) q heads and stores the new token's K/V. At decode it does a few
/// hundred bytes of work per request and head, yet costs a launch and a dependent step of the chain; inside attention,
/// each CTA computes the q heads it attends with and the K/V of its own kv head. A kernel qualifies when it works on
/// token rows; its ops are row loads, weights (biases), add, mul, and RMS norms and RoPE over heads of the attention's
/// head dim; every value is as long as the q rows or the K/V rows (so a kv head's share of it is whole heads); and it
/// stores q -- the attention's input, which no other launch reads -- and this layer's K and V, nothing else.
/// </summary>
internal static class AttentionProloguePass
{
    public static Schedule Run(Schedule schedule)
    {
        var kernels = schedule.Kernels.ToDictionary(k => k.Name);
        var layer = schedule.Layer.ToList();
        var prologues = new List<AttentionPrologueSpec>();
        for (var j = 0; j + 1 < layer.Count; j++)
        {
            var (step, attention) = (layer[j], layer[j + 1]);
            if (step.Kind != StepKind.Kernel || step.LastLayerKernel is not null || attention.Kind != StepKind.Attention) continue;
            var kernel = kernels[step.Kernel!];
            if (!Qualifies(kernel, attention) || GemvProloguePass.ReadByAnotherLaunch(schedule, kernels, attention.Input, attention)) continue;
            var spec = new AttentionPrologueSpec(kernel.Name + "_decode_attention", kernel.Name, attention.Input, attention.Output, attention.Heads!, attention.KvHeads!, attention.HeadDim!);
            prologues.Add(spec);
            layer[j] = step with { AttentionPrologue = spec.Name };
        }
        return schedule with { Layer = layer.ToEquatableArray(), AttentionPrologues = prologues.ToEquatableArray() };
    }

    private static bool Qualifies(KernelSpec kernel, StepSpec attention)
    {
        var head = attention.HeadDim!;
        var (q, kv) = (attention.Heads! * head, attention.KvHeads! * head);
        bool Op(KernelOp o) => o.Op switch
        {
            PrimOp.LoadRow or PrimOp.LoadWeight or PrimOp.Add or PrimOp.Mul => true,
            PrimOp.RmsNorm or PrimOp.Rope => o.Group!.Equals(head),
            PrimOp.StoreRow => o.Value == attention.Input,
            PrimOp.StoreKv => o.LayerOffset == 0,
            _ => false,
        };
        return kernel.Rows == RowSet.AllTokens && kernel.Ops.All(Op) &&
               kernel.Ops.Where(o => o.Result >= 0 || o.Op is PrimOp.StoreRow or PrimOp.StoreKv).All(o => o.Length.Equals(q) || o.Length.Equals(kv)) &&
               kernel.Ops.Any(o => o.Op == PrimOp.StoreRow) &&
               kernel.Ops.Any(o => o.Op == PrimOp.StoreKv && o.Cache == "k") && kernel.Ops.Any(o => o.Op == PrimOp.StoreKv && o.Cache == "v");
    }
}
