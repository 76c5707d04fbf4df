using Compiler.Runtime.Engine;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Serving.Tests;

/// <summary>An engine over the fake model that checks scheduler integrity after every step.</summary>
internal sealed class EngineHarness
{
    /// <param name="wrap">Overlap only: what the engine gets around the adapter (a recorder), default the adapter itself.</param>
    public EngineHarness(SchedulerOptions options, int vocab = 50, OverlapMode overlap = OverlapMode.Off, Func<HostOverlapRunner, IModelRunner>? wrap = null)
    {
        Model = new FakeModelRunner(options.MaxTotalTokens, vocab, maxBatchTokens: options.MaxBatchTokens);
        IModelRunner runner = Model;
        if (overlap != OverlapMode.Off)
        {
            Overlap = new HostOverlapRunner(Model, useWorkerThread: overlap == OverlapMode.Worker);
            runner = wrap?.Invoke(Overlap) ?? Overlap;
        }
        Engine = new InferenceEngine(runner, options, Log.Add);
    }

    public enum OverlapMode { Off, Inline, Worker }

    /// <summary>The overlap adapter around <see cref="Model"/>, when the harness runs overlapped.</summary>
    public HostOverlapRunner? Overlap { get; }
    /// <summary>Every event in emission order: "rid:token" / "rid:finish(kind,matched)".</summary>
    public List<string> Events { get; } = [];

    public FakeModelRunner Model { get; }
    public InferenceEngine Engine { get; }
    public Scheduler Scheduler => Engine.Scheduler;
    public List<string> Log { get; } = [];
    public Dictionary<string, Req> Reqs { get; } = [];
    public Dictionary<string, List<int>> Streamed { get; } = [];
    public Dictionary<string, FinishReason> Finished { get; } = [];

    public IReadOnlyList<Req> Submit(string rid, int[] prompt, SamplingParams p)
    {
        var reqs = Engine.Submit(rid, prompt, p, OnOutput);
        foreach (Req r in reqs) { Reqs[r.Rid] = r; Streamed[r.Rid] = []; }
        return reqs;
    }

    private void OnOutput(ReqOutput o)
    {
        Events.Add(o.HasToken ? $"{o.Req.Rid}:{o.TokenId}" : $"{o.Req.Rid}:-");
        if (o.Finish is { } f) Events.Add($"{o.Req.Rid}:finish({f.Kind},{f.MatchedTokenId},{f.MatchedStop},{f.Message})");
        if (o.HasToken) Streamed[o.Req.Rid].Add(o.TokenId);
        if (o.Finish != null)
        {
            Assert.False(Finished.ContainsKey(o.Req.Rid), $"{o.Req.Rid} finished twice");
            Finished[o.Req.Rid] = o.Finish;
        }
    }

    public bool Step()
    {
        bool ran = Engine.RunStep();
        Scheduler.CheckIntegrity();
        return ran;
    }

    public void RunToCompletion(int maxSteps = 100_000)
    {
        for (int i = 0; i < maxSteps; i++)
        {
            bool ran = Step();
            if (!ran && !Engine.HasWork) return;
            Assert.True(ran, "scheduler has work but scheduled nothing (livelock)");
        }
        Assert.Fail($"not idle after {maxSteps} steps");
    }

    /// <summary>Nothing leaked: all KV is free or evictable cache, no locks, no request slots held.</summary>
    public void AssertBaseline()
    {
        var s = Scheduler;
        Assert.Empty(s.Waiting);
        Assert.Empty(s.Running);
        Assert.Null(s.ChunkedReq);
        Assert.Equal(0, s.Cache.ProtectedSize);
        Assert.Equal(s.Allocator.Size, s.Allocator.AvailableSize + s.Cache.EvictableSize);
        Assert.Equal(s.ReqToTokenPool.Size, s.ReqToTokenPool.AvailableSize);
        s.Cache.Evict(int.MaxValue);
        Assert.Equal(s.Allocator.Size, s.Allocator.AvailableSize);
        s.CheckIntegrity();
    }

    public List<int> Expected(Req r) => Reference.Generate(Model, r.InputIds.ToArray(), r.SamplingParams, r.Seed, r.MaxNewTokens);

    /// <summary>Random prompts sharing a few "system prompt" stems, so prefix reuse, splits and eviction all happen.</summary>
    public static List<(string Rid, int[] Prompt, SamplingParams P)> Workload(int seed, int count, int maxPrompt = 60, int maxNew = 24, bool sampled = true)
    {
        var rng = new Random(seed);
        var stems = Enumerable.Range(0, 3).Select(_ => Enumerable.Range(0, rng.Next(8, maxPrompt / 2)).Select(_ => rng.Next(1, 50)).ToArray()).ToArray();
        var list = new List<(string, int[], SamplingParams)>();
        for (int i = 0; i < count; i++)
        {
            int[] stem = rng.Next(4) == 0 ? [] : stems[rng.Next(stems.Length)];
            int[] prompt = [.. stem, .. Enumerable.Range(0, rng.Next(1, maxPrompt / 2)).Select(_ => rng.Next(1, 50))];
            var p = sampled && rng.Next(3) == 0
                ? new SamplingParams { Temperature = 0.8f, TopP = 0.9f, TopK = 20, FrequencyPenalty = 0.3f, RepetitionPenalty = 1.1f, MaxNewTokens = rng.Next(1, maxNew), Seed = (ulong)rng.Next() }
                : new SamplingParams { Temperature = 0, MaxNewTokens = rng.Next(1, maxNew), IgnoreEos = rng.Next(2) == 0 };
            list.Add(($"r{i}", prompt, p));
        }
        return list;
    }
}
