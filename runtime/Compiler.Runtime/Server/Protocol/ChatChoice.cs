using System.Text.Json.Nodes;

namespace Compiler.Runtime.Server.Protocol;

internal sealed record ChatChoice(int Index, ChatMessage Message, ChatLogprobs? Logprobs, string? FinishReason, JsonNode? MatchedStop);
