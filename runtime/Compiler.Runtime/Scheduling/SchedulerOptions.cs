namespace Compiler.Runtime.Scheduling;

/// <summary>Scheduler knobs with SGLang's server-argument names and defaults.</summary>
internal sealed record SchedulerOptions
{
    /// <summary>--max-total-tokens: KV pool size in tokens.</summary>
    public int MaxTotalTokens { get; init; } = 65536;
    /// <summary>--max-running-requests: request slots (ReqToTokenPool rows).</summary>
    public int MaxRunningRequests { get; init; } = 256;
    /// <summary>The model's context length: the longest prompt + output a request may have.</summary>
    public int ContextLength { get; init; } = 8192;
    /// <summary>--max-prefill-tokens: input tokens per prefill batch (a single longer request may still run alone).</summary>
    public int MaxPrefillTokens { get; init; } = 16384;
    /// <summary>--chunked-prefill-size: longest extend per request and batch; -1 disables chunking.</summary>
    public int ChunkedPrefillSize { get; init; } = 8192;
    /// <summary>
    /// Most logits rows one forward may return: a runner with a fixed logits buffer (the CUDA runner's
    /// MaxLogitsRows) needs it. Prompt-logprob requests whose scored positions do not fit are cut into chunks like
    /// chunked prefill. 0 = no limit beyond one row per batch token. At least MaxRunningRequests otherwise.
    /// </summary>
    public int MaxLogitsRows { get; init; }
    /// <summary>--enable-mixed-chunk: running decodes ride along in prefill batches.</summary>
    public bool EnableMixedChunk { get; init; }
    /// <summary>--disable-radix-cache: no prefix sharing (ChunkCache).</summary>
    public bool DisableRadixCache { get; init; }
    /// <summary>
    /// --disable-overlap-schedule: run schedule, forward and result processing strictly in sequence even when the
    /// runner can launch steps asynchronously (the overlap loop makes the same decisions; this is for comparison).
    /// </summary>
    public bool DisableOverlapSchedule { get; init; }
    public SchedulePolicyKind SchedulePolicy { get; init; } = SchedulePolicyKind.Fcfs;
    /// <summary>--schedule-conservativeness: scales the initial new-token ratio (higher admits fewer requests).</summary>
    public double ScheduleConservativeness { get; init; } = 1.0;
    /// <summary>--decode-log-interval: one decode log line every this many decode batches.</summary>
    public int DecodeLogInterval { get; init; } = 40;
    public int RandomSeed { get; init; } = 42;
    /// <summary>Testing aid (SGLang's SGLANG_TEST_RETRACT): also retract every N-th decode step, memory or not. 0 = off.</summary>
    public int ForceRetractEvery { get; init; }

    /// <summary>
    /// Most input tokens one ForwardBatch can carry, for sizing runner buffers: with chunking every extend (plus
    /// mixed decode tokens) fits the chunk; without it a single prompt may be as long as the context.
    /// </summary>
    public int MaxBatchTokens =>
        Math.Max(MaxRunningRequests, ChunkedPrefillSize > 0
            ? ChunkedPrefillSize
            : Math.Max(MaxPrefillTokens, ContextLength) + (EnableMixedChunk ? MaxRunningRequests : 0));

    public void Validate()
    {
        if (MaxTotalTokens < 2) throw new ArgumentException($"max-total-tokens must be >= 2, got {MaxTotalTokens}.");
        if (MaxRunningRequests < 1) throw new ArgumentException($"max-running-requests must be >= 1, got {MaxRunningRequests}.");
        if (ContextLength < 2) throw new ArgumentException($"context length must be >= 2, got {ContextLength}.");
        if (MaxPrefillTokens < 1) throw new ArgumentException($"max-prefill-tokens must be >= 1, got {MaxPrefillTokens}.");
        if (ChunkedPrefillSize == 0 || ChunkedPrefillSize < -1) throw new ArgumentException($"chunked-prefill-size must be -1 (off) or >= 1, got {ChunkedPrefillSize}.");
        if (EnableMixedChunk && ChunkedPrefillSize != -1 && ChunkedPrefillSize <= MaxRunningRequests)
            throw new ArgumentException($"enable-mixed-chunk needs chunked-prefill-size ({ChunkedPrefillSize}) larger than max-running-requests ({MaxRunningRequests}): decode tokens take chunk budget first.");
        if (MaxLogitsRows != 0 && MaxLogitsRows < MaxRunningRequests)
            throw new ArgumentException($"max logits rows ({MaxLogitsRows}) must be 0 (no limit) or at least max-running-requests ({MaxRunningRequests}): every running request samples from its own row.");
        if (!(ScheduleConservativeness > 0)) throw new ArgumentException($"schedule-conservativeness must be > 0, got {ScheduleConservativeness}.");
        if (DecodeLogInterval < 1) throw new ArgumentException($"decode-log-interval must be >= 1, got {DecodeLogInterval}.");
    }
}
