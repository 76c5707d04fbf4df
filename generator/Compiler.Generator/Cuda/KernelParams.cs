using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Cuda;

/// <summary>The argument list of a generated kernel, derived from its ops in order of first use.</summary>
internal static class KernelParams
{
    public static List<KernelParam> Of(KernelSpec kernel, BufferPlan buffers)
    {
        var result = new List<KernelParam>();
        void Add(KernelParam p)
        {
            if (result.Any(r => r.Kind == p.Kind && r.Value == p.Value && r.Weight == p.Weight && r.LayerOffset == p.LayerOffset)) return;
            var name = p.Name;
            for (var i = 2; result.Any(r => r.Name == name); i++) name = p.Name + "_" + i;
            result.Add(p with { Name = name });
        }
        string Element(DType t) => t == DType.BFloat16 ? "bf16" : "float";

        if (kernel.Rows == RowSet.OutputRows) Add(new KernelParam(ParamKind.RowIndex, "row_index", "const int*"));
        foreach (var op in kernel.Ops)
        {
            switch (op.Op)
            {
                case PrimOp.LoadRow:
                    Add(new KernelParam(ParamKind.InputBuffer, Identifier(buffers.Of(op.Value).Name), "const " + Element(buffers.Of(op.Value).DType) + "*") { Value = op.Value });
                    break;
                case PrimOp.StoreRow:
                    Add(new KernelParam(ParamKind.OutputBuffer, "out_" + Identifier(buffers.Of(op.Value).Name), Element(buffers.Of(op.Value).DType) + "*") { Value = op.Value });
                    break;
                case PrimOp.Gather:
                    Add(new KernelParam(ParamKind.InputIds, "input_ids", "const int*"));
                    Add(WeightParam(op));
                    break;
                case PrimOp.LoadWeight:
                case PrimOp.RmsNorm:
                    Add(WeightParam(op));
                    break;
                case PrimOp.Rope:
                    Add(new KernelParam(ParamKind.Positions, "positions", "const int*"));
                    Add(new KernelParam(ParamKind.InvFreq, "inv_freq", "const float*"));
                    break;
                case PrimOp.StoreKv:
                    Add(new KernelParam(ParamKind.OutCacheLoc, "out_cache_loc", "const int*"));
                    Add(new KernelParam(op.Cache == "k" ? ParamKind.KCache : ParamKind.VCache, op.Cache + "_cache", "bf16*") { LayerOffset = op.LayerOffset });
                    break;
            }
        }
        return result;
    }

    /// <summary>The producer's arguments in a prologue kernel (GEMV or decode attention): its own, less the value
    /// <paramref name="kept"/> -- the GEMM input or q -- which it keeps in shared memory (the host kernel's arguments
    /// follow).</summary>
    public static List<KernelParam> OfPrologue(KernelSpec producer, int kept, BufferPlan buffers) =>
        Of(producer, buffers).Where(p => !(p.Kind == ParamKind.OutputBuffer && p.Value == kept)).ToList();

    private static KernelParam WeightParam(KernelOp op) =>
        new(ParamKind.Weight, "w_" + Identifier(ShortName(op.Weight!)), "const bf16*") { Weight = op.Weight, LayerOffset = op.LayerOffset };

    /// <summary><c>model.layers.{i}.self_attn.q_norm.weight</c> -> <c>q_norm</c>; <c>model.layers.{i}.self_attn.q_proj.bias</c> -> <c>q_proj_bias</c>.</summary>
    private static string ShortName(string weight) =>
        WeightNames.Module(weight) + (weight.EndsWith(".bias", System.StringComparison.Ordinal) ? "_bias" : "");

    private static string Identifier(string name) =>
        new string(name.Select(c => char.IsLetterOrDigit(c) ? c : '_').ToArray());
}
