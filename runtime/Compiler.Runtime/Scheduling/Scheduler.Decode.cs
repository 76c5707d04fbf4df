using Compiler.Runtime.Engine;

namespace Compiler.Runtime.Scheduling;

internal sealed partial class Scheduler
{
    /// <summary>SGLang's update_running_batch + prepare_for_decode: one new token per running request.</summary>
    private bool TryBuildDecode(ScheduleBatch batch)
    {
        if (Running.Count == 0) return false;
        bool forced = Options.ForceRetractEvery > 0 && Running.Count > 1 && (_decodeSteps + 1) % Options.ForceRetractEvery == 0;
        if (forced || Allocator.AvailableSize + Cache.EvictableSize < Running.Count)
            RetractDecode();
        else
            NewTokenRatio = Math.Max(NewTokenRatio - _newTokenRatioDecay, _minNewTokenRatio);

        int bs = Running.Count;
        if (!EnsureAvailable(bs))
            throw new InvalidOperationException($"Scheduler: decode of {bs} requests needs {bs} KV slots but only {Allocator.AvailableSize} are free after retraction.");
        FillDecode(batch, bs, skipLengthFinishers: false);
        return true;
    }

    /// <summary>A decode batch of <paramref name="bs"/> rows (free KV slots already checked): one slot each, then the rows.</summary>
    private void FillDecode(ScheduleBatch batch, int bs, bool skipLengthFinishers)
    {
        batch.Clear();
        batch.Forward.Reset(ForwardMode.Decode, bs, bs);
        if (!Allocator.TryAlloc(batch.Forward.OutCacheLoc)) throw new InvalidOperationException("Scheduler: KV allocation failed after the availability check.");
        AppendDecodeRows(batch, 0, 0, skipLengthFinishers);
    }

    /// <summary>
    /// Adds every running request as a one-token row; its KV slot is already in OutCacheLoc[firstToken + i]. With
    /// <paramref name="skipLengthFinishers"/> (overlap), requests whose in-flight token is their last are left out.
    /// </summary>
    private void AppendDecodeRows(ScheduleBatch batch, int firstReq, int firstToken, bool skipLengthFinishers = false)
    {
        ForwardBatch fb = batch.Forward;
        Span<int> inputIds = fb.InputIds, positions = fb.Positions, outLoc = fb.OutCacheLoc;
        int n = 0;
        for (int i = 0; i < Running.Count; i++)
        {
            Req req = Running[i];
            if (skipLengthFinishers && FinishesByLength(req)) continue;
            int t = firstToken + n, b = firstReq + n, pos = req.KvLen;
            n++;
            // The last sampled token, not yet in KV; still on the device if the step that samples it is in flight
            // (overlap): then a placeholder naming that step's logits row, which the runner resolves.
            inputIds[t] = pos < req.Tokens.Count ? req.Tokens[pos] : -(req.LastSampleRow + 1);
            req.PendingSteps++;
            positions[t] = pos;
            ReqToTokenPool.Row(req.ReqPoolIdx)[pos] = outLoc[t];
            req.KvLen = pos + 1;
            fb.ReqPoolIndices[b] = req.ReqPoolIdx;
            fb.ExtendPrefixLens[b] = pos;
            fb.ExtendSeqLens[b] = 1;
            fb.SeqLens[b] = pos + 1;
            batch.Reqs.Add(req);
            AddSampleRow(batch, req, t);
        }
    }

    /// <summary>
    /// Out of KV for the next decode step: puts running requests back in the waiting queue (SGLang's retract_decode).
    /// Victims are those with the fewest generated tokens, then the longest prompts (least work lost, most memory
    /// won). Their computed KV goes into the radix tree as evictable, so re-prefilling them may hit the cache;
    /// the request keeps its generated tokens, penalties and RNG, so it later finishes exactly as if never interrupted.
    /// </summary>
    private void RetractDecode()
    {
        // Sorted so the next victim is at the end: descending by (output len, -input len).
        Running.Sort(static (a, b) =>
        {
            int c = b.OutputLen.CompareTo(a.OutputLen);
            if (c != 0) return c;
            c = a.InputLen.CompareTo(b.InputLen);
            return c != 0 ? c : a.ArrivalOrder.CompareTo(b.ArrivalOrder);
        });
        int retracted = 0;
        double oldRatio = NewTokenRatio;
        while (retracted == 0 || Allocator.AvailableSize + Cache.EvictableSize < Running.Count)
        {
            if (Running.Count == 1)
            {
                if (Allocator.AvailableSize + Cache.EvictableSize >= 1) break;
                Req only = Running[0];
                throw new InvalidOperationException($"Scheduler: out of KV memory with a single running request ({only.Rid}, {only.KvLen} tokens); --max-total-tokens {Options.MaxTotalTokens} is too small for it.");
            }
            Req victim = Running[^1];
            Running.RemoveAt(Running.Count - 1);
            Cache.CacheFinishedReq(victim);
            victim.Status = ReqStatus.Waiting;
            victim.RetractCount++;
            Waiting.Add(victim);
            retracted++;
        }
        TotalRetracted += retracted;
        _batchIsFull = false;

        long decoded = 0, maxNew = 0;
        foreach (Req r in Running) { decoded += r.OutputLen; maxNew += r.MaxNewTokens; }
        NewTokenRatio = Math.Min(1.0, (decoded + (double)RetractDecodeSteps * Running.Count) / (maxNew + 1));
        Log($"Decode out of memory happened. #retracted_reqs: {retracted}, #new_token_ratio: {oldRatio:F4} -> {NewTokenRatio:F4}");
    }
}
