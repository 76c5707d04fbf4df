using Compiler.Generator.Syntax;

namespace Compiler.Generator.Diagnostics;

/// <summary>A problem in a model file, as a plain equatable value (no Roslyn objects in the pipeline).</summary>
internal sealed record ModelDiagnostic(string Id, string Message, SourceSpan Span);
