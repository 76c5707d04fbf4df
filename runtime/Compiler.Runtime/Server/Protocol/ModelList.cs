namespace Compiler.Runtime.Server.Protocol;

/// <summary>GET /v1/models.</summary>
internal sealed record ModelList(string Object, ModelCard[] Data);
