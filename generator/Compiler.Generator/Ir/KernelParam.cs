namespace Compiler.Generator.Ir;

internal enum ParamKind { InputBuffer, OutputBuffer, Weight, InputIds, Positions, InvFreq, OutCacheLoc, KCache, VCache, RowIndex }

/// <summary>One pointer argument of a generated kernel, in launch order, and what the runtime binds to it.</summary>
internal sealed record KernelParam(ParamKind Kind, string Name, string CType)
{
    public int Value { get; init; } = -1;
    public string? Weight { get; init; }
    public int LayerOffset { get; init; }
}
