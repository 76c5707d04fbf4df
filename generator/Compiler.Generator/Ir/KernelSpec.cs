namespace Compiler.Generator.Ir;

/// <summary>Which token rows a step processes: every token of the batch, or only the rows whose logits are needed.</summary>
internal enum RowSet { AllTokens, OutputRows }

/// <summary>
/// A generated (fused) kernel: its name, the rows it runs over, and its primitive ops in order.
/// <see cref="SplitsColumns"/>: the kernel is purely element-wise (no reduction, no value used twice, so nothing is
/// kept in shared memory), so its blocks need not own whole rows and the runtime may also split each row's columns
/// over <c>gridDim.y</c> blocks (at decode batch 1 a 14,336-wide row would otherwise run on one SM).
/// </summary>
internal sealed record KernelSpec(string Name, RowSet Rows, EquatableArray<KernelOp> Ops, string Fuses, bool SplitsColumns);
