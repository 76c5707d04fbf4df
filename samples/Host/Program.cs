using System.CommandLine;
using Compiler.Host.Commands;

var root = new RootCommand("LLM serving engine host");
root.Subcommands.Add(ChatTemplateCommand.Create());
return root.Parse(args).Invoke();
