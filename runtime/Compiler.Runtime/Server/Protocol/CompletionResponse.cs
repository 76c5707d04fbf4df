using System.Text.Json.Serialization;

namespace Compiler.Runtime.Server.Protocol;

/// <summary>A /v1/completions response (object "text_completion"); streamed chunks have the same shape.</summary>
internal sealed record CompletionResponse(string Id, string Object, long Created, string Model, CompletionChoice[] Choices,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] UsageInfo? Usage);
