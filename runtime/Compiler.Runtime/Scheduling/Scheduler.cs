using System.Collections.Concurrent;
using System.Diagnostics;
using Compiler.Runtime.Cache;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Memory;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// Continuous-batching scheduler (SGLang's Scheduler, page size 1). Each step: take new requests and aborts, try
/// to build a prefill batch (waiting queue ordered by the policy, budgets from the PrefillAdder, a chunked request
/// continued first), otherwise decode the running batch, retracting requests back to the queue when KV runs out.
/// Single-threaded by design: only AddRequest and Abort may be called from other threads (lock-free queues).
/// </summary>
internal sealed partial class Scheduler
{
    // SGLang global_config defaults.
    private const double InitNewTokenRatio = 0.7;
    private const double MinNewTokenRatioFactor = 0.14;
    private const int NewTokenRatioDecaySteps = 600;
    private const int RetractDecodeSteps = 20;

    private readonly ConcurrentQueue<Req> _incoming = new();
    private readonly ConcurrentQueue<(string Rid, FinishReason Reason)> _aborts = new();
    private readonly Dictionary<string, Req> _live = new();
    private readonly ScheduleBatch[] _batches;
    private readonly Action<string>? _log;
    private readonly PrefillAdder _adder;
    private readonly double _initNewTokenRatio, _minNewTokenRatio, _newTokenRatioDecay;
    private int _batchFlip;
    private bool _batchIsFull;
    private long _arrivals;
    private int _decodeSteps;
    private long _decodeTokensSinceLog;
    private long _lastDecodeLogTicks = Stopwatch.GetTimestamp();

    public Scheduler(SchedulerOptions options, IReadOnlyList<int> eosTokenIds, Action<string>? log = null)
    {
        options.Validate();
        Options = options;
        EosTokenIds = eosTokenIds;
        _log = log;
        ReqToTokenPool = new ReqToTokenPool(options.MaxRunningRequests, options.ContextLength);
        Allocator = new TokenToKvPoolAllocator(options.MaxTotalTokens);
        Cache = options.DisableRadixCache ? new ChunkCache(ReqToTokenPool, Allocator) : new RadixCache(ReqToTokenPool, Allocator);
        Policy = new SchedulePolicy(options.SchedulePolicy, Cache, options.RandomSeed);
        _adder = new PrefillAdder(Cache, Allocator);
        // Two batches alternate so an overlap loop can build step N+1 while step N is still on the device.
        _batches = [new ScheduleBatch(new ForwardBatch(ReqToTokenPool)), new ScheduleBatch(new ForwardBatch(ReqToTokenPool))];
        _initNewTokenRatio = Math.Min(InitNewTokenRatio * options.ScheduleConservativeness, 1.0);
        _minNewTokenRatio = Math.Min(_initNewTokenRatio * MinNewTokenRatioFactor, 1.0);
        _newTokenRatioDecay = (_initNewTokenRatio - _minNewTokenRatio) / NewTokenRatioDecaySteps;
        NewTokenRatio = _initNewTokenRatio;
        // Longest request: it must fit the context and leave the pool one slot (SGLang's max_req_len).
        MaxReqLen = Math.Min(options.ContextLength - 1, options.MaxTotalTokens - 1);
    }

    public SchedulerOptions Options { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    public ReqToTokenPool ReqToTokenPool { get; }
    public TokenToKvPoolAllocator Allocator { get; }
    public IPrefixCache Cache { get; }
    public SchedulePolicy Policy { get; }
    public List<Req> Waiting { get; } = [];
    /// <summary>The decode batch: requests past their prefill.</summary>
    public List<Req> Running { get; } = [];
    /// <summary>The request whose prompt is being prefilled in chunks (continues in the next prefill batch).</summary>
    public Req? ChunkedReq { get; private set; }
    public double NewTokenRatio { get; private set; }
    public int MaxReqLen { get; }
    public long TotalRetracted { get; private set; }
    public bool HasWork => Waiting.Count > 0 || Running.Count > 0 || ChunkedReq != null || !_incoming.IsEmpty || !_aborts.IsEmpty;

    /// <summary>Queues a request (any thread). Throws ArgumentException if its prompt can never fit.</summary>
    public void AddRequest(Req req)
    {
        req.SamplingParams.Validate();
        if (req.InputLen >= MaxReqLen)
            throw new ArgumentException($"Request '{req.Rid}': the prompt has {req.InputLen} tokens but at most {MaxReqLen - 1} fit (context length {Options.ContextLength}, KV pool {Options.MaxTotalTokens} tokens). Shorten the prompt or raise --max-total-tokens / the context length.");
        req.MaxNewTokens = Math.Min(req.SamplingParams.MaxNewTokens, MaxReqLen - req.InputLen);
        req.ArrivalOrder = Interlocked.Increment(ref _arrivals);
        req.ArrivalTimestamp = Stopwatch.GetTimestamp();
        _incoming.Enqueue(req);
    }

    /// <summary>Cancels a request (any thread); takes effect at the next step boundary. Unknown ids are ignored.</summary>
    public void Abort(string rid, FinishReason? reason = null) => _aborts.Enqueue((rid, reason ?? FinishReason.Aborted("aborted by request")));

    /// <summary>
    /// Picks the next batch: a prefill batch if one can be formed, else a decode batch of the running requests.
    /// Returns null when there is nothing to run.
    /// </summary>
    public ScheduleBatch? ScheduleNext()
    {
        DrainIncoming();
        ScheduleBatch batch = _batches[_batchFlip];
        _batchFlip ^= 1;
        if (TryBuildPrefill(batch)) return batch;
        if (TryBuildDecode(batch)) return batch;
        NewTokenRatio = _initNewTokenRatio; // idle: the next burst starts from the initial estimate
        return null;
    }

    private void DrainIncoming()
    {
        while (_incoming.TryDequeue(out Req? req))
        {
            if (!_live.TryAdd(req.Rid, req))
            {
                // Not Finish(): that would drop the live request with the same id.
                req.FinishReason = FinishReason.Aborted($"duplicate request id '{req.Rid}': another request with this id is still running.");
                req.Status = ReqStatus.Finished;
                req.OnOutput?.Invoke(new ReqOutput(req, -1, 0, req.FinishReason));
                continue;
            }
            req.Status = ReqStatus.Waiting;
            Waiting.Add(req);
        }
        while (_aborts.TryDequeue(out var a))
        {
            if (!_live.TryGetValue(a.Rid, out Req? req)) continue;
            if (req == ChunkedReq) ChunkedReq = null;
            if (!Waiting.Remove(req)) Running.Remove(req);
            Finish(req, a.Reason, emit: true);
        }
    }

    /// <summary>Ends a request: KV to the cache (or freed), request slot freed, final event emitted.</summary>
    private void Finish(Req req, FinishReason reason, bool emit)
    {
        req.FinishReason = reason;
        req.Status = ReqStatus.Finished;
        req.FinishTimestamp = Stopwatch.GetTimestamp();
        if (req.PendingSteps > 0) ReleaseLaunchedSlot(req);
        Cache.CacheFinishedReq(req);
        _batchIsFull = false; // KV and a request slot came free: admission may succeed again
        _live.Remove(req.Rid);
        if (emit) req.OnOutput?.Invoke(new ReqOutput(req, -1, 0, reason));
    }

    /// <summary>Share of the KV pool held by requests (cached but evictable tokens do not count), as SGLang logs it.</summary>
    internal double TokenUsage => (double)(Allocator.Size - Allocator.AvailableSize - Cache.EvictableSize) / Allocator.Size;

    private void Log(string line) => _log?.Invoke(line);
}
