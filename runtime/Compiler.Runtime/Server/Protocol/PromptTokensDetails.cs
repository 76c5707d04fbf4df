namespace Compiler.Runtime.Server.Protocol;

internal sealed record PromptTokensDetails(int CachedTokens);
