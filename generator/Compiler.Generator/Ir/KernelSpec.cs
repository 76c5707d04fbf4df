namespace Compiler.Generator.Ir;

/// <summary>Which token rows a step processes: every token of the batch, or only the rows whose logits are needed.</summary>
internal enum RowSet { AllTokens, OutputRows }

/// <summary>
/// A generated (fused) kernel: its name, the rows it runs over, and its primitive ops in order.
/// <see cref="SplitsColumns"/>: a block need not own a whole row, so the runtime may split each row's columns over
/// <c>gridDim.y</c> blocks (at decode batch 1 a 14,336-wide row, or all the heads of a token, would otherwise run on
/// one SM). That holds when the kernel is purely element-wise (no reduction, no value used twice, so nothing is kept
/// in shared memory), or when its reductions are all per-group (per head) of one width <see cref="SplitGroup"/>:
/// then every loop hands whole groups to blocks, group g to block g % gridDim.y, so each block reduces, keeps and
/// reads only its own groups.
/// </summary>
internal sealed record KernelSpec(string Name, RowSet Rows, EquatableArray<KernelOp> Ops, string Fuses, bool SplitsColumns)
{
    public Dim? SplitGroup { get; init; }
}
