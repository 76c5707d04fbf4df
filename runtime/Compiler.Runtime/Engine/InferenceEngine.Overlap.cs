using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Engine;

/// <summary>
/// The overlapped loop (SGLang's event_loop_overlap): launch(N); [schedule N+1]; launch(N+1); wait(N);
/// process(N); [schedule N+2]; launch(N+2); wait(N+1); ... The scheduler builds N+1 ahead only when it is exactly
/// the step it would build after N's results (Scheduler.Overlap.cs); otherwise the loop drains -- waits for N,
/// processes it, and schedules with nothing in flight, as the sequential loop does. Steps that sample on the host
/// (temperature, logprobs, penalties, min_new_tokens, prompt logprobs) run sequentially.
/// </summary>
internal sealed partial class InferenceEngine
{
    private readonly IOverlapGreedyForward? _overlap;
    /// <summary>The newest launched step whose results are not processed yet.</summary>
    private ScheduleBatch? _inFlight;
    /// <summary>Launched steps not yet waited for (a failed wait counts as waited).</summary>
    private int _unwaited;

    /// <summary>True when steps are launched ahead (the runner can, and --disable-overlap-schedule is not set).</summary>
    public bool OverlapEnabled => _overlap != null;

    private bool RunOverlappedStep()
    {
        bool processed = false;
        if (_inFlight is { } current)
        {
            ScheduleBatch? next = Scheduler.ScheduleNextOverlapped(current);
            if (next != null)
            {
                // A subset of the greedy step in flight, one token further: greedy too.
                if (!CanLaunch(next)) throw new InvalidOperationException("InferenceEngine: a decode step built ahead needs host sampling (a scheduler bug).");
                Launch(next); // before waiting: this is the overlap
            }
            _inFlight = next;
            ProcessLaunched(current);
            if (next != null) return true;
            processed = true; // drained: schedule below with nothing in flight
        }
        ScheduleBatch? batch = Scheduler.ScheduleNext();
        if (batch == null) return processed;
        if (!CanLaunch(batch))
        {
            RunSequentialStep(batch);
            return true;
        }
        Launch(batch);
        _inFlight = batch;
        return true;
    }

    /// <summary>
    /// Waits for and processes the step in flight, if any (before anything it could conflict with: flush_cache,
    /// host-side sampling). Afterwards nothing is on the device.
    /// </summary>
    public void Drain()
    {
        if (_inFlight is not { } current) return;
        _inFlight = null;
        ProcessLaunched(current);
    }

    /// <summary>SGLang's flush_cache, after draining the step in flight (its requests still hold KV until processed).</summary>
    public bool FlushCache()
    {
        Drain();
        return Scheduler.FlushCache();
    }

    /// <summary>
    /// Recovery after a failed step: forgets the launched steps (waiting for any the runner still holds, ignoring
    /// their errors) and ends every request (<see cref="Scheduler.AbortAll"/>).
    /// </summary>
    public int AbortAll(FinishReason reason)
    {
        _inFlight = null;
        while (_unwaited > 0)
        {
            _unwaited--;
            try { _overlap!.WaitGreedy(_greedyTokens); }
            catch (Exception) { /* the step failed as well; its results are dropped either way */ }
        }
        return Scheduler.AbortAll(reason);
    }

    /// <summary>Every row samples greedily from its last token's logits: the runner's argmax is the whole answer.</summary>
    private static bool CanLaunch(ScheduleBatch batch)
    {
        int rows = batch.Forward.NumLogitsRows;
        return rows > 0 && rows == batch.Forward.NumSampleRows && ArgmaxIsEnough(batch, rows);
    }

    private void Launch(ScheduleBatch batch)
    {
        int rows = batch.Forward.NumLogitsRows;
        if (rows != batch.SampleReqs.Count || rows != batch.Forward.NumSampleRows)
            throw new InvalidOperationException($"InferenceEngine: a launched step has {rows} logits rows for {batch.SampleReqs.Count} sampling requests (a scheduler bug).");
        if (_greedyTokens.Length < rows) _greedyTokens = new int[Math.Max(rows, _greedyTokens.Length * 2)];
        if (_results.Length < rows) _results = new SampleResult[Math.Max(rows, _results.Length * 2)];
        _overlap!.LaunchGreedy(batch.Forward);
        _unwaited++;
    }

    private void ProcessLaunched(ScheduleBatch batch)
    {
        int rows = batch.Forward.NumLogitsRows;
        _unwaited--;
        _overlap!.WaitGreedy(_greedyTokens.AsSpan(0, rows));
        for (int r = 0; r < rows; r++) _results[r] = new SampleResult(_greedyTokens[r], float.NaN);
        if (Scheduler.ProcessBatchResult(batch, _results.AsSpan(0, rows))) Steps++;
        // Aborts and stop strings that came in while the step ran take effect now, right after its results, as in
        // the sequential loop; a step already launched then drops their rows.
        Scheduler.AcceptIncoming();
    }
}
