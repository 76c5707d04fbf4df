using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Compiler.Generator.Cuda;
using Compiler.Generator.Diagnostics;
using Compiler.Generator.Emit;
using Compiler.Generator.Ir;
using Compiler.Generator.Passes;
using Compiler.Generator.Syntax;

namespace Compiler.Generator;

/// <summary>parse -> lower -> shape inference -> merge projections -> fuse kernels -> GEMV and attention prologues -> plan
/// buffers -> emit.</summary>
internal static class ModelCompiler
{
    public static ModelOutput Compile(string path, string text)
    {
        var diagnostics = new List<ModelDiagnostic>();
        ModelOutput Failed() => new(path, null, null, null, null, diagnostics.ToEquatableArray());
        try
        {
            var syntax = Parser.Parse(text, diagnostics);
            if (syntax is null || diagnostics.Count > 0) return Failed();
            var graph = LowerPass.Run(syntax, diagnostics);
            if (graph is null || diagnostics.Count > 0) return Failed();
            graph = ShapeInferencePass.Run(graph, diagnostics);
            if (diagnostics.Count > 0) return Failed();
            graph = MergeProjectionsPass.Run(graph);
            var schedule = FuseKernelsPass.Run(graph, diagnostics);
            if (schedule is null || diagnostics.Count > 0) return Failed();
            schedule = GemvProloguePass.Run(graph, schedule);
            schedule = AttentionProloguePass.Run(schedule);
            schedule = SiluGatePass.Run(graph, schedule);
            schedule = NormEpiloguePass.Run(graph, schedule);
            var buffers = PlanBuffersPass.Run(graph, schedule);
            var model = new CompiledModel(graph, schedule, buffers);
            var cuda = CudaRenderer.Render(schedule, buffers);
            var plan = PlanTextEmitter.Render(model);
            var csharp = CSharpEmitter.Render(model, cuda, plan, Path.GetFileName(path));
            return new ModelOutput(path, graph.ModelName, csharp, cuda, plan, diagnostics.ToEquatableArray());
        }
        catch (Exception e)
        {
            // A bug in a pass must surface as a diagnostic on the model file, never as a crashed generator.
            diagnostics.Add(new ModelDiagnostic(DiagnosticIds.InternalError,
                $"The model compiler failed on this file ({e.GetType().Name}: {e.Message}); please report it with the file", default));
            return Failed();
        }
    }
}
