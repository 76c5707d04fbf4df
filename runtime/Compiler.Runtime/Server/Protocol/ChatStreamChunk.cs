using System.Text.Json.Serialization;

namespace Compiler.Runtime.Server.Protocol;

/// <summary>One SSE chunk of a streamed chat completion (object "chat.completion.chunk").</summary>
internal sealed record ChatStreamChunk(string Id, string Object, long Created, string Model, ChatStreamChoice[] Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] UsageInfo? Usage);
