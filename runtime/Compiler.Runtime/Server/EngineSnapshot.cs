namespace Compiler.Runtime.Server;

/// <summary>
/// The engine's pools and queues at one step boundary, taken on the engine thread. Baseline (nothing leaked):
/// no waiting/running/chunked request, KvAvailable + Evictable == KvCapacity, Protected == 0, every request slot free.
/// </summary>
internal readonly record struct EngineSnapshot(
    int Waiting, int Running, bool HasChunkedReq, int LiveStreams,
    int KvCapacity, int KvAvailable, int Evictable, int Protected,
    int ReqSlots, int ReqSlotsAvailable, double TokenUsage, double CacheHitRate, long Steps)
{
    public bool IsBaseline =>
        Waiting == 0 && Running == 0 && !HasChunkedReq && LiveStreams == 0 && Protected == 0
        && KvAvailable + Evictable == KvCapacity && ReqSlotsAvailable == ReqSlots;

    public override string ToString() =>
        $"waiting={Waiting} running={Running} chunked={HasChunkedReq} live={LiveStreams} kv: available={KvAvailable} " +
        $"evictable={Evictable} protected={Protected} capacity={KvCapacity} req slots: {ReqSlotsAvailable}/{ReqSlots} steps={Steps}";
}
