namespace Compiler.Generator.Ir;

/// <summary>
/// A decode variant of the layer step pair (kernel <see cref="Kernel"/>, then attention over its output
/// <see cref="Input"/>, the q rows): one generated kernel whose entry points <see cref="Name"/> and <see cref="Name"/>_wide
/// (as decode_attention and decode_attention_wide) run decode attention with the producer as its prologue. Each
/// attention CTA (request, kv head, split) computes its kv head's share of every loop of the producer -- that kv head's
/// q heads, into shared memory, and its K/V -- and the CTA whose split holds the new token stores that token's K/V into
/// the cache. <see cref="Output"/>, <see cref="Heads"/>, <see cref="KvHeads"/> and <see cref="HeadDim"/> are the attention's.
/// </summary>
internal sealed record AttentionPrologueSpec(string Name, string Kernel, int Input, int Output, Dim Heads, Dim KvHeads, Dim HeadDim);
