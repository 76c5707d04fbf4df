namespace Compiler.Runtime.Sampling;

/// <summary>The sampled token of one logits row and, when asked for, its raw log-probability.</summary>
internal readonly record struct SampleResult(int TokenId, float Logprob);
