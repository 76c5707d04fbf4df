namespace Compiler.Runtime.Server.Protocol;

/// <summary>Chat logprobs: <c>{"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}</c>.</summary>
internal sealed record ChatLogprobs(List<ChatTokenLogprob> Content);
