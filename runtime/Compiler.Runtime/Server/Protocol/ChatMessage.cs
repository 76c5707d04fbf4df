namespace Compiler.Runtime.Server.Protocol;

internal sealed record ChatMessage(string Role, string? Content);
