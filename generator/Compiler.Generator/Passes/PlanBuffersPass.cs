using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Passes;

/// <summary>
/// Plans the activation buffers by liveness over the launch sequence. Launch positions run through the prologue,
/// one layer (its boundary kernel last), the exit kernel and the epilogue. A value read in the layer but written
/// in the prologue or later in the layer (the residual stream, the next layer's normed input) is carried across
/// layers and stays live through the whole layer loop. Values whose lifetimes do not overlap share a slot,
/// preferring a slot that last held a value of the same size and type. Storage type: bf16 where a GEMM or
/// attention reads the value (tensor-core input), the anchor's own type for its outputs, fp32 otherwise, so the
/// residual stream keeps full precision between layers. A GEMV prologue kernel (GemvProloguePass) reads its producer's
/// inputs in every block while other blocks already write the GEMM's output, and block 0 writes the producer's other
/// outputs meanwhile: none of those may share a slot with the producer's inputs, whatever their lifetimes. Likewise
/// an attention prologue kernel (AttentionProloguePass): some CTAs write attention's output while others still read
/// the producer's inputs; and a norm split over two GEMMs' epilogues (NormEpiloguePass): the GEMM before writes the
/// norm's outputs while other CTAs of it read its input.
/// </summary>
internal static class PlanBuffersPass
{
    public static BufferPlan Run(Graph graph, Schedule schedule)
    {
        var kernels = schedule.Kernels.ToDictionary(k => k.Name);
        var reads = new Dictionary<int, List<int>>();
        var writes = new Dictionary<int, List<int>>();
        var readByAnchor = new HashSet<int>();
        var anchorType = new Dictionary<int, DType>();
        void Read(int value, int at) => (reads.TryGetValue(value, out var l) ? l : reads[value] = new List<int>()).Add(at);
        void Write(int value, int at) => (writes.TryGetValue(value, out var l) ? l : writes[value] = new List<int>()).Add(at);

        void Visit(StepSpec step, int at, string? kernelName = null)
        {
            if (step.Kind == StepKind.Kernel)
            {
                foreach (var op in kernels[kernelName ?? step.Kernel!].Ops)
                {
                    if (op.Op == PrimOp.LoadRow) Read(op.Value, at);
                    if (op.Op == PrimOp.StoreRow) Write(op.Value, at);
                }
                return;
            }
            Read(step.Input, at);
            Write(step.Output, at);
            readByAnchor.Add(step.Input);
            anchorType[step.Output] = graph[step.Output].DType;
        }

        var position = 0;
        foreach (var step in schedule.Prologue) Visit(step, position++);
        var layerStart = position;
        foreach (var step in schedule.Layer) Visit(step, position++);
        var layerEnd = position - 1;
        var last = schedule.Layer.Count > 0 ? schedule.Layer[schedule.Layer.Count - 1] : null;
        if (last?.LastLayerKernel is { } exit) Visit(last, position, exit);
        position++;
        foreach (var step in schedule.Epilogue) Visit(step, position++);

        var intervals = new List<(int Value, int Start, int End)>();
        foreach (var value in writes.Keys.Union(reads.Keys).OrderBy(v => v))
        {
            var w = writes.TryGetValue(value, out var wl) ? wl : new List<int>();
            var r = reads.TryGetValue(value, out var rl) ? rl : new List<int>();
            if (w.Count == 0) throw new System.InvalidOperationException($"value {graph[value].Name} is read but never written");
            var start = w.Min();
            var end = r.Count > 0 ? r.Max() : start;
            var readInLayer = r.Where(p => p >= layerStart && p <= layerEnd).ToList();
            if (readInLayer.Count > 0 && (start < layerStart || w.Any(p => p >= readInLayer.Min() && p <= layerEnd)))
                end = System.Math.Max(end, layerEnd);
            intervals.Add((value, start, end));
        }

        var apart = new HashSet<(int, int)>();
        foreach (var prologue in schedule.GemvPrologues)
        {
            var ops = kernels[prologue.Kernel].Ops;
            var written = ops.Where(o => o.Op == PrimOp.StoreRow && o.Value != prologue.Input).Select(o => o.Value).Append(prologue.Output);
            foreach (var read in ops.Where(o => o.Op == PrimOp.LoadRow).Select(o => o.Value))
                foreach (var write in written) { apart.Add((read, write)); apart.Add((write, read)); }
        }
        // A norm split over two GEMMs' epilogues (NormEpiloguePass): CTAs of the GEMM before write the norm's outputs
        // while others still read that GEMM's input.
        for (var j = 1; j < schedule.Layer.Count; j++)
            if (schedule.Layer[j].NormEpilogue is { } norm)
                foreach (var write in new[] { norm.ResidualOut, norm.Normed })
                {
                    apart.Add((schedule.Layer[j - 1].Input, write));
                    apart.Add((write, schedule.Layer[j - 1].Input));
                }
        foreach (var prologue in schedule.AttentionPrologues)
            foreach (var read in kernels[prologue.Kernel].Ops.Where(o => o.Op == PrimOp.LoadRow).Select(o => o.Value))
            {
                apart.Add((read, prologue.Output));
                apart.Add((prologue.Output, read));
            }

        var slots = new List<(int FreeAfter, DType DType, Dim Length)>();
        var slotOf = new Dictionary<int, int>();
        var assignments = new List<BufferAssignment>();
        foreach (var (value, start, end) in intervals.OrderBy(i => i.Start).ThenBy(i => i.Value))
        {
            var node = graph[value];
            var type = anchorType.TryGetValue(value, out var t) ? t : readByAnchor.Contains(value) ? DType.BFloat16 : DType.Float32;
            var taken = slotOf.Where(a => apart.Contains((value, a.Key))).Select(a => a.Value).ToList();
            var free = Enumerable.Range(0, slots.Count).Where(s => slots[s].FreeAfter < start && !taken.Contains(s)).ToList();
            var slot = free.Where(s => slots[s].DType == type && slots[s].Length.Equals(node.Length)).Cast<int?>().FirstOrDefault()
                ?? free.Cast<int?>().FirstOrDefault();
            if (slot is null) { slots.Add((end, type, node.Length!)); slot = slots.Count - 1; }
            else slots[slot.Value] = (end, type, node.Length!);
            slotOf[value] = slot.Value;
            assignments.Add(new BufferAssignment(value, node.Name, slot.Value, type, node.Length!));
        }
        return new BufferPlan(slots.Count, assignments.OrderBy(a => a.Value).ToEquatableArray());
    }
}
