using System.Text.Json.Serialization;

namespace Compiler.Runtime.Server.Protocol;

/// <summary>The delta of a chat chunk: the role in the first chunk, content deltas after.</summary>
internal sealed record ChatDelta(
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
