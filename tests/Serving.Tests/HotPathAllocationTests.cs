using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>Steady-state decode steps allocate nothing on the engine thread.</summary>
public sealed class HotPathAllocationTests
{
    /// <summary>
    /// Bytes the engine thread allocated over <paramref name="steps"/> engine steps. A GC that suspends the thread
    /// mid-window (another test's, running in parallel) moves GetAllocatedBytesForCurrentThread by 1-8 KB without any
    /// allocation (seen about once in 10 runs of the suite, always with a GC pause inside the window), so a window the
    /// GC touched is measured again, up to three times; an allocating step would show in every window.
    /// </summary>
    private static long BytesAllocatedByDecodeSteps(InferenceEngine engine, int steps)
    {
        long allocated = 0;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            TimeSpan pausedBefore = GC.GetTotalPauseDuration();
            int collectionsBefore = GC.CollectionCount(0);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < steps; i++) Assert.True(engine.RunStep());
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (GC.GetTotalPauseDuration() == pausedBefore && GC.CollectionCount(0) == collectionsBefore) break;
        }
        return allocated;
    }

    [Fact]
    public void Steady_state_decode_steps_allocate_nothing()
    {
        var model = new FakeModelRunner(4096, vocabSize: 64) { Record = false };
        var engine = new InferenceEngine(model, new SchedulerOptions { MaxTotalTokens = 4096, ContextLength = 1024 }, log: null);
        for (int i = 0; i < 8; i++)
            engine.Submit($"r{i}", Enumerable.Range(1 + i, 20).ToArray(), new SamplingParams { Temperature = i % 2 == 0 ? 0 : 0.7f, TopK = 8, Seed = (ulong)i, MaxNewTokens = 400, IgnoreEos = true });
        for (int i = 0; i < 20; i++) engine.RunStep(); // prefill + warm-up (buffers grow to size)

        long allocated = BytesAllocatedByDecodeSteps(engine, 100);

        Assert.Equal(8, engine.Scheduler.Running.Count); // all still decoding: this measured pure decode steps
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Decode_steps_of_scored_requests_allocate_nothing()
    {
        var model = new FakeModelRunner(4096, vocabSize: 64) { Record = false };
        var engine = new InferenceEngine(model, new SchedulerOptions { MaxTotalTokens = 4096, ContextLength = 1024 }, log: null);
        for (int i = 0; i < 8; i++)
            engine.Submit($"r{i}", Enumerable.Range(1 + i, 20).ToArray(),
                new SamplingParams { Temperature = 0.7f, Seed = (ulong)i, MaxNewTokens = 400, IgnoreEos = true, Logprobs = true, LogprobStartLen = i });
        for (int i = 0; i < 20; i++) engine.RunStep();

        long allocated = BytesAllocatedByDecodeSteps(engine, 100);

        Assert.Equal(8, engine.Scheduler.Running.Count);
        Assert.All(engine.Scheduler.Running, r => Assert.True(r.InputLogprobs!.IsComplete));
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Overlapped_decode_steps_allocate_nothing()
    {
        var model = new FakeModelRunner(4096, vocabSize: 64) { Record = false };
        var engine = new InferenceEngine(new HostOverlapRunner(model, useWorkerThread: false), new SchedulerOptions { MaxTotalTokens = 4096, ContextLength = 1024 }, log: null);
        Assert.True(engine.OverlapEnabled);
        for (int i = 0; i < 8; i++)
            engine.Submit($"r{i}", Enumerable.Range(1 + i, 20).ToArray(), new SamplingParams { Temperature = 0, MaxNewTokens = 400, IgnoreEos = true });
        for (int i = 0; i < 20; i++) engine.RunStep();

        long allocated = BytesAllocatedByDecodeSteps(engine, 100);

        Assert.Equal(8, engine.Scheduler.Running.Count);
        Assert.Equal(0, allocated);
    }
}
