using System.Text.Json.Nodes;

namespace Compiler.Runtime.Server.Protocol;

/// <summary>One completion choice; matched_stop (SGLang's extension) is the stop string or token id that ended it.</summary>
internal sealed record CompletionChoice(int Index, string Text, CompletionLogprobs? Logprobs, string? FinishReason, JsonNode? MatchedStop);
