using System.CommandLine;
using Compiler.Host.Commands;
using Compiler.Runtime.Cuda;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

var root = new RootCommand("Compiler: an LLM serving engine (model compiler, runtime, OpenAI-compatible server).");
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(BenchOneBatchCommand.Create());
root.Subcommands.Add(BenchServingCommand.Create());
TokenizeCommands.AddTo(root);
root.Subcommands.Add(ChatTemplateCommand.Create());
// Bad input, a model or tokenizer this build does not support, or a missing GPU is the user's to fix: one line naming
// the problem (the exception messages name the file, tensor, config key, flag or CUDA call), exit code 1. Anything else
// is a bug and keeps its stack trace.
try
{
    return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (e is CheckpointException or ModelConfigException or NotSupportedException or CudaException or ArgumentException
                               or InvalidDataException or IOException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 1;
}
