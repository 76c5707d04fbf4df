namespace Compiler.Runtime.Server.Protocol;

internal sealed record ErrorDetail(string Message, string Type, string? Param, string? Code);
