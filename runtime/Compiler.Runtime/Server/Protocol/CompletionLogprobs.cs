namespace Compiler.Runtime.Server.Protocol;

/// <summary>The legacy completions logprobs: per token its text, log-probability, top alternatives and text offset.</summary>
internal sealed record CompletionLogprobs(List<string> Tokens, List<float?> TokenLogprobs, List<Dictionary<string, float>?>? TopLogprobs, List<int> TextOffset);
