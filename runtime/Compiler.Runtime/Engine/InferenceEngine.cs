using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Engine;

/// <summary>
/// The step loop: schedule -> forward -> sample -> process results. One <see cref="RunStep"/> per batch.
/// <para>
/// Overlap (SGLang's overlap scheduler), on when the runner implements <see cref="IOverlapGreedyForward"/> and not
/// <see cref="SchedulerOptions.DisableOverlapSchedule"/>: a greedy step is launched without waiting; the next
/// RunStep builds the following decode step while the device runs it (rows whose input is still on the device carry
/// placeholders -(row + 1)), launches that, and only then waits for and processes the first step's results
/// (InferenceEngine.Overlap.cs). Everything the CPU does between launches (this class and the scheduler) allocates
/// nothing per decode step, which is what makes that overlap pay off.
/// </para>
/// </summary>
internal sealed partial class InferenceEngine
{
    private readonly IModelRunner _runner;
    private readonly IGreedyForward? _greedyRunner;
    private readonly Sampler _sampler;
    private int[] _greedyTokens = new int[64];
    private readonly List<TokenLogprob> _topScratch = new(20);
    private float[] _logits = [];
    private SampleResult[] _results = new SampleResult[64];

    /// <param name="eosTokenIds">Ids that end generation; default the runner's. The server passes the union of the
    /// config's, generation_config's and the tokenizer's eos (as SGLang stops on all of them).</param>
    public InferenceEngine(IModelRunner runner, SchedulerOptions options, Action<string>? log = null, IReadOnlyList<int>? eosTokenIds = null)
    {
        _runner = runner;
        _greedyRunner = runner as IGreedyForward;
        _overlap = options.DisableOverlapSchedule ? null : runner as IOverlapGreedyForward;
        _sampler = new Sampler(runner.VocabSize);
        Scheduler = new Scheduler(options, eosTokenIds ?? runner.EosTokenIds, log);
    }

    public int VocabSize => _runner.VocabSize;

    public Scheduler Scheduler { get; }
    /// <summary>Steps whose results were processed (a step launched ahead whose every row was discarded does not count).</summary>
    public long Steps { get; private set; }
    /// <summary>Work queued, scheduled, or launched and not yet processed.</summary>
    public bool HasWork => _inFlight != null || Scheduler.HasWork;

    /// <summary>
    /// Submits a prompt; sampling.N &gt; 1 becomes N requests "{rid}-{i}" with seeds seed+i (a random base seed when
    /// none is given), sharing the prompt through the prefix cache. Returns the created requests.
    /// </summary>
    public IReadOnlyList<Req> Submit(string rid, ReadOnlySpan<int> inputIds, SamplingParams sampling, Action<ReqOutput>? onOutput = null)
    {
        sampling.Validate();
        ulong seed = ParallelSampling.BaseSeed(sampling);
        var reqs = new Req[sampling.N];
        for (int i = 0; i < sampling.N; i++)
            reqs[i] = new Req(ParallelSampling.ChoiceRid(rid, sampling.N, i), inputIds, sampling, ParallelSampling.ChoiceSeed(seed, i)) { OnOutput = onOutput };
        foreach (Req r in reqs) Scheduler.AddRequest(r);
        return reqs;
    }

    public void Abort(string rid) => Scheduler.Abort(rid);

    /// <summary>
    /// The detokenizer's StopStringMatcher saw a stop string: end the request as "stop" (not "abort") at the next
    /// step boundary. Tokens sampled meanwhile are still streamed; the matcher has already cut the text.
    /// </summary>
    public void FinishWithStopString(string rid, string stop) =>
        Scheduler.Abort(rid, new FinishReason(FinishKind.Stop, MatchedStop: stop));

    /// <summary>Runs one batch (with overlap: launches one and processes the one before); returns false when there was nothing to do.</summary>
    public bool RunStep() => _overlap != null ? RunOverlappedStep() : RunSequentialStep(Scheduler.ScheduleNext());

    private bool RunSequentialStep(ScheduleBatch? batch)
    {
        if (batch == null) return false;
        ForwardBatch fb = batch.Forward;
        int rows = fb.NumLogitsRows, sampleRows = fb.NumSampleRows, vocab = _runner.VocabSize;
        if (sampleRows != batch.SampleReqs.Count)
            throw new InvalidOperationException($"InferenceEngine: the batch has {sampleRows} sampling rows for {batch.SampleReqs.Count} sampling requests (a scheduler bug).");
        if (_results.Length < sampleRows) _results = new SampleResult[Math.Max(sampleRows, _results.Length * 2)];

        if (_greedyRunner != null && rows > 0 && rows == sampleRows && ArgmaxIsEnough(batch, rows))
        {
            if (_greedyTokens.Length < rows) _greedyTokens = new int[Math.Max(rows, _greedyTokens.Length * 2)];
            _greedyRunner.ForwardGreedy(fb, _greedyTokens.AsSpan(0, rows));
            for (int r = 0; r < rows; r++) _results[r] = new SampleResult(_greedyTokens[r], float.NaN);
            Scheduler.ProcessBatchResult(batch, _results.AsSpan(0, rows));
            Steps++;
            return true;
        }

        // Host logits only when the step samples or scores on the host (the greedy path above never needs them).
        long need = (long)rows * vocab;
        if (need > Array.MaxLength)
            throw new InvalidOperationException($"InferenceEngine: {rows} logits rows x vocab {vocab} exceed one array; set SchedulerOptions.MaxLogitsRows to bound prompt-logprob rows per step.");
        if (_logits.Length < need) _logits = new float[Math.Min(Math.Max(need, (long)_logits.Length * 2), Array.MaxLength)];
        Span<float> logits = _logits.AsSpan(0, rows * vocab);
        _runner.Forward(fb, logits);

        // Prompt logprobs first: the first output event of a request carries them, complete.
        if (batch.InputLogprobSpans.Count > 0) RecordInputLogprobs(batch, logits, vocab);
        for (int r = 0; r < sampleRows; r++)
        {
            Req req = batch.SampleReqs[r];
            Span<float> row = logits.Slice(r * vocab, vocab);
            if (req.OutputLen < req.SamplingParams.MinNewTokens) MaskStopTokens(row, req);
            List<TokenLogprob>? top = req.OutputTopLogprobs != null ? _topScratch : null;
            _results[r] = _sampler.Sample(row, req.SamplingParams, req.Rng, req.Penalties, top);
            if (top != null) req.OutputTopLogprobs!.Add([.. top]);
        }
        Scheduler.ProcessBatchResult(batch, _results.AsSpan(0, sampleRows));
        Steps++;
        return true;
    }

    /// <summary>Steps until no work is left; throws if that takes more than maxSteps (a scheduler livelock).</summary>
    public void RunUntilIdle(int maxSteps = 1_000_000)
    {
        for (int i = 0; i < maxSteps; i++)
            if (!RunStep() && !HasWork) return;
        throw new InvalidOperationException($"InferenceEngine: still busy after {maxSteps} steps ({Scheduler.Waiting.Count} waiting, {Scheduler.Running.Count} running).");
    }

    /// <summary>
    /// True when every row samples greedily and nothing needs the logits themselves: no log-probabilities, no
    /// penalties (they move the argmax), no min_new_tokens mask still in force.
    /// </summary>
    private static bool ArgmaxIsEnough(ScheduleBatch batch, int rows)
    {
        for (int r = 0; r < rows; r++)
        {
            Req req = batch.SampleReqs[r];
            SamplingParams p = req.SamplingParams;
            if (!p.IsGreedy || p.Logprobs || p.TopLogprobs > 0 || req.Penalties != null || req.OutputLen < p.MinNewTokens)
                return false;
        }
        return true;
    }

    /// <summary>
    /// SGLang's input_token_logprobs: the row of prompt position q scores prompt token q + 1 (raw distribution, as
    /// output logprobs), and gives that token's top alternatives. Runs in prefill steps only; writes into buffers the
    /// request sized at submission.
    /// </summary>
    private static void RecordInputLogprobs(ScheduleBatch batch, ReadOnlySpan<float> logits, int vocab)
    {
        foreach (InputLogprobSpan span in batch.InputLogprobSpans)
        {
            Req req = span.Req;
            InputLogprobs lp = req.InputLogprobs!;
            for (int j = 0; j < span.Count; j++)
            {
                int q = span.FirstPosition + j;
                ReadOnlySpan<float> row = logits.Slice((span.FirstRow + j) * vocab, vocab);
                float lse = Sampler.LogSumExp(row);
                lp.Append(q, row[req.Tokens[q + 1]] - lse, out Span<int> topIds, out Span<float> topValues);
                if (topIds.Length > 0) Sampler.TopLogprobs(row, lse, topIds, topValues);
            }
        }
    }

    private void MaskStopTokens(Span<float> row, Req req)
    {
        // min_new_tokens: stop tokens cannot be sampled until enough tokens exist (SGLang's MinNewTokensPenalizer).
        foreach (int t in req.SamplingParams.StopTokenIds) if ((uint)t < (uint)row.Length) row[t] = float.NegativeInfinity;
        if (!req.SamplingParams.IgnoreEos)
            foreach (int t in Scheduler.EosTokenIds) if ((uint)t < (uint)row.Length) row[t] = float.NegativeInfinity;
    }
}
