using System.Diagnostics;

namespace Compiler.Host.Bench;

/// <summary>SGLang's benchmark(): warm-up requests (not counted), then every request sent at its arrival time, at
/// most --max-concurrency of them in flight (later ones wait for a slot, as behind a gateway), all awaited.</summary>
internal sealed class BenchmarkRunner(RequestSender sender)
{
    /// <summary>Sends <paramref name="count"/> copies of <paramref name="request"/> at once; throws if none succeeds,
    /// since a failing warm-up means the arguments are wrong.</summary>
    public async Task WarmUpAsync(PreparedRequest request, int count, CancellationToken cancel)
    {
        if (count <= 0) return;
        var tasks = new Task<RequestOutput>[count];
        for (int i = 0; i < count; i++)
            tasks[i] = Task.Run(() => sender.SendAsync(request.Body, request.PromptLen, request.OutputLen, cancel), cancel);
        var outputs = await Task.WhenAll(tasks).ConfigureAwait(false);
        if (!outputs.Any(o => o.Success))
            throw new BenchmarkException($"Warmup failed - check the server address, --backend and --model. Error: {outputs[0].Error}");
    }

    public async Task<BenchmarkRun> RunAsync(
        IReadOnlyList<PreparedRequest> requests, double[] arrivals, int? maxConcurrency, Action? onRequestDone, CancellationToken cancel)
    {
        if (arrivals.Length != requests.Count) throw new ArgumentException("one arrival time per request");
        using var slots = maxConcurrency is > 0 ? new SemaphoreSlim(maxConcurrency.Value) : null;
        var tasks = new Task<RequestOutput>[requests.Count];
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < requests.Count; i++)
        {
            double wait = arrivals[i] - RequestSender.Seconds(Stopwatch.GetTimestamp() - start);
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds(wait), cancel).ConfigureAwait(false);
            var request = requests[i];
            // Off the arrival loop, so a slow connect never delays the next arrival.
            tasks[i] = Task.Run(() => SendOneAsync(request, slots, onRequestDone, cancel), cancel);
        }
        var outputs = await Task.WhenAll(tasks).ConfigureAwait(false);
        return new BenchmarkRun(outputs, RequestSender.Seconds(Stopwatch.GetTimestamp() - start));
    }

    private async Task<RequestOutput> SendOneAsync(PreparedRequest request, SemaphoreSlim? slots, Action? onDone, CancellationToken cancel)
    {
        if (slots is not null) await slots.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            return await sender.SendAsync(request.Body, request.PromptLen, request.OutputLen, cancel).ConfigureAwait(false);
        }
        finally
        {
            slots?.Release();
            onDone?.Invoke();
        }
    }
}
