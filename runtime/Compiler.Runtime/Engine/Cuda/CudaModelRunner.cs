using System.Diagnostics;
using Compiler.Runtime.Cuda;
using Compiler.Runtime.Cuda.Native;
using Compiler.Runtime.Kernels;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Plan;
using static Compiler.Runtime.Engine.Cuda.StepInputs;

namespace Compiler.Runtime.Engine.Cuda;

/// <summary>
/// Runs a compiled model on one CUDA GPU: NVRTC-compiles the plan's fused kernels specialised on the model's
/// constants, uploads the weights in bf16, and executes the plan's launch sequence -- generated kernels, cuBLASLt
/// GEMMs and the attention kernels over a token-granular KV pool -- with decode steps replayed from CUDA graphs.
/// </summary>
internal sealed unsafe partial class CudaModelRunner : IModelRunner, IGreedyForward, IOverlapGreedyForward, IDisposable
{
    private readonly CudaDevice _device;
    private readonly CudaStream _stream;
    private readonly ModelConstants _constants;
    private readonly ModelPlan _plan;
    private readonly CudaRunnerOptions _options;
    private readonly List<IDisposable> _owned = new();
    private readonly Dictionary<string, CudaKernel> _kernels = new();
    private readonly CudaKernel _decodeAttention, _decodeAttentionWide, _extendAttention, _sharedPrefixAttention, _loadDecodeInputs, _argmax, _resolvePlaceholders;
    private readonly CudaKernel _gemvP4, _gemvP8, _gemvBulk, _skinny;
    private readonly Dictionary<int, CudaKernel> _tiled = new(); // gemm_tiled per K split
    private readonly Dictionary<int, CudaKernel> _tiledSiluGate = new(); // gemm_tiled_silu per K split
    private readonly Dictionary<(TiledNormEpilogue, int), CudaKernel> _tiledNorm = new(); // the norm entry points per K split
    private readonly AttentionKernels _attention;
    private readonly CudaWeights _weights;
    private readonly CublasLtGemm _gemm;
    private readonly ulong[] _slots;
    private readonly ElementType[] _valueTypes;
    private readonly ulong[] _kCache, _vCache;
    private readonly long _kvSlotBytes; // one token's K (or V) of one layer
    private readonly StepInputs _inputs;
    private readonly DeviceBuffer<int> _reqToToken;
    private readonly DeviceBuffer<float> _logits;
    private readonly DeviceBuffer<int> _sampled;
    private readonly DeviceBuffer<byte> _argmaxState; // argmax_rows' per-row merge state, zero between launches
    private readonly DeviceBuffer<byte> _decodeWorkspace;
    // Norms split over two GEMMs' epilogues (Step.NormEpilogue): each row's sum of squares per 64-feature tile of the
    // GEMM before, [tiles][64], read by the GEMM after (one buffer serves every norm: under programmatic launch a GEMM
    // writes it only after the one before, which read it, has ended).
    private readonly DeviceBuffer<float> _rowSumsq;
    // Cascade decode attention: the planner (null with DisableCascadeAttention) and shared_prefix_attention's partial states.
    private readonly SharedPrefixPlanner? _prefixPlanner;
    private readonly DeviceBuffer<byte>? _prefixPartials;
    private readonly DeviceBuffer<float> _invFreq;
    private readonly PinnedHostBuffer<int> _reqToTokenStaging;
    private readonly PinnedHostBuffer<float> _logitsStaging;
    // Overlap: the tokens of the two steps that may be in flight land in their own pinned buffer, each with an event.
    private readonly PinnedHostBuffer<int>[] _sampledStaging = new PinnedHostBuffer<int>[2];
    private readonly CudaEvent[] _sampledReady = new CudaEvent[2];
    private readonly int[] _inFlightRows = new int[2];
    private long _launchedSteps, _waitedSteps;
    // Recorded after a step's host-to-device copies, or after the kernel that reads a decode step's staged inputs (in
    // its graph, if replayed from one): the pinned staging buffers are reused only once it has passed.
    private readonly CudaEvent _inputsUploaded;
    private readonly int _layers, _vocab, _maxTokens, _maxRequests, _stride, _paddingRequest, _workspaceBatch;
    private readonly float _softmaxScale;
    private readonly Dictionary<int, CudaGraph> _graphs = new();
    // The same decode steps with cascade attention (shared_prefix_attention before each decode attention).
    private readonly Dictionary<int, CudaGraph> _sharedPrefixGraphs = new();
    // Programmatic dependent launch is on (sm_90+), and a kernel of the current step is enqueued, so the next kernel
    // may start before it ends (the step's first kernel waits for the input uploads like any stream operation).
    private readonly bool _programmatic;
    private bool _kernelEnqueued;
    // The decode step being enqueued runs cascade attention (its inputs hold a shared-prefix plan).
    private bool _sharedPrefixStep;
    // Captured batch sizes in the options' order, so picking one per decode step allocates nothing.
    private int[] _graphSizes = [];
    private readonly Dictionary<string, FusedKernel> _fusedKernels;
    private readonly ulong[] _valuePointers;
    // The plan's prologue and epilogue bound to the step inputs of extend and of decode steps (StepInputs.Layout).
    private readonly BoundStep[][] _prologues, _epilogues;
    private readonly BoundStep[][] _extendLayers, _decodeLayers;

    public CudaModelRunner(ModelPlan plan, HfConfig config, Checkpoint checkpoint, CudaRunnerOptions options)
    {
        var log = options.Log ?? (_ => { });
        _plan = plan;
        _options = options;
        _device = CudaDevice.Open(0);
        if (UnsupportedDeviceReason(_device.Name, _device.ComputeCapability) is { } unsupported)
        {
            _device.Dispose();
            throw new NotSupportedException(unsupported);
        }
        _device.MakeCurrent();
        _stream = Own(CudaStream.Create());
        _constants = ModelConstants.Read(plan, config);
        _layers = _constants.Int(plan.LayerCount);
        _vocab = (int)_constants.Dim(plan.Epilogue.Last(s => s.Kind == StepKind.Gemm).N!);
        EosTokenIds = config.EosTokenIds;
        _maxRequests = options.MaxRunningRequests;
        _paddingRequest = _maxRequests; // an extra req_to_token row whose slot 0 is the padding slot
        _stride = options.MaxContextLen;
        _maxTokens = Math.Max(options.MaxBatchTokens, _maxRequests);

        var compileWatch = Stopwatch.StartNew();
        var compiler = new KernelCompiler(_device, options.KernelCacheDirectory, log);
        var module = Own(compiler.Compile(plan.Architecture, KernelSources.ResolveIncludes(plan.CudaSource), _constants.KernelDefines()));
        foreach (var kernel in plan.Kernels) _kernels[kernel.Name] = module.Module.GetKernel(kernel.Name);
        foreach (var gemv in plan.GemvPrologues)
        {
            foreach (var entry in GemvPrologueEntries) _kernels[gemv.Name + entry] = module.Module.GetKernel(gemv.Name + entry);
            SetGemvPrologueSharedMemory(plan, gemv);
        }
        foreach (var attention in plan.AttentionPrologues)
            foreach (var entry in AttentionPrologueEntries) _kernels[attention.Name + entry] = module.Module.GetKernel(attention.Name + entry);
        var attentionStep = plan.ExtendLayer.First(s => s.Kind == StepKind.ExtendAttention);
        _attention = new AttentionKernels((int)_constants.Dim(attentionStep.Heads!), (int)_constants.Dim(attentionStep.KvHeads!), (int)_constants.Dim(attentionStep.HeadDim!));
        var attentionDefines = _attention.Defines;
        var decodeModule = Own(compiler.Compile("decode_attention", KernelSources.Load(AttentionKernels.DecodeSourceFile), attentionDefines)).Module;
        _decodeAttention = decodeModule.GetKernel(AttentionKernels.DecodeKernelName);
        _decodeAttentionWide = decodeModule.GetKernel(AttentionKernels.DecodeWideKernelName);
        var extendModule = Own(compiler.Compile("extend_attention", KernelSources.Load(AttentionKernels.ExtendSourceFile), attentionDefines)).Module;
        _extendAttention = extendModule.GetKernel(AttentionKernels.ExtendKernelName);
        _sharedPrefixAttention = extendModule.GetKernel(AttentionKernels.SharedPrefixKernelName);
        if (_attention.ExtendNeedsSharedMemoryOptIn)
        {
            _extendAttention.SetMaxDynamicSharedMemory(_attention.ExtendSharedMemoryBytes);
            _sharedPrefixAttention.SetMaxDynamicSharedMemory(_attention.ExtendSharedMemoryBytes);
        }
        var runtime = Own(RuntimeKernels.Compile(compiler, _device));
        _loadDecodeInputs = runtime.Module.GetKernel("load_decode_inputs");
        _argmax = runtime.Module.GetKernel(ArgmaxLaunch.KernelName);
        _resolvePlaceholders = runtime.Module.GetKernel("resolve_placeholder_ids");
        _gemvP4 = runtime.Module.GetKernel("gemv_bf16_p4");
        _gemvP8 = runtime.Module.GetKernel("gemv_bf16_p8");
        _gemvBulk = runtime.Module.GetKernel("gemv_bf16_bulk");
        if (GemvBulkSupported) _gemvBulk.SetMaxDynamicSharedMemory(GemvBulkMaxSharedBytes);
        _skinny = runtime.Module.GetKernel(SmallGemms.SkinnyKernelName);
        for (var split = 1; split <= TiledMaxSplit; split *= 2)
        {
            _tiled[split] = runtime.Module.GetKernel(SmallGemms.TiledKernelName(split));
            _tiledSiluGate[split] = runtime.Module.GetKernel(SmallGemms.TiledSiluGateKernelName(split));
            var entries = new List<CudaKernel> { _tiled[split], _tiledSiluGate[split] };
            foreach (var epilogue in Enum.GetValues<TiledNormEpilogue>())
                entries.Add(_tiledNorm[(epilogue, split)] = runtime.Module.GetKernel(SmallGemms.TiledNormKernelName(epilogue, split)));
            foreach (var tiled in entries) tiled.SetMaxDynamicSharedMemory(SmallGemms.TiledSharedBytes(TiledStages));
        }
        var carveout = SharedMemoryCarveoutPercent();
        foreach (var loaded in new[] { module.Module, decodeModule, extendModule, runtime.Module })
            foreach (var kernel in loaded.LoadedKernels) kernel.PreferSharedMemoryCarveout(carveout);
        _programmatic = !options.DisableProgrammaticLaunch && _device.ComputeCapability.Major >= 9;
        CompileTime = compileWatch.Elapsed;
        log($"{plan.Architecture}: kernels ready in {CompileTime.TotalMilliseconds:F0} ms ({plan.Kernels.Length} generated + attention + runtime)");
        _softmaxScale = _attention.DefaultSoftmaxScale;

        var loadWatch = Stopwatch.StartNew();
        _weights = Own(new CudaWeights(_constants, checkpoint, _stream));
        log($"weights: {_weights.TotalBytes / 1e9:F2} GB in {loadWatch.Elapsed.TotalSeconds:F1} s");
        _gemm = Own(new CublasLtGemm());

        // Activation buffers: one per slot of the plan's buffer plan, as large as its largest value.
        _slots = new ulong[plan.SlotCount];
        var slotBytes = new long[plan.SlotCount];
        _valueTypes = new ElementType[plan.Buffers.Max(b => b.Value) + 1];
        // The logits get their own buffer, sized by logits rows rather than tokens.
        var logitsValue = plan.Epilogue.Last(s => s.Kind == StepKind.Gemm).Output;
        foreach (var b in plan.Buffers)
        {
            _valueTypes[b.Value] = b.Type;
            if (b.Value == logitsValue) continue;
            slotBytes[b.Slot] = Math.Max(slotBytes[b.Slot], _constants.Dim(b.Length) * (b.Type == ElementType.BFloat16 ? 2 : 4));
        }
        for (var s = 0; s < _slots.Length; s++) _slots[s] = Own(DeviceBuffer<byte>.Allocate(slotBytes[s] * _maxTokens)).Pointer;
        _valuePointers = new ulong[_valueTypes.Length];
        foreach (var b in plan.Buffers) _valuePointers[b.Value] = _slots[b.Slot];
        _fusedKernels = plan.Kernels.ToDictionary(k => k.Name);

        if (!options.DisableCascadeAttention)
            _prefixPlanner = new SharedPrefixPlanner(_attention.SharedPrefixTileRequests, _attention.SharedPrefixTargetItems(_device.MultiprocessorCount), AttentionKernels.DecodeMaxPrefixChunks);
        _inputs = Own(new StepInputs(_maxTokens, _maxRequests + 1, _prefixPlanner?.TilesCapacity(_maxRequests + 1) ?? 0, _prefixPlanner?.WorkCapacity(_maxRequests + 1) ?? 0));
        _reqToToken = Own(DeviceBuffer<int>.Allocate((long)(_maxRequests + 1) * _stride));
        _reqToToken.FillBytesAsync(0, _stream);
        _reqToTokenStaging = Own(PinnedHostBuffer<int>.Allocate((long)(_maxRequests + 1) * _stride));
        var logitsRows = Math.Max(_maxRequests + 1, options.MaxLogitsRows);
        _logits = Own(DeviceBuffer<float>.Allocate((long)logitsRows * _vocab));
        _logitsStaging = Own(PinnedHostBuffer<float>.Allocate((long)logitsRows * _vocab));
        _sampled = Own(DeviceBuffer<int>.Allocate(logitsRows));
        _argmaxState = Own(DeviceBuffer<byte>.Allocate((long)logitsRows * ArgmaxLaunch.RowStateBytes));
        _argmaxState.FillBytesAsync(0, _stream);
        for (var i = 0; i < 2; i++)
        {
            _sampledStaging[i] = Own(PinnedHostBuffer<int>.Allocate(logitsRows));
            _sampledReady[i] = Own(CudaEvent.Create(timing: false));
        }
        _inputsUploaded = Own(CudaEvent.Create(timing: false));
        _valuePointers[logitsValue] = _logits.Pointer;
        _workspaceBatch = _maxRequests + 1;
        _decodeWorkspace = Own(DeviceBuffer<byte>.Allocate(_attention.DecodeWorkspaceBytes(_workspaceBatch, 8)));
        _decodeWorkspace.FillBytesAsync(0, _stream); // the split counters must start at zero
        if (_prefixPlanner is not null) _prefixPartials = Own(DeviceBuffer<byte>.Allocate(_attention.SharedPrefixPartialsBytes(_workspaceBatch)));
        var invFreq = plan.RopeHeadDim is null ? [0f] : RopeFrequencies.InvFreq(config.Rope, (int)_constants.Dim(plan.RopeHeadDim));
        _invFreq = Own(DeviceBuffer<float>.From(invFreq));

        // The KV pool: what is left of the memory budget, unless sized explicitly.
        var kvBytesPerToken = 2L * _layers * _constants.Dim(plan.KvLength) * 2;
        var (free, total) = _device.MemoryInfo();
        var tokens = options.MaxTotalTokens > 0 ? options.MaxTotalTokens
            : (int)Math.Min(int.MaxValue - 1, (long)((total * options.MemFractionStatic - (total - free)) / kvBytesPerToken));
        if (tokens < _maxRequests) throw new InvalidOperationException($"Only {tokens} KV tokens fit in GPU memory (mem fraction {options.MemFractionStatic}); lower --max-batch-tokens or raise --mem-fraction-static");
        MaxTotalTokens = tokens;
        _kCache = new ulong[_layers];
        _vCache = new ulong[_layers];
        _kvSlotBytes = _constants.Dim(plan.KvLength) * sizeof(ushort);
        var kvElements = (tokens + 1L) * _constants.Dim(plan.KvLength);
        for (var l = 0; l < _layers; l++)
        {
            _kCache[l] = Own(DeviceBuffer<ushort>.Allocate(kvElements)).Pointer;
            _vCache[l] = Own(DeviceBuffer<ushort>.Allocate(kvElements)).Pointer;
        }
        log($"KV pool: {tokens} tokens ({kvBytesPerToken * (tokens + 1L) / 1e9:F2} GB)");

        var normRow = plan.DecodeLayer.Where(s => s.NormEpilogue is not null)
            .Select(s => _constants.Dim(plan.Buffers.First(b => b.Value == s.NormEpilogue!.Residual).Length)).DefaultIfEmpty(0).Max();
        _rowSumsq = Own(DeviceBuffer<float>.Allocate(Math.Max(1, (normRow + SmallGemms.TiledFeaturesPerBlock - 1) / SmallGemms.TiledFeaturesPerBlock * SmallGemms.TiledMaxRows)));

        Layout[] layouts = [Layout.Extend, Layout.Decode];
        _prologues = layouts.Select(layout => plan.Prologue.Select(s => Bind(s, 0, layout)).ToArray()).ToArray();
        _extendLayers = Enumerable.Range(0, _layers).Select(l => plan.ExtendLayer.Select(s => Bind(s, l, Layout.Extend)).ToArray()).ToArray();
        _decodeLayers = Enumerable.Range(0, _layers).Select(l => plan.DecodeLayer.Select(s => BindDecode(s, l)).ToArray()).ToArray();
        _epilogues = layouts.Select(layout => plan.Epilogue.Select(s => Bind(s, _layers - 1, layout)).ToArray()).ToArray();
        _stream.Synchronize();

        PlanGemvPrologues(log);
        ChooseSmallGemms(log);
        RefineSmallGemmsOnDecodeSteps(log);
        WarmUpPrefillGemms(log);
        if (!options.DisableCudaGraph) CaptureDecodeGraphs(log);
    }

    /// <summary>The oldest GPUs the runner's kernels run on: bf16 tensor cores (mma.sync), cp.async and ldmatrix came
    /// with Ampere.</summary>
    public static readonly (int Major, int Minor) MinComputeCapability = (8, 0);

    /// <summary>Why the runner cannot run on a GPU of this compute capability, or null when it can.</summary>
    public static string? UnsupportedDeviceReason(string name, (int Major, int Minor) capability) =>
        capability.CompareTo(MinComputeCapability) >= 0 ? null
            : $"{name} has compute capability {capability.Major}.{capability.Minor}; the CUDA runner's kernels need " +
              $"{MinComputeCapability.Major}.{MinComputeCapability.Minor} or newer (bf16 tensor cores and cp.async: Ampere, Ada, Hopper, Blackwell). Use --device cpu.";

    public int VocabSize => _vocab;

    public IReadOnlyList<int> EosTokenIds { get; }

    /// <summary>KV slots available (slot 0 is the padding slot, so indices run 1..MaxTotalTokens).</summary>
    public int MaxTotalTokens { get; }

    public TimeSpan CompileTime { get; }

    public TimeSpan GraphCaptureTime { get; private set; }

    /// <summary>Decode steps that ran cascade attention (requests sharing a cached prefix; see SharedPrefixPlanner).</summary>
    public long SharedPrefixSteps { get; private set; }

    public CudaDevice Device => _device;

    /// <summary>Runs the step and copies the logits of the batch's logits rows to <paramref name="logits"/>.</summary>
    public void Forward(ForwardBatch batch, Span<float> logits)
    {
        if (_launchedSteps != _waitedSteps) throw new InvalidOperationException("Forward with a launched step not yet waited for: call WaitGreedy first.");
        Execute(batch);
        var count = (long)batch.NumLogitsRows * _vocab;
        _logits.CopyToAsync(_logitsStaging, count, _stream);
        _stream.Synchronize();
        new ReadOnlySpan<float>(_logitsStaging.Pointer, (int)count).CopyTo(logits);
    }

    /// <summary>Runs the step and writes the greedy (argmax) token of each logits row: sampling on the GPU, no logits copy.</summary>
    public void ForwardGreedy(ForwardBatch batch, Span<int> tokens)
    {
        if (_launchedSteps != _waitedSteps) throw new InvalidOperationException("ForwardGreedy with a launched step not yet waited for: call WaitGreedy first.");
        LaunchGreedy(batch);
        WaitGreedy(tokens);
    }

    /// <summary>Enqueues the step and its argmax, which writes the tokens to the host's pinned staging; returns without waiting.</summary>
    public void LaunchGreedy(ForwardBatch batch)
    {
        if (_launchedSteps - _waitedSteps >= 2) throw new InvalidOperationException("Two steps are in flight already: WaitGreedy for the older one first.");
        var slot = (int)(_launchedSteps & 1);
        // WaitGreedy watches for these to change: argmax_rows writes nothing negative.
        new Span<int>(_sampledStaging[slot].Pointer, batch.NumLogitsRows).Fill(NoTokenYet);
        Execute(batch);
        var args = new KernelArgs();
        // The tokens go to _sampled, where the next step's placeholders read them, and straight to the host's staging;
        // a padded graph's extra rows get none (the host does not wait for them, so none may land later).
        ArgmaxLaunch.AddArguments(ref args, _logits.Pointer, _vocab, _sampled.Pointer, _argmaxState.Pointer, _sampledStaging[slot].DevicePointer);
        LaunchKernel(_argmax, ArgmaxLaunch.Grid(_vocab, batch.NumLogitsRows), ArgmaxLaunch.Threads, ref args);
        _sampledReady[slot].Record(_stream);
        _inFlightRows[slot] = batch.NumLogitsRows;
        _launchedSteps++;
    }

    /// <summary>Waits for the oldest launched step not yet waited for and copies out its tokens.</summary>
    public void WaitGreedy(Span<int> tokens)
    {
        if (_waitedSteps == _launchedSteps) throw new InvalidOperationException("WaitGreedy without a launched step.");
        var slot = (int)(_waitedSteps & 1);
        var staged = _sampledStaging[slot].Pointer;
        for (var r = 0; r < _inFlightRows[slot]; r++) AwaitToken(ref staged[r], _sampledReady[slot]);
        new ReadOnlySpan<int>(staged, _inFlightRows[slot]).CopyTo(tokens);
        _waitedSteps++;
    }

    private const int NoTokenYet = -1;

    /// <summary>
    /// Spins until argmax_rows has written <paramref name="token"/> to pinned memory: the host sees it ~1-3 us sooner
    /// than the step's event would tell (the kernel's end and the event's own completion come after), which is on
    /// every decode step's path. Every so often the event is asked too, so a failed step throws its CUDA error
    /// instead of spinning forever; once it has completed, every token has landed.
    /// </summary>
    private static void AwaitToken(ref int token, CudaEvent ready)
    {
        for (var spins = 1; Volatile.Read(ref token) == NoTokenYet; spins++)
            if (spins % 1024 == 0 && ready.IsComplete) break;
    }

    /// <summary>Enqueues a forward step.</summary>
    private void Execute(ForwardBatch batch)
    {
        if (batch.NumTokens > _maxTokens) throw new ArgumentException($"A step of {batch.NumTokens} tokens exceeds --max-batch-tokens {_maxTokens}");
        _inputsUploaded.Synchronize(); // the previous step's uploads have left the pinned staging buffers
        if (batch.Mode == ForwardMode.Decode)
        {
            var graphSize = GraphSizeFor(batch.BatchSize);
            var sharedPrefix = StageDecode(batch, graphSize > 0 ? graphSize : batch.BatchSize);
            if (sharedPrefix) SharedPrefixSteps++;
            UploadInputs(batch);
            if (graphSize > 0)
            {
                (sharedPrefix ? _sharedPrefixGraphs : _graphs)[graphSize].Launch(_stream);
                _kernelEnqueued = false; // a kernel after the graph waits for all of it
                return;
            }
            EnqueueDecode(batch.BatchSize, sharedPrefix);
            return;
        }
        StageExtend(batch);
        UploadInputs(batch);
        var maxExtend = 0;
        foreach (var len in batch.ExtendSeqLens) maxExtend = Math.Max(maxExtend, len);
        EnqueueSteps(ForwardMode.Extend, batch.NumTokens, batch.BatchSize, batch.NumLogitsRows, maxExtend, 0);
    }

    /// <summary>Ends staging. An extend step's inputs are copied to the device, then placeholder ids -(r + 1) turned into
    /// the tokens the previous step sampled (still in <see cref="_sampled"/>), so a step can be launched before its
    /// inputs reached the host; a decode step's first kernel does both (EnqueueDecode).</summary>
    private void UploadInputs(ForwardBatch batch)
    {
        _inputs.Upload(_stream);
        if (batch.Mode == ForwardMode.Decode) return;
        _inputsUploaded.Record(_stream);
        _kernelEnqueued = false;
        if (!batch.InputIds.ContainsAnyInRange(int.MinValue, -1)) return;
        var args = new KernelArgs();
        args.Add(_inputs.Pointer(Section.InputIds)).Add(batch.NumTokens).Add(_sampled.Pointer);
        LaunchKernel(_resolvePlaceholders, (batch.NumTokens + 127) / 128, 128, ref args);
        _kernelEnqueued = false; // kernels read input ids before waiting on their predecessor: this one must be done
    }

    /// <summary>
    /// The split of L1 and shared memory every kernel of the runner asks for: the same for all, so that an SM never
    /// drains to reconfigure it between two kernels (which also stops the next one from starting early), with room for
    /// two 4-stage gemm_tiled CTAs (or one of 8 stages) and the rest L1, which the GEMVs' loads in flight need. Measured
    /// on the H100 (Qwen3-0.6B, decode step on the GPU, 4-stage gemm_tiled chosen at 32-64 rows): the driver's own
    /// choice per kernel 1.99-2.07 ms at batch 64; the largest shared carveout for all 1.78-1.84 ms, but batch 1 0.95
    /// against 0.90 ms (GEMVs short of L1); this one (57 %) 1.74-1.87 and 0.90-0.91 ms.
    /// </summary>
    private int SharedMemoryCarveoutPercent()
    {
        var perSm = _device.Attribute(CuDeviceAttribute.MaxSharedMemoryPerMultiprocessor);
        return Math.Min(100, (int)Math.Ceiling(100.0 * CarveoutSharedBytes / perSm));
    }

    /// <summary>The driver's own shared memory per resident CTA.</summary>
    private const int ReservedSharedPerBlock = 1024;

    /// <summary>Shared memory the carveout makes room for on an SM: two 4-stage gemm_tiled CTAs or one of the host's
    /// stages.</summary>
    private int CarveoutSharedBytes =>
        Math.Max(2 * (SmallGemms.TiledSharedBytes(4) + ReservedSharedPerBlock), SmallGemms.TiledSharedBytes(TiledStages) + ReservedSharedPerBlock);

    private int GraphSizeFor(int batchSize)
    {
        foreach (var size in _graphSizes) if (size >= batchSize) return size;
        return 0;
    }

    private T Own<T>(T resource) where T : IDisposable
    {
        _owned.Add(resource);
        return resource;
    }

    public void Dispose()
    {
        foreach (var graph in _graphs.Values.Concat(_sharedPrefixGraphs.Values)) graph.Dispose();
        _graphs.Clear();
        _sharedPrefixGraphs.Clear();
        for (var i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
        _device.Dispose();
    }
}
