using Compiler.Generator.Ir;

namespace Compiler.Generator.Emit;

/// <summary>The result of the passes for one model, as the emitters read it.</summary>
internal sealed record CompiledModel(Graph Graph, Schedule Schedule, BufferPlan Buffers);
