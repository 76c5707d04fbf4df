using Compiler.Runtime.Cpu;
using Compiler.Runtime.Engine;
using static Execution.Tests.Cpu.CpuModelTests;

namespace Execution.Tests.Cpu;

/// <summary>
/// KV-cache paths of the CPU runner against its own one-shot forward: decode, chunked prefill, Mixed batches and
/// requests with interleaved slots must give the logits of running each sequence in one go. The reference is the
/// runner itself (one extend of the whole sequence, checked against fp64 in CpuModelTests), so the tolerance only
/// absorbs summation-order differences between GEMM tiles.
/// </summary>
public sealed class CpuBatchingTests
{
    private const double Tolerance = 1e-4;

    /// <summary>Random checkpoints of each architecture, and the transformers-made tiny ones when committed.</summary>
    public static TheoryData<string> Models =>
        ["Qwen3ForCausalLM", "Qwen2ForCausalLM", "LlamaForCausalLM", "tiny-qwen3", "tiny-qwen2", "tiny-llama"];

    private static float[][] OneShot(CpuModelRunner runner, int[] ids)
    {
        var session = new KvSession(runner);
        return session.Step(ForwardMode.Extend, new KvSession.Part(session.NewSeq(), ids, AllLogits: true))[0];
    }

    private static void AssertClose(float[] expected, float[] actual, string what)
    {
        var max = 0.0;
        for (var i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(expected[i] - actual[i]));
        Assert.True(max < Tolerance, $"{what}: max diff {max:E2}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Prefill_then_decode_one_token_at_a_time_equals_the_full_forward(string modelId)
    {
        using var model = RandomModel.Open(modelId);
        using var runner = Runner(model);
        var ids = Tokens(24, seed: 4);
        var full = OneShot(runner, ids);

        var session = new KvSession(runner);
        var seq = session.NewSeq();
        var first = session.Step(ForwardMode.Extend, new KvSession.Part(seq, ids[..3], AllLogits: true))[0];
        for (var t = 0; t < 3; t++) AssertClose(full[t], first[t], $"prefill position {t}");
        for (var t = 3; t < ids.Length; t++)
        {
            var logits = session.Step(ForwardMode.Decode, new KvSession.Part(seq, [ids[t]]))[0][0];
            AssertClose(full[t], logits, $"decode position {t}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Chunked_prefill_equals_one_shot(string modelId)
    {
        using var model = RandomModel.Open(modelId);
        using var runner = Runner(model);
        var ids = Tokens(33, seed: 8);
        var full = OneShot(runner, ids);

        var session = new KvSession(runner);
        var seq = session.NewSeq();
        var position = 0;
        foreach (var chunk in new[] { 10, 1, 13, 9 })
        {
            var rows = session.Step(ForwardMode.Extend, new KvSession.Part(seq, ids[position..(position + chunk)], AllLogits: true))[0];
            for (var i = 0; i < chunk; i++) AssertClose(full[position + i], rows[i], $"chunk at {position}, row {i}");
            position += chunk;
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Mixed_batch_equals_running_each_request_alone(string modelId)
    {
        using var model = RandomModel.Open(modelId);
        using var runner = Runner(model);
        int[] a = Tokens(12, seed: 21), b = Tokens(5, seed: 22), c = Tokens(17, seed: 23);
        int[] fullA = [.. a, 42, 43], fullB = [.. b, 44, 45];
        var expectedA = OneShot(runner, fullA);
        var expectedB = OneShot(runner, fullB);
        var expectedC = OneShot(runner, c);

        var session = new KvSession(runner);
        KvSession.Seq sa = session.NewSeq(), sb = session.NewSeq(), sc = session.NewSeq();
        session.Step(ForwardMode.Extend, new KvSession.Part(sa, a), new KvSession.Part(sb, b));
        // One extend (c, the whole prompt) plus two decodes riding along, extend first as the scheduler orders them.
        var mixed = session.Step(ForwardMode.Mixed,
            new KvSession.Part(sc, c, AllLogits: true), new KvSession.Part(sa, [42]), new KvSession.Part(sb, [44]));
        for (var t = 0; t < c.Length; t++) AssertClose(expectedC[t], mixed[0][t], $"mixed extend row {t}");
        AssertClose(expectedA[a.Length], mixed[1][0], "mixed decode a");
        AssertClose(expectedB[b.Length], mixed[2][0], "mixed decode b");

        // The KV written in the mixed step is right: the next decode of each still matches.
        var next = session.Step(ForwardMode.Decode, new KvSession.Part(sa, [43]), new KvSession.Part(sb, [45]), new KvSession.Part(sc, [46]));
        AssertClose(expectedA[a.Length + 1], next[0][0], "decode a after mixed");
        AssertClose(expectedB[b.Length + 1], next[1][0], "decode b after mixed");
        AssertClose(OneShot(runner, [.. c, 46])[^1], next[2][0], "decode c after mixed");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Two_requests_with_interleaved_slots_in_one_batch(string modelId)
    {
        using var model = RandomModel.Open(modelId);
        using var runner = Runner(model);
        int[] a = Tokens(11, seed: 31), b = Tokens(6, seed: 32);
        var expectedA = OneShot(runner, [.. a, 50, 51]);
        var expectedB = OneShot(runner, [.. b, 52, 53]);

        var session = new KvSession(runner);
        KvSession.Seq sa = session.NewSeq(), sb = session.NewSeq();
        // a takes odd slots from the top down, b even slots: neither request's KV is contiguous or ascending.
        int[] slotsA = Enumerable.Range(0, a.Length).Select(i => 199 - 2 * i).ToArray();
        int[] slotsB = Enumerable.Range(0, b.Length).Select(i => 10 + 2 * i * (i % 2 == 0 ? 1 : 7)).ToArray();
        var prefill = session.Step(ForwardMode.Extend,
            new KvSession.Part(sa, a, AllLogits: true, Slots: slotsA), new KvSession.Part(sb, b, AllLogits: true, Slots: slotsB));
        for (var t = 0; t < a.Length; t++) AssertClose(expectedA[t], prefill[0][t], $"a row {t}");
        for (var t = 0; t < b.Length; t++) AssertClose(expectedB[t], prefill[1][t], $"b row {t}");

        var d1 = session.Step(ForwardMode.Decode, new KvSession.Part(sa, [50], Slots: [3]), new KvSession.Part(sb, [52], Slots: [1]));
        var d2 = session.Step(ForwardMode.Decode, new KvSession.Part(sb, [53], Slots: [2]), new KvSession.Part(sa, [51], Slots: [200]));
        AssertClose(expectedA[a.Length], d1[0][0], "a decode 1");
        AssertClose(expectedB[b.Length], d1[1][0], "b decode 1");
        AssertClose(expectedB[b.Length + 1], d2[0][0], "b decode 2");
        AssertClose(expectedA[a.Length + 1], d2[1][0], "a decode 2");
    }

    [Fact]
    public void Only_the_requested_logits_rows_are_written_in_order()
    {
        using var model = RandomModel.Create("Qwen3ForCausalLM");
        using var runner = Runner(model);
        int[] a = Tokens(9, seed: 41), b = Tokens(4, seed: 42);
        var expectedA = OneShot(runner, a);
        var expectedB = OneShot(runner, b);
        var session = new KvSession(runner);
        // Last-token rows only, b first in the batch: row 0 is b's last token, row 1 a's.
        var rows = session.Step(ForwardMode.Extend, new KvSession.Part(session.NewSeq(), b), new KvSession.Part(session.NewSeq(), a));
        AssertClose(expectedB[^1], rows[0][0], "b last");
        AssertClose(expectedA[^1], rows[1][0], "a last");
    }
}
