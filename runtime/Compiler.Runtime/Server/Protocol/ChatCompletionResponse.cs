namespace Compiler.Runtime.Server.Protocol;

/// <summary>A non-streamed /v1/chat/completions response (object "chat.completion").</summary>
internal sealed record ChatCompletionResponse(string Id, string Object, long Created, string Model, ChatChoice[] Choices, UsageInfo Usage);
