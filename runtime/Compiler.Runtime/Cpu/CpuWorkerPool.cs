using System.Runtime.ExceptionServices;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// A fixed set of threads that run the items of one <see cref="ICpuParallelWork"/> at a time (items are claimed
/// with an atomic counter, so uneven items balance themselves). The calling thread is worker 0 and helps.
/// Unlike Parallel.For, a dispatch allocates nothing, which keeps the per-step forward allocation-free.
/// One dispatch at a time: a model runner owns its pool.
/// </summary>
internal sealed class CpuWorkerPool : IDisposable
{
    private readonly Thread[] _threads;
    private readonly long[] _helperAllocated;
    private readonly SemaphoreSlim _start = new(0);
    // SemaphoreSlim, not ManualResetEventSlim: the latter allocates its lock on the first wait that blocks.
    private readonly SemaphoreSlim _done = new(0);
    private ICpuParallelWork? _work;
    private int _count, _next, _remaining;
    private Exception? _error;
    private volatile bool _disposed;

    public CpuWorkerPool(int workers)
    {
        if (workers <= 0) throw new ArgumentOutOfRangeException(nameof(workers), workers, "The CPU backend needs at least one worker thread.");
        Workers = workers;
        _threads = new Thread[workers - 1];
        _helperAllocated = new long[workers];
        for (var i = 0; i < _threads.Length; i++)
        {
            var id = i + 1;
            _threads[i] = new Thread(() => Loop(id)) { IsBackground = true, Name = $"cpu-worker-{id}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads that execute items, the caller included.</summary>
    public int Workers { get; }

    /// <summary>Bytes the helper threads (not the caller) have allocated, as of their last dispatch: lets a test
    /// prove the forward allocation-free on every thread.</summary>
    public long HelperAllocatedBytes
    {
        get
        {
            long sum = 0;
            for (var i = 1; i < _helperAllocated.Length; i++) sum += Volatile.Read(ref _helperAllocated[i]);
            return sum;
        }
    }

    /// <summary>Runs items 0 .. count-1 and returns when all are done; rethrows the first exception an item threw.</summary>
    public void Run(ICpuParallelWork work, int count)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0) return;
        var helpers = Math.Min(_threads.Length, count - 1);
        if (helpers == 0)
        {
            for (var i = 0; i < count; i++) work.Execute(i, 0);
            return;
        }
        _work = work;
        _count = count;
        _next = 0;
        _error = null;
        _remaining = helpers;
        _start.Release(helpers); // a full fence: helpers see the fields above
        Drain(0);
        _done.Wait();
        _work = null;
        if (_error is { } error)
        {
            _error = null;
            ExceptionDispatchInfo.Throw(error);
        }
    }

    private void Loop(int worker)
    {
        while (true)
        {
            _start.Wait();
            if (_disposed) return;
            Drain(worker);
            Volatile.Write(ref _helperAllocated[worker], GC.GetAllocatedBytesForCurrentThread());
            // Counted per permit, not per thread: a fast helper may take two permits of one dispatch, which is harmless.
            if (Interlocked.Decrement(ref _remaining) == 0) _done.Release();
        }
    }

    private void Drain(int worker)
    {
        var work = _work!;
        try
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count) work.Execute(i, worker);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _error, e, null);
            Volatile.Write(ref _next, _count); // the others stop claiming items
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_threads.Length > 0) _start.Release(_threads.Length);
        foreach (var t in _threads) t.Join();
        _start.Dispose();
        _done.Dispose();
    }
}
