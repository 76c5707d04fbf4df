using System.Diagnostics;
using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Scheduling;

internal sealed partial class Scheduler
{
    /// <summary>
    /// Applies a step's sampled tokens (one per SampleReqs entry): appends them, checks stop conditions, streams
    /// them out, caches prompts of requests that finished prefill, and releases finished requests. Under overlap
    /// scheduling a decode row of a request that finished after the step was launched (at the step before, or by an
    /// abort) is discarded: its token is dropped, as that request would not have been in the step without overlap.
    /// Returns false when every row was discarded (a step the sequential loop would not have run).
    /// </summary>
    public bool ProcessBatchResult(ScheduleBatch batch, ReadOnlySpan<SampleResult> results)
    {
        if (results.Length != batch.SampleReqs.Count)
            throw new ArgumentException($"ProcessBatchResult: got {results.Length} samples for {batch.SampleReqs.Count} sampling requests.");
        // From here on a request that finishes holds a slot of this step only if a later launched step holds it too.
        for (int i = 0; i < batch.Reqs.Count; i++) batch.Reqs[i].PendingSteps--;
        int row = 0;
        for (int i = 0; i < batch.NumExtendReqs && batch.Mode != ForwardMode.Decode; i++)
        {
            Req req = batch.Reqs[i];
            // Steps launched ahead are decode-only (ScheduleNextOverlapped), so no extend row can be stale.
            if (req.IsFinished) throw new InvalidOperationException($"ProcessBatchResult: extend row of {req} which finished before its step was processed (an overlap scheduling bug).");
            if (req == batch.ChunkedReq)
            {
                // Prompt not done: make the computed part a cached prefix so the next chunk (and others) reuse it.
                Cache.CacheUnfinishedReq(req);
                continue;
            }
            if (req.MaxNewTokens == 0)
            {
                // Prompt scoring only (max_new_tokens 0): the prompt is in KV, nothing was sampled.
                Finish(req, FinishReason.Length, emit: true);
                continue;
            }
            if (AppendToken(req, results[row++]))
                Finish(req, req.FinishReason!, emit: false);
            else
            {
                // Share the prompt with later requests while this one decodes (SGLang caches it right after prefill).
                Cache.CacheUnfinishedReq(req);
                Running.Add(req);
            }
        }
        if (batch.Mode == ForwardMode.Extend) return true;

        // Decode rows (Decode mode, or the tail of a Mixed batch) are the running requests, in order.
        int first = batch.Mode == ForwardMode.Mixed ? batch.NumExtendReqs : 0;
        int generated = 0;
        for (int i = first; i < batch.Reqs.Count; i++)
        {
            Req req = batch.Reqs[i];
            if (req.IsFinished)
            {
                // Overlap: finished after this step was launched; its KV slot was given back when it finished.
                row++;
                continue;
            }
            generated++;
            if (req.MaxNewTokens == 0)
            {
                // Prompt scoring only (max_new_tokens 0): the prompt is in KV, nothing was sampled.
                Finish(req, FinishReason.Length, emit: true);
                continue;
            }
            if (AppendToken(req, results[row++])) Finish(req, req.FinishReason!, emit: false);
        }
        int w = 0;
        for (int i = 0; i < Running.Count; i++) if (!Running[i].IsFinished) Running[w++] = Running[i];
        Running.RemoveRange(w, Running.Count - w);

        if (batch.Mode == ForwardMode.Decode)
        {
            if (generated == 0)
            {
                // A decode step launched ahead whose requests all finished meanwhile: the sequential loop would have
                // found nothing to run and reset the ratio there (ScheduleNext returning null).
                NewTokenRatio = _initNewTokenRatio;
                return false;
            }
            LogDecode(generated);
        }
        return true;
    }

    /// <summary>Appends a sampled token, streams it; returns true if the request is now finished.</summary>
    private bool AppendToken(Req req, SampleResult s)
    {
        int tok = s.TokenId;
        if (req.OutputLen == 0) req.FirstTokenTimestamp = Stopwatch.GetTimestamp();
        req.Tokens.Add(tok);
        req.Penalties?.Observe(tok);
        req.OutputLogprobs?.Add(s.Logprob);
        var p = req.SamplingParams;
        FinishReason? finish = null;
        if (req.OutputLen >= req.MaxNewTokens) finish = FinishReason.Length;
        else if (req.OutputLen > p.MinNewTokens)
        {
            if (Contains(p.StopTokenIds, tok) || (!p.IgnoreEos && Contains(EosTokenIds, tok)))
                finish = new FinishReason(FinishKind.Stop, MatchedTokenId: tok);
        }
        req.FinishReason = finish;
        req.OnOutput?.Invoke(new ReqOutput(req, tok, s.Logprob, finish));
        return finish != null;
    }

    private static bool Contains(IReadOnlyList<int> ids, int tok)
    {
        for (int i = 0; i < ids.Count; i++) if (ids[i] == tok) return true;
        return false;
    }

    private void LogDecode(int generated)
    {
        _decodeTokensSinceLog += generated;
        if (++_decodeSteps % Options.DecodeLogInterval != 0 || _log == null) return;
        long now = Stopwatch.GetTimestamp();
        double seconds = Stopwatch.GetElapsedTime(_lastDecodeLogTicks, now).TotalSeconds;
        double throughput = seconds > 0 ? _decodeTokensSinceLog / seconds : 0;
        _lastDecodeLogTicks = now;
        _decodeTokensSinceLog = 0;
        int used = Allocator.Size - Allocator.AvailableSize - Cache.EvictableSize;
        Log($"Decode batch. #running-req: {Running.Count}, #token: {used}, token usage: {TokenUsage:F2}, cache hit rate: {Cache.HitStats.HitRate * 100:F1}%, " +
            $"gen throughput (token/s): {throughput:F2}, #queue-req: {Waiting.Count}");
    }
}
