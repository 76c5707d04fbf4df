using Compiler.Runtime.Engine;

namespace Server.Tests;

/// <summary>A runner that slows every forward down or makes the next one throw, to test the server around it.</summary>
internal sealed class HookedRunner(IModelRunner inner) : IModelRunner
{
    private volatile bool _failNext;

    public int VocabSize => inner.VocabSize;
    public IReadOnlyList<int> EosTokenIds => inner.EosTokenIds;
    public int DelayMs { get; set; }
    public int Forwards;

    public void FailNextForward() => _failNext = true;

    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        Interlocked.Increment(ref Forwards);
        if (_failNext)
        {
            _failNext = false;
            throw new InvalidOperationException("injected device failure");
        }
        if (DelayMs > 0) Thread.Sleep(DelayMs);
        inner.Forward(batch, logits);
    }
}
