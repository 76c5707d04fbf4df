using Compiler.Runtime.Engine;
using static Execution.Tests.Cpu.CpuModelTests;

namespace Execution.Tests.Cpu;

/// <summary>Counts the bytes allocated by the calling thread and the runner's worker threads during decode steps.</summary>
public sealed class CpuAllocationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Decode_steps_allocate_nothing(int threads)
    {
        using var model = RandomModel.Create("Qwen2ForCausalLM");
        using var runner = Runner(model, threads: threads);
        var session = new KvSession(runner);
        KvSession.Seq sa = session.NewSeq(), sb = session.NewSeq();
        session.Step(ForwardMode.Extend, new KvSession.Part(sa, Tokens(20, 1)), new KvSession.Part(sb, Tokens(30, 2)));
        // A hand-built decode batch reused step after step, as the scheduler reuses its ForwardBatch.
        var batch = new ForwardBatch(session.Pool);
        var logits = new float[2 * runner.VocabSize];
        var seqs = new[] { sa, sb };
        void Decode()
        {
            batch.Reset(ForwardMode.Decode, 2, 2);
            session.Allocator.TryAlloc(batch.OutCacheLoc);
            for (var i = 0; i < 2; i++)
            {
                var s = seqs[i];
                batch.InputIds[i] = 5 + i;
                batch.Positions[i] = s.KvLen;
                session.Pool.Row(s.ReqPoolIdx)[s.KvLen] = batch.OutCacheLoc[i];
                batch.ReqPoolIndices[i] = s.ReqPoolIdx;
                batch.ExtendPrefixLens[i] = s.KvLen;
                batch.ExtendSeqLens[i] = 1;
                batch.SeqLens[i] = ++s.KvLen;
                batch.AddLogitsRow(i);
            }
        }
        Decode();
        runner.Forward(batch, logits); // first use
        // Steady state allocates nothing. A window may still see a one-time lazy allocation of the runtime's wait
        // machinery the first time a worker really blocks (on a loaded machine that can happen late), so the claim is
        // checked over up to three windows of 10 steps: per-step allocation would show in every one of them.
        var windows = new List<long>();
        for (var window = 0; window < 3 && (windows.Count == 0 || windows[^1] != 0); window++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread() + runner.HelperAllocatedBytes;
            for (var step = 0; step < 10; step++)
            {
                Decode();
                runner.Forward(batch, logits);
            }
            windows.Add(GC.GetAllocatedBytesForCurrentThread() + runner.HelperAllocatedBytes - before);
        }
        Assert.True(windows[^1] == 0, $"bytes allocated per window of 10 decode steps: {string.Join(", ", windows)}");
    }
}
