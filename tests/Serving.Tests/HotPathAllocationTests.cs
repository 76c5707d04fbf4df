using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

public sealed class HotPathAllocationTests
{
    [Fact]
    public void Steady_state_decode_steps_allocate_nothing()
    {
        var model = new FakeModelRunner(4096, vocabSize: 64) { Record = false };
        var engine = new InferenceEngine(model, new SchedulerOptions { MaxTotalTokens = 4096, ContextLength = 1024 }, log: null);
        for (int i = 0; i < 8; i++)
            engine.Submit($"r{i}", Enumerable.Range(1 + i, 20).ToArray(), new SamplingParams { Temperature = i % 2 == 0 ? 0 : 0.7f, TopK = 8, Seed = (ulong)i, MaxNewTokens = 400, IgnoreEos = true });
        for (int i = 0; i < 20; i++) engine.RunStep(); // prefill + warm-up (buffers grow to size)

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 200; i++) Assert.True(engine.RunStep());
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(8, engine.Scheduler.Running.Count); // all still decoding: this measured pure decode steps
        Assert.Equal(0, allocated);
    }
}
