namespace Compiler.Runtime.Cache;

/// <summary>
/// The prefix cache's hit rate, as SGLang logs it: prompt tokens served from the cache over prompt tokens admitted,
/// cumulative since the cache was last reset. Scheduler thread only.
/// </summary>
internal sealed class PrefixHitStats
{
    public long HitTokens { get; private set; }
    public long PromptTokens { get; private set; }
    public double HitRate => PromptTokens == 0 ? 0 : (double)HitTokens / PromptTokens;

    /// <summary>A request's first admission: <paramref name="cachedTokens"/> of its <paramref name="promptTokens"/> came from the cache.</summary>
    public void RecordAdmission(int cachedTokens, int promptTokens)
    {
        HitTokens += cachedTokens;
        PromptTokens += promptTokens;
    }

    public void Reset()
    {
        HitTokens = 0;
        PromptTokens = 0;
    }
}
