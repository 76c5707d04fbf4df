using System.CommandLine;
using Compiler.Models;
using Compiler.Runtime.Kernels;

namespace Compiler.Host.Commands;

/// <summary><c>plan [ARCHITECTURE]</c>: prints what the model compiler made of each model file (launches, fused kernels,
/// buffers, merged weights), or with <c>--cuda</c> the generated CUDA C.</summary>
internal static class PlanCommand
{
    public static Command Create()
    {
        var architecture = new Argument<string?>("architecture") { Description = "e.g. Qwen3ForCausalLM; all models when omitted", Arity = ArgumentArity.ZeroOrOne };
        var cuda = new Option<bool>("--cuda") { Description = "print the CUDA C that NVRTC compiles (the generated source, the runtime's headers pasted in) instead of the plan" };
        var command = new Command("plan", "Show the compiled plan of each model architecture") { architecture, cuda };
        command.SetAction(result =>
        {
            var name = result.GetValue(architecture);
            if (name is not null && !ModelCatalog.All.ContainsKey(name))
            {
                Console.Error.WriteLine($"Unknown architecture '{name}'. Compiled models: {string.Join(", ", ModelCatalog.All.Keys)}");
                return 2;
            }
            foreach (var (key, plan) in ModelCatalog.All)
                if (name is null || key == name) Console.WriteLine(result.GetValue(cuda) ? KernelSources.ResolveIncludes(plan.CudaSource) : plan.Description);
            return 0;
        });
        return command;
    }
}
