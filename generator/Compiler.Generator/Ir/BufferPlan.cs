namespace Compiler.Generator.Ir;

/// <summary>Where a value between launches lives: a buffer slot, its element type and its row length.</summary>
internal sealed record BufferAssignment(int Value, string Name, int Slot, DType DType, Dim Length);

/// <summary>The activation buffers of a forward step: slots reused between values whose lifetimes do not overlap.
/// A slot's row size is the largest row of the values assigned to it.</summary>
internal sealed record BufferPlan(int SlotCount, EquatableArray<BufferAssignment> Values)
{
    public BufferAssignment Of(int value)
    {
        foreach (var v in Values) if (v.Value == value) return v;
        throw new System.InvalidOperationException($"value {value} has no buffer");
    }
}
