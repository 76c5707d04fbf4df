namespace Compiler.Runtime.Server.Protocol;

internal sealed record UsageInfo(int PromptTokens, int CompletionTokens, int TotalTokens, PromptTokensDetails? PromptTokensDetails);
