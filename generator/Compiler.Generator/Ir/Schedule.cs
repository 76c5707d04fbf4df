namespace Compiler.Generator.Ir;

/// <summary>The launch sequence of a forward step: the prologue, one layer (run for every layer), and the epilogue.</summary>
internal sealed record Schedule(EquatableArray<KernelSpec> Kernels, EquatableArray<StepSpec> Prologue,
    EquatableArray<StepSpec> Layer, EquatableArray<StepSpec> Epilogue);
