using System.Runtime.InteropServices;
using Compiler.Runtime.Cache;
using Compiler.Runtime.Engine;

namespace Compiler.Runtime.Scheduling;

internal sealed partial class Scheduler
{
    /// <summary>SGLang's get_new_batch_prefill + prepare_for_extend (+ mix_with_running).</summary>
    private bool TryBuildPrefill(ScheduleBatch batch)
    {
        // batch_is_full: the last attempt ran out of KV or request slots; nothing can fit until a request leaves,
        // so skip matching the whole queue every decode step (SGLang does the same).
        if ((_batchIsFull || Running.Count >= Options.MaxRunningRequests || Waiting.Count == 0) && ChunkedReq == null) return false;
        // A cache-aware policy has just matched every waiting request against the tree; nothing changes the tree
        // before the loop below except splits, which keep each earlier match's LastNode valid.
        bool matched = Waiting.Count > 0 && SchedulePolicy.IsCacheAware(Policy.CalcPriority(Waiting));

        int mixedDecodeTokens = Options.EnableMixedChunk ? Running.Count : 0;
        PrefillAdder adder = _adder;
        adder.Reset(Running, NewTokenRatio, Options.MaxPrefillTokens, Options.ChunkedPrefillSize, mixedDecodeTokens, Options.MaxLogitsRows);

        Req? continuing = ChunkedReq;
        if (continuing != null)
        {
            continuing.ExtendInputLen = continuing.Tokens.Count - continuing.PrefixLen;
            ChunkedReq = adder.AddChunkedReq(continuing);
        }
        // The chunked request holds a request slot whether or not it got budget this round.
        int held = Running.Count + (continuing != null ? 1 : 0);
        int continuingAdded = continuing != null && adder.CanRunList.Count > 0 ? 1 : 0;

        foreach (Req req in Waiting)
        {
            if (held + adder.CanRunList.Count - continuingAdded >= Options.MaxRunningRequests)
            {
                _batchIsFull = true;
                break;
            }
            // The policy matched all but the last token; prompt logprobs may cap the prefix lower (then match again).
            int maxPrefix = MaxPrefixLen(req);
            if (!matched || req.PrefixLen > maxPrefix)
            {
                MatchResult m = Cache.MatchPrefix(CollectionsMarshal.AsSpan(req.Tokens)[..maxPrefix]);
                req.PrefixLen = m.PrefixLen;
                req.LastNode = m.LastNode;
            }
            req.ExtendInputLen = req.Tokens.Count - req.PrefixLen;
            AddReqResult res = adder.AddOneReq(req);
            if (adder.CanRunList.Count > 0 && adder.CanRunList[^1] == req) req.Admitted = true;
            else { req.PrefixLen = 0; req.LastNode = null; }
            if (res != AddReqResult.Continue)
            {
                // Only if something holds KV: its finishing clears the flag (otherwise we could wait forever).
                if (res == AddReqResult.NoToken && (Running.Count > 0 || adder.CanRunList.Count > 0)) _batchIsFull = true;
                break;
            }
        }
        if (adder.CanRunList.Count == 0) return false;

        // Remove admitted requests from the queue, keeping the order of the rest.
        int w = 0;
        for (int i = 0; i < Waiting.Count; i++)
        {
            Req r = Waiting[i];
            if (r.Admitted) { r.Admitted = false; continue; }
            Waiting[w++] = r;
        }
        Waiting.RemoveRange(w, Waiting.Count - w);
        if (adder.NewChunkedReq != null) ChunkedReq = adder.NewChunkedReq;

        // Logged before allocation, like SGLang: token usage is what the batch starts from.
        if (_log != null)
            Log($"Prefill batch. #new-seq: {adder.CanRunList.Count}, #new-token: {adder.LogInputTokens}, #cached-token: {adder.LogHitTokens}, " +
                $"token usage: {TokenUsage:F2}, #running-req: {Running.Count}, #queue-req: {Waiting.Count}, cache hit rate: {Cache.HitStats.HitRate * 100:F1}%");
        PrepareForExtend(batch, adder.CanRunList, mixedDecodeTokens > 0);
        return true;
    }

    private void PrepareForExtend(ScheduleBatch batch, List<Req> extendReqs, bool tryMix)
    {
        int extendTokens = 0;
        foreach (Req r in extendReqs) extendTokens += r.ExtendInputLen;
        // Decode requests ride along only if their slots fit too; otherwise they simply wait for the next decode step.
        bool mix = tryMix && EnsureAvailable(extendTokens + Running.Count);
        if (!mix && !EnsureAvailable(extendTokens))
            throw new InvalidOperationException($"Scheduler: prefill needs {extendTokens} KV slots but only {Allocator.AvailableSize} are free after eviction; the PrefillAdder budget was wrong (a bug).");

        int decodeReqs = mix ? Running.Count : 0;
        batch.Clear();
        ForwardBatch fb = batch.Forward;
        fb.Reset(mix ? ForwardMode.Mixed : ForwardMode.Extend, extendTokens + decodeReqs, extendReqs.Count + decodeReqs);
        fb.NumExtendReqs = extendReqs.Count;
        if (!Allocator.TryAlloc(fb.OutCacheLoc)) throw new InvalidOperationException("Scheduler: KV allocation failed after the availability check.");

        Span<int> inputIds = fb.InputIds, positions = fb.Positions, outLoc = fb.OutCacheLoc;
        int t = 0;
        for (int i = 0; i < extendReqs.Count; i++)
        {
            Req req = extendReqs[i];
            if (req.ReqPoolIdx < 0)
            {
                req.ReqPoolIdx = ReqToTokenPool.Alloc();
                if (req.ReqPoolIdx < 0) throw new InvalidOperationException($"Scheduler: no free request slot for {req.Rid}; running + new exceeded max-running-requests (a bug).");
                Cache.CopyPrefixIndices(req.LastNode ?? Cache.Root, req.PrefixLen, ReqToTokenPool.Row(req.ReqPoolIdx));
                req.KvLen = req.PrefixLen;
                req.Status = ReqStatus.Running;
                if (!req.EverAdmitted)
                {
                    req.EverAdmitted = true;
                    req.CachedTokens = req.PrefixLen;
                    Cache.HitStats.RecordAdmission(req.PrefixLen, req.InputLen);
                }
            }
            int start = req.PrefixLen, ext = req.ExtendInputLen;
            Span<int> row = ReqToTokenPool.Row(req.ReqPoolIdx);
            for (int j = 0; j < ext; j++, t++)
            {
                int pos = start + j;
                inputIds[t] = req.Tokens[pos];
                positions[t] = pos;
                row[pos] = outLoc[t];
            }
            req.KvLen = start + ext;
            fb.ReqPoolIndices[i] = req.ReqPoolIdx;
            fb.ExtendPrefixLens[i] = start;
            fb.ExtendSeqLens[i] = ext;
            fb.SeqLens[i] = req.KvLen;
            batch.Reqs.Add(req);
            req.PendingSteps++;
            if (req.KvLen == req.Tokens.Count)
            {
                // max_new_tokens 0 (prompt scoring only): nothing to sample.
                if (req.MaxNewTokens > 0) AddSampleRow(batch, req, t - 1);
            }
            else
            {
                batch.ChunkedReq = req;
                req.ChunkCount++;
            }
        }
        if (mix) AppendDecodeRows(batch, extendReqs.Count, t);
        AddScoringRows(batch, extendReqs);
    }

    /// <summary>
    /// SGLang's init_next_round_input: match all but the last token (it must be computed to get logits), and for a
    /// request whose prompt logprobs are still due, no further than the first position that needs a logits row --
    /// cached positions have no logits, so they are computed again (their duplicate KV is freed on insertion).
    /// </summary>
    private static int MaxPrefixLen(Req req)
    {
        int max = req.Tokens.Count - 1;
        if (req.InputLogprobs is { IsComplete: false } lp) max = Math.Min(max, lp.NextRowPosition);
        return max;
    }

    /// <summary>
    /// Prompt-scoring rows, after every sampling row: for each extend request with prompt logprobs due, the positions
    /// of this extend from the next one to score up to the second-to-last prompt token (the last one's row samples).
    /// </summary>
    private static void AddScoringRows(ScheduleBatch batch, List<Req> extendReqs)
    {
        ForwardBatch fb = batch.Forward;
        int t = 0;
        for (int i = 0; i < extendReqs.Count; i++)
        {
            Req req = extendReqs[i];
            int start = fb.ExtendPrefixLens[i], ext = fb.ExtendSeqLens[i];
            if (req.InputLogprobs is { IsComplete: false } lp)
            {
                int from = lp.NextRowPosition, to = Math.Min(start + ext, req.InputLen - 1);
                if (from < start)
                    throw new InvalidOperationException($"Scheduler: {req} extends from position {start} but its prompt logprobs need the row of position {from}; the prefix match was not capped (a bug).");
                if (to > from)
                {
                    batch.InputLogprobSpans.Add(new InputLogprobSpan(req, fb.NumLogitsRows, from, to - from));
                    for (int q = from; q < to; q++) fb.AddScoringRow(t + q - start);
                }
            }
            t += ext;
        }
    }

    private static void AddSampleRow(ScheduleBatch batch, Req req, int tokenIndex)
    {
        req.LastSampleRow = batch.Forward.NumSampleRows;
        batch.Forward.AddLogitsRow(tokenIndex);
        batch.SampleReqs.Add(req);
    }

    /// <summary>Makes at least n KV slots free, evicting unlocked cache leaves if needed.</summary>
    private bool EnsureAvailable(int n)
    {
        if (Allocator.AvailableSize < n) Cache.Evict(n - Allocator.AvailableSize);
        return Allocator.AvailableSize >= n;
    }
}
