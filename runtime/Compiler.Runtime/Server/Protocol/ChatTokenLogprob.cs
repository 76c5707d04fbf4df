namespace Compiler.Runtime.Server.Protocol;

internal sealed record ChatTokenLogprob(string Token, float Logprob, int[] Bytes, List<ChatTopLogprob> TopLogprobs);
