using Compiler.Runtime.Cache;
using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// One generation request (SGLang's Req). Tokens = prompt followed by generated tokens. KV bookkeeping:
/// positions [0, PrefixLen) of its ReqToTokenPool row point at cache-owned slots locked through LastNode (radix
/// cache) and [PrefixLen, KvLen) at slots the request owns; KvLen tokens have K/V computed.
/// Only the scheduler thread touches a Req once submitted; other threads consume <see cref="ReqOutput"/> events,
/// whose callback runs on the scheduler thread and must neither block nor throw (hand off to a Channel).
/// </summary>
internal sealed class Req
{
    public Req(string rid, ReadOnlySpan<int> inputIds, SamplingParams samplingParams, ulong seed)
    {
        if (inputIds.Length == 0) throw new ArgumentException($"Request '{rid}' has an empty prompt; at least one input token is required.", nameof(inputIds));
        Rid = rid;
        InputLen = inputIds.Length;
        Tokens = new List<int>(inputIds.Length + Math.Min(samplingParams.MaxNewTokens, 4096));
        foreach (int t in inputIds) Tokens.Add(t);
        SamplingParams = samplingParams;
        MaxNewTokens = samplingParams.MaxNewTokens;
        Seed = seed;
        Rng = new SamplingRng(seed);
        Penalties = samplingParams.HasPenalties ? new PenaltyState(inputIds, samplingParams) : null;
        // Sized like Tokens, so decode steps append without growing it.
        if (samplingParams.Logprobs || samplingParams.TopLogprobs > 0) OutputLogprobs = new List<float>(Math.Min(samplingParams.MaxNewTokens, 4096));
        if (samplingParams.TopLogprobs > 0) OutputTopLogprobs = [];
        if (samplingParams.Logprobs)
        {
            int start = samplingParams.LogprobStartLen;
            if (start >= InputLen)
                throw new ArgumentException($"Request '{rid}': logprob_start_len ({start}) must be less than the prompt length ({InputLen}); use -1 for the last prompt token only.", nameof(samplingParams));
            // SGLang's default (-1) is the last prompt token: one entry without a value and no extra logits rows.
            InputLogprobs = new InputLogprobs(start >= 0 ? start : InputLen - 1, InputLen, samplingParams.TopLogprobs);
        }
    }

    public string Rid { get; }
    public int InputLen { get; }
    public List<int> Tokens { get; }
    public int OutputLen => Tokens.Count - InputLen;
    public ReadOnlySpan<int> InputIds => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Tokens)[..InputLen];
    public ReadOnlySpan<int> OutputIds => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(Tokens)[InputLen..];
    public SamplingParams SamplingParams { get; }
    /// <summary>max_new_tokens after clipping to what the context and pool can hold.</summary>
    public int MaxNewTokens { get; internal set; }
    public ulong Seed { get; }
    public SamplingRng Rng { get; }
    public PenaltyState? Penalties { get; }
    public List<float>? OutputLogprobs { get; }
    public List<TokenLogprob[]>? OutputTopLogprobs { get; }
    /// <summary>Prompt log-probabilities (with Logprobs); complete once the prompt is prefilled.</summary>
    public InputLogprobs? InputLogprobs { get; }
    /// <summary>The first prompt position reported (SGLang's resolved logprob_start_len); -1 without logprobs.</summary>
    public int LogprobStartLen => InputLogprobs?.StartLen ?? -1;
    public Action<ReqOutput>? OnOutput { get; set; }

    public ReqStatus Status { get; internal set; } = ReqStatus.Waiting;
    public FinishReason? FinishReason { get; internal set; }
    public bool IsFinished => FinishReason != null;

    // KV bookkeeping (scheduler-owned).
    public int ReqPoolIdx { get; internal set; } = -1;
    public int PrefixLen { get; internal set; }
    public int KvLen { get; internal set; }
    public TreeNode? LastNode { get; internal set; }
    /// <summary>Tokens this round's extend computes (set by the scheduler when admitting; shortened when chunked).</summary>
    public int ExtendInputLen { get; internal set; }
    /// <summary>How many chunked-prefill rounds this request has been cut into so far.</summary>
    public int ChunkCount { get; internal set; }
    public int RetractCount { get; internal set; }
    /// <summary>Prompt tokens served from the prefix cache at first admission.</summary>
    public int CachedTokens { get; internal set; }
    /// <summary>Stopwatch timestamps (0 until reached) for TTFT / latency metrics.</summary>
    public long ArrivalTimestamp { get; internal set; }
    public long FirstTokenTimestamp { get; internal set; }
    public long FinishTimestamp { get; internal set; }
    internal bool Admitted { get; set; }
    internal bool EverAdmitted { get; set; }
    internal long ArrivalOrder { get; set; }
    /// <summary>
    /// Launched steps holding a row of this request whose results are not processed yet (overlap scheduling: at most 2,
    /// the one being processed and the next). When the request finishes while the next step still holds it, that
    /// step's KV slot (the last of its row) is given back and its row discarded.
    /// </summary>
    internal int PendingSteps { get; set; }
    /// <summary>The request's sampling row in the last step it was scheduled into: a placeholder -(row + 1) names it.</summary>
    internal int LastSampleRow { get; set; } = -1;

    /// <summary>
    /// Logits rows an extend of tokens [prefixLen, prefixLen + extendLen) needs: one per prompt position still to be
    /// scored in that range, plus the sampling row if it reaches the last token and a token is to be generated.
    /// </summary>
    public int LogitsRowsFor(int prefixLen, int extendLen)
    {
        int end = prefixLen + extendLen;
        int rows = end == Tokens.Count && MaxNewTokens > 0 ? 1 : 0;
        if (InputLogprobs is { IsComplete: false } lp)
            rows += Math.Max(0, Math.Min(end, InputLen - 1) - Math.Max(prefixLen, lp.NextRowPosition));
        return rows;
    }

    /// <summary>The longest extend from prefixLen, at most extendLen tokens, that needs at most maxRows logits rows (0 if none).</summary>
    public int MaxExtendForRows(int prefixLen, int extendLen, int maxRows)
    {
        if (LogitsRowsFor(prefixLen, extendLen) <= maxRows) return extendLen;
        // Too many rows: stop short of the last token (no sampling row) and after maxRows scored positions.
        int scoredFrom = InputLogprobs is { IsComplete: false } lp ? Math.Max(prefixLen, lp.NextRowPosition) : prefixLen;
        int end = Math.Min(scoredFrom + maxRows, prefixLen + extendLen - 1);
        return Math.Max(0, end - prefixLen);
    }

    public override string ToString() => $"Req({Rid}, in={InputLen}, out={OutputLen}, kv={KvLen}, prefix={PrefixLen}, {Status})";
}
