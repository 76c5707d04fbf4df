namespace Compiler.Runtime.Sampling;

/// <summary>
/// How a request with n &gt; 1 becomes n requests (parallel sampling): choice i is request "{rid}-{i}" (the rid
/// itself when n is 1) and draws with seed base + i, the base being the request's seed or a random one. The engine's
/// Submit and the HTTP server's per-choice streams both follow it, so one seed reproduces the same n outputs.
/// </summary>
internal static class ParallelSampling
{
    public static ulong BaseSeed(SamplingParams p) => p.Seed ?? (ulong)Random.Shared.NextInt64();

    public static string ChoiceRid(string rid, int n, int index) => n == 1 ? rid : $"{rid}-{index}";

    public static ulong ChoiceSeed(ulong baseSeed, int index) => baseSeed + (ulong)index;
}
