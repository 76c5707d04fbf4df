namespace Compiler.Generator.Ir;

/// <summary>Which token rows a step processes: every token of the batch, or only the rows whose logits are needed.</summary>
internal enum RowSet { AllTokens, OutputRows }

/// <summary>A generated (fused) kernel: its name, the rows it runs over, and its primitive ops in order.</summary>
internal sealed record KernelSpec(string Name, RowSet Rows, EquatableArray<KernelOp> Ops, string Fuses);
