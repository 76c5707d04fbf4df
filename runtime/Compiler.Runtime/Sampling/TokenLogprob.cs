namespace Compiler.Runtime.Sampling;

/// <summary>A token and its log-probability under the model's raw distribution (before penalties and temperature).</summary>
internal readonly record struct TokenLogprob(int TokenId, float Logprob);
