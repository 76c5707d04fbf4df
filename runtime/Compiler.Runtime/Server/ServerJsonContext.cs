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
internal sealed partial class ServerJsonContext : JsonSerializerContext;
