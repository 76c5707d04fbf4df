using System.Text.Json.Serialization;
using Compiler.Runtime.Server.Protocol;

namespace Compiler.Runtime.Server;

/// <summary>Source-generated (reflection-free) serialization of every response body the server writes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(CompletionResponse))]
[JsonSerializable(typeof(ChatCompletionResponse))]
[JsonSerializable(typeof(ChatStreamChunk))]
internal sealed partial class ServerJsonContext : JsonSerializerContext
{
    /// <summary>Like <see cref="Default"/> but writes non-ASCII text and &lt;, &gt;, &amp; as is (as Python servers do): smaller
    /// streams, readable errors. Safe: responses are application/json or SSE, never HTML.</summary>
    public static ServerJsonContext Relaxed { get; } = new(new System.Text.Json.JsonSerializerOptions
    {
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
