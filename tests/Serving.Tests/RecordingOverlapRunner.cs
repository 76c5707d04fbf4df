using Compiler.Runtime.Engine;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>Passes everything to a <see cref="HostOverlapRunner"/> and records the launch / wait order.</summary>
internal sealed class RecordingOverlapRunner(HostOverlapRunner inner) : IModelRunner, IGreedyForward, IOverlapGreedyForward
{
    private int _launched, _waited;

    public int VocabSize => inner.VocabSize;
    public IReadOnlyList<int> EosTokenIds => inner.EosTokenIds;
    /// <summary>"L3" = step 3 launched, "W3" = step 3 waited for, "F" = a synchronous forward.</summary>
    public List<string> Calls { get; } = [];
    /// <summary>Placeholder input ids seen at launch.</summary>
    public int Placeholders { get; private set; }
    /// <summary>Steps launched while the step before was still not waited for.</summary>
    public int OverlappedLaunches { get; private set; }
    /// <summary>Asked at each overlapped launch (e.g. "do prompts wait?"); counted in <see cref="OverlappedLaunchesWhen"/>.</summary>
    public Func<bool>? Condition { get; set; }
    public int OverlappedLaunchesWhen { get; private set; }

    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        Calls.Add("F");
        inner.Forward(batch, logits);
    }

    public void ForwardGreedy(ForwardBatch batch, Span<int> tokens)
    {
        Calls.Add("F");
        inner.ForwardGreedy(batch, tokens);
    }

    public void LaunchGreedy(ForwardBatch batch)
    {
        foreach (int id in batch.InputIds) if (id < 0) Placeholders++;
        if (_launched > _waited)
        {
            OverlappedLaunches++;
            if (Condition?.Invoke() == true) OverlappedLaunchesWhen++;
        }
        Calls.Add($"L{_launched++}");
        inner.LaunchGreedy(batch);
    }

    public void WaitGreedy(Span<int> tokens)
    {
        Calls.Add($"W{_waited++}");
        inner.WaitGreedy(tokens);
    }
}
