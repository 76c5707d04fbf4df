namespace Compiler.Generator.Ir;

internal enum ConstantKind { Int, Float, Bool }

/// <summary>
/// A model constant read from config.json: <see cref="Symbol"/> is its name in the model file (<c>hidden</c>),
/// <see cref="Name"/> its name in kernels and plans (<c>HIDDEN</c>), <see cref="Expression"/> the C# that reads it
/// from a config (e.g. <c>config.GetInt("hidden_size")</c>).
/// </summary>
internal sealed record ConfigConstant(string Symbol, string Name, ConstantKind Kind, string Expression, string Source);
