using System.Runtime.ExceptionServices;
using Compiler.Runtime.Memory;
using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Engine;

/// <summary>
/// <see cref="IOverlapGreedyForward"/> over any runner that computes on the calling thread (the CPU runner, test
/// fakes): a launched step is copied -- the ForwardBatch and the request-table rows it reads, into this adapter's own
/// pool -- and, with a worker thread, run there while the engine schedules the next one; placeholders -(r + 1) are
/// resolved from the tokens of the step launched before it just before it runs. Without a worker the step runs
/// inside LaunchGreedy (deterministic; the call order is still the overlapped one). Argmax is the runner's own
/// (<see cref="IGreedyForward"/>) or taken on the host from its logits, exactly as the sampler's greedy path.
/// The synchronous <see cref="Forward"/> / <see cref="ForwardGreedy"/> pass through, only with no step in flight.
/// </summary>
internal sealed class HostOverlapRunner : IModelRunner, IGreedyForward, IOverlapGreedyForward, IDisposable
{
    private readonly IModelRunner _inner;
    private readonly IGreedyForward? _innerGreedy;
    // Three slots for two steps in flight: a step launched while the one before it has not started yet (worker
    // thread) must not overwrite the tokens that one resolves its placeholders from.
    private readonly Step[] _steps = [new(), new(), new()];
    private readonly Thread? _worker;
    private readonly SemaphoreSlim _launchedSignal = new(0), _doneSignal = new(0);
    private float[] _logits = [];
    private long _launched, _waited, _ran;
    private volatile bool _stopping;

    /// <param name="useWorkerThread">Run launched steps on a worker thread (real overlap) instead of inside LaunchGreedy.</param>
    public HostOverlapRunner(IModelRunner inner, bool useWorkerThread = true)
    {
        _inner = inner;
        _innerGreedy = inner as IGreedyForward;
        if (useWorkerThread)
        {
            _worker = new Thread(WorkerLoop) { IsBackground = true, Name = "overlap-forward" };
            _worker.Start();
        }
    }

    public int VocabSize => _inner.VocabSize;
    public IReadOnlyList<int> EosTokenIds => _inner.EosTokenIds;
    /// <summary>Steps launched and not yet waited for.</summary>
    public int InFlight => (int)(_launched - _waited);

    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        RequireIdle();
        _inner.Forward(batch, logits);
    }

    public void ForwardGreedy(ForwardBatch batch, Span<int> tokens)
    {
        RequireIdle();
        if (_innerGreedy != null) _innerGreedy.ForwardGreedy(batch, tokens);
        else HostArgmax(batch, tokens);
    }

    public void LaunchGreedy(ForwardBatch batch)
    {
        if (_launched - _waited >= 2)
            throw new InvalidOperationException("HostOverlapRunner: a third step was launched before the oldest was waited for (at most two may be in flight).");
        Step step = _steps[_launched % 3];
        step.CopyFrom(batch);
        _launched++;
        if (_worker == null) RunNext();
        else _launchedSignal.Release();
    }

    public void WaitGreedy(Span<int> tokens)
    {
        if (_waited == _launched) throw new InvalidOperationException("HostOverlapRunner: WaitGreedy with no step launched.");
        if (_worker != null) _doneSignal.Wait();
        Step step = _steps[_waited % 3];
        _waited++;
        if (step.Error is { } error)
        {
            step.Error = null;
            ExceptionDispatchInfo.Capture(error).Throw();
        }
        int rows = step.Batch!.NumLogitsRows;
        if (tokens.Length < rows) throw new ArgumentException($"HostOverlapRunner.WaitGreedy: the step has {rows} logits rows but the buffer holds {tokens.Length}.", nameof(tokens));
        step.Tokens.AsSpan(0, rows).CopyTo(tokens);
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _launchedSignal.Wait();
            if (_stopping) return;
            RunNext();
            _doneSignal.Release();
        }
    }

    /// <summary>Runs the oldest launched step not yet run (steps run one at a time, in launch order).</summary>
    private void RunNext()
    {
        Step step = _steps[_ran % 3];
        try
        {
            ForwardBatch b = step.Batch!;
            Span<int> ids = b.InputIds;
            for (int t = 0; t < ids.Length; t++)
            {
                if (ids[t] >= 0) continue;
                // The previous step ran just before this one; its slot is reused only after this step is waited for.
                Step prev = _steps[(_ran + 2) % 3];
                int r = -ids[t] - 1;
                if (_ran == 0 || r >= prev.Batch!.NumLogitsRows)
                    throw new InvalidOperationException($"HostOverlapRunner: input {t} is placeholder {ids[t]} but the previous step has no logits row {r} (it has {(_ran == 0 ? 0 : prev.Batch!.NumLogitsRows)}.");
                if (prev.Error != null) throw new InvalidOperationException("HostOverlapRunner: the previous step failed; its tokens are unknown.", prev.Error);
                ids[t] = prev.Tokens[r];
            }
            Span<int> tokens = step.Tokens.AsSpan(0, b.NumLogitsRows);
            if (_innerGreedy != null) _innerGreedy.ForwardGreedy(b, tokens);
            else HostArgmax(b, tokens);
        }
        catch (Exception e)
        {
            step.Error = e;
        }
        _ran++;
    }

    private void HostArgmax(ForwardBatch b, Span<int> tokens)
    {
        int rows = b.NumLogitsRows, vocab = _inner.VocabSize;
        long need = (long)rows * vocab;
        if (_logits.Length < need) _logits = new float[Math.Max(need, (long)_logits.Length * 2)];
        Span<float> logits = _logits.AsSpan(0, rows * vocab);
        _inner.Forward(b, logits);
        for (int r = 0; r < rows; r++) tokens[r] = Sampler.ArgMax(logits.Slice(r * vocab, vocab));
    }

    private void RequireIdle()
    {
        if (_launched != _waited)
            throw new InvalidOperationException($"HostOverlapRunner: a synchronous forward while {_launched - _waited} launched step(s) are not waited for; the engine must drain first.");
    }

    public void Dispose()
    {
        if (_worker == null || _stopping) return;
        _stopping = true;
        _launchedSignal.Release();
        _worker.Join();
        _launchedSignal.Dispose();
        _doneSignal.Dispose();
    }

    /// <summary>One launched step: its own copy of the batch and of the request-table rows it reads, and its tokens.</summary>
    private sealed class Step
    {
        private ReqToTokenPool? _table;
        public ForwardBatch? Batch;
        public int[] Tokens = new int[64];
        public Exception? Error;

        public void CopyFrom(ForwardBatch src)
        {
            ReqToTokenPool from = src.ReqToTokenPool;
            if (_table == null || _table.Size != from.Size || _table.MaxContextLen != from.MaxContextLen)
            {
                _table = new ReqToTokenPool(from.Size, from.MaxContextLen);
                for (int i = 0; i < from.Size; i++) _table.Alloc(); // every row writable
                Batch = new ForwardBatch(_table);
            }
            ForwardBatch dst = Batch!;
            dst.Reset(src.Mode, src.NumTokens, src.BatchSize);
            dst.NumExtendReqs = src.NumExtendReqs;
            src.InputIds.CopyTo(dst.InputIds);
            src.Positions.CopyTo(dst.Positions);
            src.OutCacheLoc.CopyTo(dst.OutCacheLoc);
            src.ReqPoolIndices.CopyTo(dst.ReqPoolIndices);
            src.SeqLens.CopyTo(dst.SeqLens);
            src.ExtendPrefixLens.CopyTo(dst.ExtendPrefixLens);
            src.ExtendSeqLens.CopyTo(dst.ExtendSeqLens);
            ReadOnlySpan<int> rows = src.LogitsTokenIndices;
            for (int r = 0; r < rows.Length; r++)
                if (r < src.NumSampleRows) dst.AddLogitsRow(rows[r]);
                else dst.AddScoringRow(rows[r]);
            // The request-table rows this step reads: the scheduler keeps writing its own table for the next step.
            for (int i = 0; i < src.BatchSize; i++)
            {
                int slot = src.ReqPoolIndices[i];
                from.ReadRow(slot, src.SeqLens[i]).CopyTo(_table.Row(slot));
            }
            if (Tokens.Length < rows.Length) Tokens = new int[Math.Max(rows.Length, Tokens.Length * 2)];
        }
    }
}
