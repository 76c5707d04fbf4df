namespace Compiler.Runtime.Loading;

/// <summary>A weight the model needs: its checkpoint name and shape (outermost first).</summary>
/// <remarks>Public because the generated model code (Compiler.Models) lists its weights with it.</remarks>
public sealed record ExpectedTensor(string Name, long[] Shape)
{
    /// <summary>"name [a, b]".</summary>
    public override string ToString() => $"{Name} {TensorView.FormatShape(Shape)}";
}
