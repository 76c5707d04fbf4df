namespace Compiler.Runtime.Server.Protocol;

internal sealed record ChatTopLogprob(string Token, float Logprob, int[] Bytes);
