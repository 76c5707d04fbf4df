using System.Diagnostics;
using System.Threading.Channels;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Scheduling;

namespace Compiler.Runtime.Server;

/// <summary>
/// One engine request (one choice of an API call): its prompt and sampling parameters going in, and a channel of
/// <see cref="StreamEvent"/>s coming out. The engine thread writes (through <see cref="OnOutput"/>), the HTTP
/// handler reads; the channel is unbounded so the engine thread never waits on a slow client.
/// </summary>
internal sealed class RequestStream
{
    private readonly Channel<StreamEvent> _events = Channel.CreateUnbounded<StreamEvent>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = false });

    public RequestStream(string rid, int[] inputIds, SamplingParams sampling)
    {
        Rid = rid;
        InputIds = inputIds;
        Sampling = sampling;
    }

    public string Rid { get; }
    public int[] InputIds { get; }
    public SamplingParams Sampling { get; }
    public ChannelReader<StreamEvent> Events => _events.Reader;

    /// <summary>Engine thread: when the previous token was published (inter-token latency); arrival time and token
    /// count are the Req's own.</summary>
    internal long LastTokenTimestamp { get; set; }
    internal bool Completed { get; private set; }

    /// <summary>Engine thread: forwards one output of the request.</summary>
    internal void Publish(in StreamEvent e)
    {
        if (Completed) return;
        _events.Writer.TryWrite(e);
        if (e.Finish != null)
        {
            Completed = true;
            _events.Writer.TryComplete();
        }
    }

    /// <summary>Engine thread: the request can never finish normally (submission refused, engine failure).</summary>
    internal void Fail(string error, int status) => Publish(StreamEvent.Failed(error, status));

    /// <summary>The token's top alternatives as recorded by the engine for this step, or null.</summary>
    internal static TokenLogprob[]? LastTop(Req req) =>
        req.OutputTopLogprobs is { Count: > 0 } top ? top[^1] : null;

    internal static long Now => Stopwatch.GetTimestamp();
}
