namespace Compiler.Generator.Ir;

/// <summary>The launch sequence of a forward step: the prologue, one layer (run for every layer), and the epilogue;
/// <see cref="GemvPrologues"/> and <see cref="AttentionPrologues"/> are decode variants of layer step pairs
/// (GemvProloguePass, AttentionProloguePass).</summary>
internal sealed record Schedule(EquatableArray<KernelSpec> Kernels, EquatableArray<StepSpec> Prologue,
    EquatableArray<StepSpec> Layer, EquatableArray<StepSpec> Epilogue)
{
    public EquatableArray<GemvPrologueSpec> GemvPrologues { get; init; } = EquatableArray<GemvPrologueSpec>.Empty;
    public EquatableArray<AttentionPrologueSpec> AttentionPrologues { get; init; } = EquatableArray<AttentionPrologueSpec>.Empty;
}
