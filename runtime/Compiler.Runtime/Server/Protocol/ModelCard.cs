namespace Compiler.Runtime.Server.Protocol;

internal sealed record ModelCard(string Id, string Object, long Created, string OwnedBy, string Root, int MaxModelLen);
