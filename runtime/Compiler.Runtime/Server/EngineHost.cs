using System.Collections.Concurrent;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Server;

/// <summary>
/// Owns the <see cref="InferenceEngine"/> on one dedicated thread: nothing else touches a Req or the scheduler.
/// Other threads hand it commands (submit, abort, stop-string finish, queries) through a lock-free queue and wake
/// it; it runs steps while there is work and sleeps on an event when idle. Each request's outputs go to its own
/// <see cref="RequestStream"/>. A failing step fails the requests in flight (HTTP 500), resets the scheduler and
/// keeps serving; only if that recovery fails too is the engine marked unusable (<see cref="FatalError"/>).
/// </summary>
internal sealed class EngineHost : IDisposable
{
    private readonly InferenceEngine _engine;
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Dictionary<string, RequestStream> _live = new(StringComparer.Ordinal); // engine thread only
    private readonly Action<string> _log;
    private readonly Thread _thread;
    private volatile bool _stopping;
    private volatile string? _fatalError;

    public EngineHost(InferenceEngine engine, ServerMetrics metrics, Action<string>? log = null)
    {
        _engine = engine;
        _log = log ?? (_ => { });
        Metrics = metrics;
        MaxReqLen = engine.Scheduler.MaxReqLen;
        ContextLength = engine.Scheduler.Options.ContextLength;
        VocabSize = engine.VocabSize;
        _thread = new Thread(Loop) { IsBackground = true, Name = "engine" };
        _thread.Start();
    }

    public ServerMetrics Metrics { get; }
    /// <summary>Longest prompt + output a request may have (context and KV pool permitting).</summary>
    public int MaxReqLen { get; }
    public int ContextLength { get; }
    public int VocabSize { get; }
    /// <summary>Set when a failed step could not be recovered from; every request then fails with it.</summary>
    public string? FatalError => _fatalError;

    /// <summary>Queues a request; its events (or its failure) arrive on <see cref="RequestStream.Events"/>.</summary>
    public void Submit(RequestStream stream) => Post(() => DoSubmit(stream));

    /// <summary>Cancels a request (client gone); its KV returns to the pool at the next step boundary.</summary>
    public void Abort(string rid) => Post(() => _engine.Abort(rid));

    /// <summary>The detokenizer matched a stop string: end the request as "stop" at the next step boundary.</summary>
    public void FinishWithStopString(string rid, string stop) => Post(() => _engine.FinishWithStopString(rid, stop));

    /// <summary>Runs <paramref name="query"/> on the engine thread between two steps.</summary>
    public Task<T> InvokeAsync<T>(Func<InferenceEngine, T> query)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            try { done.SetResult(query(_engine)); }
            catch (Exception e) { done.SetException(e); }
        });
        if (_stopping) done.TrySetException(new ObjectDisposedException(nameof(EngineHost), "The engine is shutting down."));
        return done.Task;
    }

    public Task<EngineSnapshot> SnapshotAsync() => InvokeAsync(e =>
    {
        var s = e.Scheduler;
        return new EngineSnapshot(s.Waiting.Count, s.Running.Count, s.ChunkedReq != null, _live.Count,
            s.Allocator.Size, s.Allocator.AvailableSize, s.Cache.EvictableSize, s.Cache.ProtectedSize,
            s.ReqToTokenPool.Size, s.ReqToTokenPool.AvailableSize, s.TokenUsage, s.Cache.HitStats.HitRate, e.Steps);
    });

    /// <summary>SGLang's /flush_cache: true if the cache was flushed, false if requests are in flight.</summary>
    public Task<bool> FlushCacheAsync() => InvokeAsync(e => e.FlushCache()); // drains a launched step first

    private void Post(Action command)
    {
        _commands.Enqueue(command);
        _wake.Set();
    }

    private void Loop()
    {
        var scheduler = _engine.Scheduler;
        while (true)
        {
            // Reset before draining: a command posted after the drain sets the event again, so Wait returns at once.
            _wake.Reset();
            DrainCommands();
            if (_stopping) break;
            bool ran = false;
            // The engine's HasWork: a launched step whose requests are neither waiting nor running still needs processing.
            if (_engine.HasWork && _fatalError == null)
            {
                try { ran = _engine.RunStep(); }
                catch (Exception e) { OnStepFailed(e); }
                PublishGauges(scheduler);
            }
            if (ran) continue;
            // Work that could not be scheduled yet (e.g. only aborts were drained): re-check soon, no busy spin.
            if (_engine.HasWork && _fatalError == null) _wake.Wait(1);
            else _wake.Wait();
        }
        foreach (var stream in _live.Values) stream.Fail("The server is shutting down.", 503);
        _live.Clear();
    }

    private void DrainCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            try { command(); }
            catch (Exception e) { _log($"Engine command failed: {e}"); }
        }
    }

    private void DoSubmit(RequestStream stream)
    {
        if (_stopping)
        {
            stream.Fail("The server is shutting down.", 503);
            return;
        }
        if (_fatalError is { } fatal)
        {
            stream.Fail(fatal, 500);
            return;
        }
        if (!_live.TryAdd(stream.Rid, stream))
        {
            stream.Fail($"Request id '{stream.Rid}' is already in use by a running request; use a unique rid.", 400);
            return;
        }
        try
        {
            _engine.Submit(stream.Rid, stream.InputIds, stream.Sampling, o => OnOutput(stream, o));
        }
        catch (ArgumentException e)
        {
            _live.Remove(stream.Rid);
            stream.Fail(e.Message, 400);
        }
    }

    /// <summary>Engine thread, inside a step: must neither block nor throw.</summary>
    private void OnOutput(RequestStream stream, ReqOutput o)
    {
        try
        {
            long now = RequestStream.Now;
            Req req = o.Req; // one Req per stream: its output length counts exactly the tokens published so far
            if (o.HasToken)
            {
                if (req.OutputLen == 1) Metrics.ObserveFirstToken(req.ArrivalTimestamp, now);
                else Metrics.ObserveNextToken(stream.LastTokenTimestamp, now);
                stream.LastTokenTimestamp = now;
            }
            var top = o.HasToken ? RequestStream.LastTop(req) : null;
            var input = req.InputLogprobs is { IsComplete: true } lp ? lp : null;
            stream.Publish(new StreamEvent(o.TokenId, o.Logprob, top, o.Finish, req.CachedTokens, InputLogprobs: input));
            if (o.Finish is { } finish && _live.Remove(stream.Rid))
            {
                double e2e = ServerMetrics.Seconds(req.ArrivalTimestamp, now);
                Metrics.ObserveFinished(req.InputLen, req.OutputLen, req.CachedTokens, e2e, finish.Kind == FinishKind.Abort);
                _log($"Finish: rid={stream.Rid}, prompt_tokens={req.InputLen}, completion_tokens={req.OutputLen}, " +
                     $"cached_tokens={req.CachedTokens}, finish_reason={Describe(finish)}, e2e_latency={e2e:F3}s");
            }
        }
        catch (Exception e)
        {
            _log($"Output handling of {stream.Rid} failed: {e}");
        }
    }

    private void OnStepFailed(Exception error)
    {
        string message = $"The engine failed while running this request ({error.GetType().Name}: {error.Message}); the request was aborted.";
        _log($"Engine step failed; failing {_live.Count} request(s) in flight: {error}");
        foreach (var stream in _live.Values) stream.Fail(message, 500);
        _live.Clear();
        try
        {
            int ended = _engine.AbortAll(FinishReason.Aborted(message));
            _log($"Engine recovered: {ended} request(s) ended, prefix cache flushed.");
        }
        catch (Exception recovery)
        {
            _fatalError = $"The engine is unusable after a failed step ({error.Message}) and a failed recovery ({recovery.Message}); restart the server.";
            _log(_fatalError + Environment.NewLine + recovery);
        }
    }

    private void PublishGauges(Scheduler s) =>
        Metrics.SetSchedulerGauges(s.Running.Count + (s.ChunkedReq != null ? 1 : 0), // a chunked prompt is not in Running yet
            s.Waiting.Count, s.TokenUsage, s.Cache.HitStats.HitRate);

    private static string Describe(FinishReason f) => f.Kind switch
    {
        FinishKind.Length => "length",
        FinishKind.Stop when f.MatchedStop != null => $"stop (matched \"{f.MatchedStop}\")",
        FinishKind.Stop => $"stop (matched token {f.MatchedTokenId})",
        _ => $"abort ({f.Message})",
    };

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Set();
        _thread.Join();
        // Commands posted during shutdown: the engine thread is gone, so run them here (submissions fail with 503).
        while (_commands.TryDequeue(out var command))
        {
            try { command(); }
            catch (Exception) { /* the engine thread is gone; a failing late command has no one to report to */ }
        }
        _wake.Dispose();
    }
}
