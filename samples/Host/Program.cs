using System.CommandLine;
using Compiler.Host.Commands;

var root = new RootCommand("Compiler: an LLM serving engine (model compiler, runtime, OpenAI-compatible server).");
root.Subcommands.Add(PlanCommand.Create());
root.Subcommands.Add(ServeCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(BenchOneBatchCommand.Create());
root.Subcommands.Add(BenchServingCommand.Create());
TokenizeCommands.AddTo(root);
root.Subcommands.Add(ChatTemplateCommand.Create());
return root.Parse(args).Invoke();
