namespace Compiler.Runtime.Sampling;

/// <summary>
/// Per-request sampling parameters with SGLang/vLLM meanings. Temperature 0 is greedy; TopK &lt;= 0 means off;
/// TopP 1 and MinP 0 mean off; penalties at their neutral values (0, 0, 1) cost nothing.
/// </summary>
internal sealed record SamplingParams
{
    public float Temperature { get; init; } = 1.0f;
    public float TopP { get; init; } = 1.0f;
    public int TopK { get; init; } = -1;
    public float MinP { get; init; }
    /// <summary>Subtracted once per previous occurrence of the token in the output (OpenAI/vLLM definition).</summary>
    public float FrequencyPenalty { get; init; }
    /// <summary>Subtracted once if the token occurs in the output at all.</summary>
    public float PresencePenalty { get; init; }
    /// <summary>HF/vLLM multiplicative penalty on tokens seen in prompt or output: positive logits divided, negative multiplied.</summary>
    public float RepetitionPenalty { get; init; } = 1.0f;
    public int MaxNewTokens { get; init; } = 128;
    public int MinNewTokens { get; init; }
    public IReadOnlyList<int> StopTokenIds { get; init; } = [];
    public IReadOnlyList<string> Stop { get; init; } = [];
    public bool IgnoreEos { get; init; }
    /// <summary>Same seed, same output: each request owns its RNG. Null draws a random seed.</summary>
    public ulong? Seed { get; init; }
    /// <summary>Number of completions; expanded into n requests (seeds seed, seed+1, ...) at submission.</summary>
    public int N { get; init; } = 1;
    public bool Logprobs { get; init; }
    /// <summary>How many most likely alternatives to report per generated token, and per prompt token when prompt
    /// logprobs are computed (SGLang's top_logprobs_num, 0..20).</summary>
    public int TopLogprobs { get; init; }
    /// <summary>
    /// With <see cref="Logprobs"/>: the first prompt position whose log-probability is reported (SGLang's
    /// logprob_start_len). -1 = SGLang's default, the last prompt token only (output logprobs, no extra work);
    /// 0 scores the whole prompt. Must be below the prompt length.
    /// </summary>
    public int LogprobStartLen { get; init; } = -1;

    public bool IsGreedy => Temperature < 1e-5f || TopK == 1;
    public bool HasPenalties => FrequencyPenalty != 0 || PresencePenalty != 0 || RepetitionPenalty != 1.0f;

    /// <summary>Throws an ArgumentException naming the first invalid field (the server turns it into a 400).</summary>
    public void Validate()
    {
        if (!(Temperature >= 0) || float.IsInfinity(Temperature)) throw new ArgumentException($"temperature must be a finite number >= 0, got {Temperature}.");
        if (!(TopP > 0 && TopP <= 1)) throw new ArgumentException($"top_p must be in (0, 1], got {TopP}.");
        if (TopK == 0 || TopK < -1) throw new ArgumentException($"top_k must be -1 (off) or >= 1, got {TopK}.");
        if (!(MinP >= 0 && MinP <= 1)) throw new ArgumentException($"min_p must be in [0, 1], got {MinP}.");
        if (!(FrequencyPenalty >= -2 && FrequencyPenalty <= 2)) throw new ArgumentException($"frequency_penalty must be in [-2, 2], got {FrequencyPenalty}.");
        if (!(PresencePenalty >= -2 && PresencePenalty <= 2)) throw new ArgumentException($"presence_penalty must be in [-2, 2], got {PresencePenalty}.");
        if (!(RepetitionPenalty > 0 && RepetitionPenalty <= 2)) throw new ArgumentException($"repetition_penalty must be in (0, 2], got {RepetitionPenalty}.");
        if (MaxNewTokens < 0) throw new ArgumentException($"max_new_tokens must be >= 0, got {MaxNewTokens}.");
        if (MinNewTokens < 0 || MinNewTokens > MaxNewTokens) throw new ArgumentException($"min_new_tokens must be in [0, max_new_tokens={MaxNewTokens}], got {MinNewTokens}.");
        if (N < 1) throw new ArgumentException($"n must be >= 1, got {N}.");
        if (TopLogprobs < 0 || TopLogprobs > 20) throw new ArgumentException($"top_logprobs must be in [0, 20], got {TopLogprobs}.");
        if (LogprobStartLen < -1) throw new ArgumentException($"logprob_start_len must be -1 (last prompt token only) or >= 0, got {LogprobStartLen}.");
        foreach (string s in Stop) if (string.IsNullOrEmpty(s)) throw new ArgumentException("stop strings must be non-empty.");
    }
}
