using Compiler.Runtime.Engine;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// Overlap scheduling (SGLang's event_loop_overlap): the next decode step is built while the current one is still on
/// the device. The engine launches it, then processes the current step's results; a request that finishes there
/// gives back the slot the next step gave it (<see cref="ReleaseLaunchedSlot"/>) and its row is discarded later.
/// A step is only built ahead when it is exactly the step the sequential loop would build once the current results
/// are in -- the same requests less those that finish by EOS/stop/abort (known only then), no prefill possible, no
/// eviction or retraction -- so the overlapped engine makes the same decisions and produces the same outputs. No
/// prefill is possible when nothing waits, or when the running batch stays full: every running request goes on
/// (none reaches max_new_tokens with the token in flight, and none can stop on it: ignore_eos, no stop token ids),
/// so the prefill check after the results still finds MaxRunningRequests running (SGLang's bench sends ignore_eos,
/// so its saturated runs overlap too).
/// </summary>
internal sealed partial class Scheduler
{
    /// <summary>
    /// The decode step after <paramref name="inFlight"/>, built before its results are known: each row whose input
    /// token is still on the device carries the placeholder -(r + 1), r = its row in <paramref name="inFlight"/>.
    /// Returns null when the next step depends on those results; the caller then waits for them and calls
    /// <see cref="ScheduleNext"/>. Allocates nothing.
    /// </summary>
    public ScheduleBatch? ScheduleNextOverlapped(ScheduleBatch inFlight)
    {
        // After an extend step its requests join Running only when processed; the next step must include them.
        if (inFlight.Mode != ForwardMode.Decode) return null;
        // Arrivals, chunked prompts, aborts of unknown requests: a prefill may be due, and whether it fits depends on
        // the KV that this step's finishing requests give back. Decided after the results, as without overlap.
        if (!_incoming.IsEmpty || ChunkedReq != null) return null;
        // The testing aid counts decode steps that are only logged once processed; keep it simple and sequential.
        if (Options.ForceRetractEvery > 0) return null;

        int bs = 0;
        bool mayStop = false; // some running request may finish on its in-flight token by EOS or a stop token id
        for (int i = 0; i < Running.Count; i++)
        {
            Req r = Running[i];
            // Every running request is in the in-flight decode step (Running only shrinks until it is processed).
            if (r.PendingSteps != 1) return null;
            if ((uint)r.LastSampleRow >= (uint)inFlight.SampleReqs.Count || inFlight.SampleReqs[r.LastSampleRow] != r)
                throw new InvalidOperationException($"Scheduler: running {r} has no sampling row {r.LastSampleRow} in the step in flight, so its placeholder would name another request's token (an overlap scheduling bug).");
            // max_new_tokens reached with the in-flight token: known now, left out as the sequential loop would.
            if (!FinishesByLength(r)) bs++;
            mayStop |= !r.SamplingParams.IgnoreEos || r.SamplingParams.StopTokenIds.Count > 0;
        }
        if (bs == 0) return null;
        // Queued prompts: admitted after the results unless the batch stays full (see the class summary). A queued
        // abort would free a place before the next step is built: decided after the results too.
        if (Waiting.Count > 0 && (mayStop || bs < Options.MaxRunningRequests || !_aborts.IsEmpty)) return null;
        // Enough free slots without eviction or retraction. The sequential loop, seeing the results first, has at
        // least as many free (finishing requests only give KV back) for at most as many rows: it would not evict
        // or retract either. Otherwise wait, so eviction order and retraction victims stay the same.
        if (Allocator.AvailableSize < bs) return null;

        NewTokenRatio = Math.Max(NewTokenRatio - _newTokenRatioDecay, _minNewTokenRatio);
        ScheduleBatch batch = _batches[_batchFlip];
        _batchFlip ^= 1;
        FillDecode(batch, bs, skipLengthFinishers: true);
        return batch;
    }

    /// <summary>Takes new requests and applies aborts (the engine calls it after processing a step launched ahead).</summary>
    public void AcceptIncoming() => DrainIncoming();

    /// <summary>The request's tokens still on the device complete its max_new_tokens.</summary>
    private static bool FinishesByLength(Req r) => r.OutputLen + r.PendingSteps >= r.MaxNewTokens;

    /// <summary>
    /// The request finishes while a launched step still holds a decode row of it: give back that row's KV slot (the
    /// last of its row) so the KV bookkeeping is exactly as if it had finished before that step was built. The
    /// device may still write the slot; it is handed out again only to a step launched after that one.
    /// </summary>
    private void ReleaseLaunchedSlot(Req req)
    {
        if (req.PendingSteps != 1 || req.ReqPoolIdx < 0 || req.KvLen != req.Tokens.Count || req.KvLen <= req.PrefixLen)
            throw new InvalidOperationException($"Scheduler: {req} finishes with {req.PendingSteps} launched step(s) pending but its last KV slot is not a pending decode slot (an overlap scheduling bug).");
        int last = req.KvLen - 1;
        Allocator.Free(ReqToTokenPool.ReadRow(req.ReqPoolIdx, req.KvLen)[last..]);
        req.KvLen = last;
    }

    /// <summary>
    /// Recovery after a failed step: launched steps will never be processed. Slots of positions whose input token
    /// never reached the host are given back, so the request can be cached and flushed like any other.
    /// </summary>
    private void ForgetLaunchedSteps(Req req)
    {
        req.PendingSteps = 0;
        if (req.ReqPoolIdx < 0 || req.KvLen <= req.Tokens.Count) return;
        int keep = Math.Max(req.Tokens.Count, req.PrefixLen);
        Allocator.Free(ReqToTokenPool.ReadRow(req.ReqPoolIdx, req.KvLen)[keep..]);
        req.KvLen = keep;
    }
}
