namespace Compiler.Runtime.Engine;

/// <summary>
/// A runner that enqueues a greedy step and returns before the device has run it, so the CPU can schedule the next
/// step meanwhile (SGLang's overlap scheduler). Steps are waited for in launch order, and at most two are in flight:
/// launch N, launch N+1, wait N, launch N+2, wait N+1, ...
/// </summary>
internal interface IOverlapGreedyForward
{
    /// <summary>
    /// Enqueues a step whose every logits row takes its argmax. The batch is copied before this returns (the caller may
    /// reuse it). An input id below zero is a placeholder -(r + 1): the token that the previously launched step sampled
    /// for its logits row r, resolved on the device, so a decode step can be launched before its inputs reach the host.
    /// </summary>
    void LaunchGreedy(ForwardBatch batch);

    /// <summary>Waits for the oldest launched step not yet waited for; writes its token for each of its logits rows.</summary>
    void WaitGreedy(Span<int> tokens);
}
