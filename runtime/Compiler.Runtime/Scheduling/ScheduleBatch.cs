using Compiler.Runtime.Engine;

namespace Compiler.Runtime.Scheduling;

/// <summary>
/// The scheduler's view of one step (SGLang's ScheduleBatch): which requests run, in ForwardBatch order, which of
/// them sample (in logits-row order), which rows score prompt tokens, and the ForwardBatch for the model. Reused across steps.
/// </summary>
internal sealed class ScheduleBatch
{
    public ScheduleBatch(ForwardBatch forward) => Forward = forward;

    public ForwardBatch Forward { get; }
    /// <summary>The ForwardBatch's mode: it is set when the step sizes the ForwardBatch.</summary>
    public ForwardMode Mode => Forward.Mode;
    /// <summary>Reqs [0, NumExtendReqs) extend, as the ForwardBatch's requests do.</summary>
    public int NumExtendReqs => Forward.NumExtendReqs;
    /// <summary>Requests in batch order: extend requests first, then (Mixed) decode requests.</summary>
    public List<Req> Reqs { get; } = [];
    /// <summary>Requests that sample this step, in logits-row order.</summary>
    public List<Req> SampleReqs { get; } = [];
    /// <summary>Prompt-scoring rows (input logprobs), after the sampling rows; empty in decode batches.</summary>
    public List<InputLogprobSpan> InputLogprobSpans { get; } = [];
    /// <summary>The request whose prompt is cut by chunked prefill in this batch (it does not sample).</summary>
    public Req? ChunkedReq { get; internal set; }

    /// <summary>Empties the lists for the next step; the caller then sizes <see cref="Forward"/> (mode, counts).</summary>
    internal void Clear()
    {
        Reqs.Clear();
        SampleReqs.Clear();
        InputLogprobSpans.Clear();
        ChunkedReq = null;
    }
}
