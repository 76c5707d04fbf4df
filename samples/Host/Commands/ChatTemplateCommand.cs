using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compiler.Runtime.Text.Templates;

namespace Compiler.Host.Commands;

/// <summary>
/// <c>chat-template --tokenizer DIR</c>: reads one JSON object per stdin line (<c>messages</c>, optional <c>tools</c>,
/// <c>add_generation_prompt</c> and any other template variable such as <c>enable_thinking</c>) and writes each
/// rendered prompt as one JSON string per line, as transformers' apply_chat_template(..., tokenize=False) renders it.
/// </summary>
internal static class ChatTemplateCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<DirectoryInfo>("--tokenizer")
        {
            Description = "Tokenizer directory holding tokenizer_config.json (and chat_template.jinja, if the model has one)",
            Required = true,
        };
        var command = new Command("chat-template", "Render chat requests (JSON lines on stdin) into prompts (JSON strings on stdout)") { tokenizer };
        command.SetAction(parse => Run(parse.GetValue(tokenizer)!, Console.In, Console.Out, Console.Error));
        return command;
    }

    internal static int Run(DirectoryInfo tokenizerDir, TextReader input, TextWriter output, TextWriter error)
    {
        ChatTemplate template;
        try
        {
            template = ChatTemplate.Load(tokenizerDir.FullName);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or TemplateException or UnauthorizedAccessException)
        {
            error.WriteLine($"chat-template: cannot load the chat template from '{tokenizerDir.FullName}': {e.Message}");
            return 2;
        }

        var lineNumber = 0;
        while (input.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Trim().Length == 0)
                continue;
            try
            {
                var request = JsonNode.Parse(line) as JsonObject
                    ?? throw new JsonException("expected a JSON object like {\"messages\": [...]}");
                // Python's json.dumps(prompt, ensure_ascii=False): non-ASCII text stays readable.
                output.Write(ValueJson.Dumps(new StringValue(template.Render(request)), default));
                output.Write('\n');
            }
            catch (Exception e) when (e is JsonException or TemplateException or ArgumentException)
            {
                output.Flush();
                error.WriteLine($"chat-template: stdin line {lineNumber}: {e.Message}");
                return 1;
            }
        }
        output.Flush();
        return 0;
    }
}
