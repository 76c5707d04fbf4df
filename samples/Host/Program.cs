using System.CommandLine;
using Compiler.Host.Commands;

var root = new RootCommand("Compiler: an LLM serving engine (model compiler, runtime, OpenAI-compatible server).");
TokenizeCommands.AddTo(root);
return root.Parse(args).Invoke();
