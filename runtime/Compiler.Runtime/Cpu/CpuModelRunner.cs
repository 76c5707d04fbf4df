using Compiler.Runtime.Engine;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Cpu;

/// <summary>
/// The CPU backend: runs a model's <see cref="ModelPlan"/> in fp32 -- the prologue, every layer's extend (Extend and
/// Mixed batches) or decode launch list, the epilogue -- with the fused kernels interpreted op by op
/// (<see cref="CpuKernelStep"/>), blocked SIMD GEMMs (<see cref="CpuGemm"/>) and <see cref="AttentionCpu"/> over a
/// token-slot KV cache of MaxTotalTokens + 1 slots (slot 0 is the padding slot). Weights are converted to fp32 at load.
/// Everything a forward touches is sized at load for MaxBatchTokens, so a forward allocates nothing.
/// Not thread-safe: one forward at a time, as the engine's step loop calls it.
/// </summary>
internal sealed unsafe partial class CpuModelRunner : IModelRunner, IDisposable
{
    private readonly CpuWorkerPool _pool;
    private readonly CpuWeights _weights;
    private readonly CpuForwardState _state;
    private readonly List<IDisposable> _owned = [];
    private readonly ICpuStep[] _prologue, _epilogue;
    private readonly ICpuStep[][] _extendLayers, _decodeLayers;
    private bool _disposed;

    /// <param name="plan">The compiled architecture (ModelCatalog.All[config.Architectures[0]]).</param>
    /// <param name="config">The model's config.json.</param>
    /// <param name="checkpoint">Its weights; read during construction only (the runner keeps fp32 copies).</param>
    /// <param name="maxTotalTokens">KV cache slots usable by requests (the allocator's size); the cache holds one more.</param>
    /// <param name="maxBatchTokens">The most input tokens one forward may carry.</param>
    /// <param name="threads">Worker threads (default: all cores).</param>
    /// <param name="eosTokenIds">Overrides the config's eos ids.</param>
    public CpuModelRunner(ModelPlan plan, HfConfig config, Checkpoint checkpoint, int maxTotalTokens, int maxBatchTokens,
        int? threads = null, IReadOnlyList<int>? eosTokenIds = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (maxTotalTokens <= 0) throw new ArgumentOutOfRangeException(nameof(maxTotalTokens), maxTotalTokens, "The KV cache needs at least one token slot.");
        if (maxBatchTokens <= 0) throw new ArgumentOutOfRangeException(nameof(maxBatchTokens), maxBatchTokens, "A forward must be allowed at least one token.");
        if (config.Architectures.Count > 0 && config.Architectures[0] != plan.Architecture)
            throw new ArgumentException($"{config.FilePath} is a {config.Architectures[0]} but the plan given is {plan.Architecture}; pick the plan by architectures[0].", nameof(plan));

        Plan = plan;
        Constants = ModelConstants.Read(plan, config);
        MaxTotalTokens = maxTotalTokens;
        MaxBatchTokens = maxBatchTokens;
        NumLayers = Constants.Int(plan.LayerCount);
        KvLength = checked((int)Constants.Dim(plan.KvLength));
        EosTokenIds = eosTokenIds ?? config.EosTokenIds;

        try
        {
            _pool = Own(new CpuWorkerPool(threads ?? Environment.ProcessorCount));
            _weights = Own(new CpuWeights(Constants, checkpoint));
            _state = Own(new CpuForwardState(maxBatchTokens, InvFreq(plan, config)));
            var binder = new Binder(this);
            _prologue = binder.Bind(plan.Prologue, layer: 0, "prologue");
            _extendLayers = new ICpuStep[NumLayers][];
            _decodeLayers = new ICpuStep[NumLayers][];
            for (var layer = 0; layer < NumLayers; layer++)
            {
                _extendLayers[layer] = binder.Bind(plan.ExtendLayer, layer, "extend layer");
                _decodeLayers[layer] = binder.Bind(plan.DecodeLayer, layer, "decode layer");
            }
            // The epilogue belongs to the last layer's output ({i} would mean that layer).
            _epilogue = binder.Bind(plan.Epilogue, NumLayers - 1, "epilogue");
            VocabSize = binder.VocabSize;
            binder.AllocateScratch();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public ModelPlan Plan { get; }
    public ModelConstants Constants { get; }
    public int VocabSize { get; }
    public IReadOnlyList<int> EosTokenIds { get; }
    /// <summary>KV slots requests may use (1..MaxTotalTokens); size a TokenToKvPoolAllocator with it.</summary>
    public int MaxTotalTokens { get; }
    public int MaxBatchTokens { get; }
    public int NumLayers { get; }
    /// <summary>Floats of K (and of V) per token per layer.</summary>
    public int KvLength { get; }
    public int Threads => _pool.Workers;
    /// <summary>Bytes allocated so far by the worker threads other than the caller (see CpuWorkerPool).</summary>
    internal long HelperAllocatedBytes => _pool.HelperAllocatedBytes;
    /// <summary>fp32 weight floats held (a tied lm_head counted once).</summary>
    public long WeightFloats => _weights.TotalFloats;

    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Mode == ForwardMode.Idle || batch.NumTokens == 0) return;
        if (batch.NumTokens > MaxBatchTokens)
            throw new ArgumentException($"The batch has {batch.NumTokens} tokens but the CPU runner was sized for at most {MaxBatchTokens} per forward; raise max batch tokens or chunk the prefill.", nameof(batch));
        var rows = batch.NumLogitsRows;
        if (logits.Length < (long)rows * VocabSize)
            throw new ArgumentException($"logits holds {logits.Length} floats but {rows} rows x vocab {VocabSize} are written.", nameof(logits));
        var tokenIndices = batch.LogitsTokenIndices;
        for (var r = 0; r < rows; r++)
            if ((uint)tokenIndices[r] >= (uint)batch.NumTokens)
                throw new ArgumentException($"Logits row {r} names token {tokenIndices[r]}, outside the batch's {batch.NumTokens} tokens.", nameof(batch));

        _state.Begin(batch);
        var layers = batch.Mode == ForwardMode.Decode ? _decodeLayers : _extendLayers;
        fixed (float* logitsPointer = logits)
        {
            _state.Logits = logitsPointer;
            try
            {
                Run(_prologue);
                for (var layer = 0; layer < layers.Length; layer++) Run(layers[layer]);
                Run(_epilogue);
            }
            finally
            {
                _state.Logits = null;
            }
        }
    }

    private void Run(ICpuStep[] steps)
    {
        for (var i = 0; i < steps.Length; i++) steps[i].Run(_state);
    }

    private T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    private static float[] InvFreq(ModelPlan plan, HfConfig config)
    {
        if (plan.RopeHeadDim is null) return [];
        var headDim = checked((int)ModelConstants.Read(plan, config).Dim(plan.RopeHeadDim));
        if (config.Rope.RotaryDim(headDim) != headDim)
            throw new NotSupportedException($"{config.FilePath}: partial_rotary_factor {config.Rope.PartialRotaryFactor} rotates {config.Rope.RotaryDim(headDim)} of {headDim} head dims; the {plan.Architecture} plan rotates whole heads.");
        return config.Rope.ComputeInvFreq(headDim);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // The pool first: no worker may touch memory freed below.
        for (var i = 0; i < _owned.Count; i++) _owned[i].Dispose();
    }
}
