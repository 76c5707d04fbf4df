using System.Text.Json.Nodes;

namespace Compiler.Runtime.Server.Protocol;

internal sealed record ChatStreamChoice(int Index, ChatDelta Delta, ChatLogprobs? Logprobs, string? FinishReason, JsonNode? MatchedStop);
