using Compiler.Generator.Diagnostics;
using Compiler.Generator.Ir;

namespace Compiler.Generator;

/// <summary>What compiling one model file produced: only strings and equatable values, so an edit that changes
/// nothing generated (a comment) leaves every later pipeline step cached.</summary>
internal sealed record ModelOutput(string FilePath, string? ModelName, string? CSharp, string? Cuda, string? Plan,
    EquatableArray<ModelDiagnostic> Diagnostics);
