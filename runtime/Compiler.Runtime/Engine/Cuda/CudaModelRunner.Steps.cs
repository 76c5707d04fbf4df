using System.Diagnostics;
using Compiler.Runtime.Cuda;
using Compiler.Runtime.Cuda.Native;
using Compiler.Runtime.Kernels;
using Compiler.Runtime.Plan;
using static Compiler.Runtime.Engine.Cuda.StepInputs;

namespace Compiler.Runtime.Engine.Cuda;

// Staging a batch's inputs and enqueueing the plan's launches.
internal sealed unsafe partial class CudaModelRunner
{
    /// <summary>Decode inputs for <paramref name="rows"/> rows: the batch's requests, then padding rows that write the
    /// padding KV slot and attend over the padding request (so a graph captured for a larger batch can serve it).
    /// Returns whether the step runs cascade attention (requests sharing a prefix worth it; see SharedPrefixPlanner).</summary>
    private bool StageDecode(ForwardBatch batch, int rows)
    {
        var n = batch.BatchSize;
        _inputs.Begin(Layout.Decode);
        var ids = _inputs.Stage(Section.InputIds, rows);
        var positions = _inputs.Stage(Section.Positions, rows);
        var slots = _inputs.Stage(Section.OutCacheLoc, rows);
        var logitsRows = _inputs.Stage(Section.LogitsRows, rows);
        var requests = _inputs.Stage(Section.ReqPoolIndices, rows);
        var seqLens = _inputs.Stage(Section.SeqLens, rows);
        batch.InputIds.CopyTo(ids);
        batch.Positions.CopyTo(positions);
        batch.OutCacheLoc.CopyTo(slots);
        batch.ReqPoolIndices.CopyTo(requests);
        batch.SeqLens.CopyTo(seqLens);
        for (var r = 0; r < rows; r++) logitsRows[r] = r;
        for (var r = n; r < rows; r++)
        {
            ids[r] = 0; positions[r] = 0; slots[r] = 0; requests[r] = _paddingRequest; seqLens[r] = 1;
        }
        return StageSharedPrefixes(batch, rows);
    }

    /// <summary>The cascade plan's inputs: every row's shared prefix (zero without a plan, since decode attention reads
    /// them in every step), and where the step has a plan, each row's chunk count, the tiles and the work items. The
    /// step's first kernel reads all of them up to the work items' capacity (EnqueueDecode).</summary>
    private bool StageSharedPrefixes(ForwardBatch batch, int rows)
    {
        var prefixLens = _inputs.Stage(Section.SharedPrefixLens, rows);
        prefixLens.Clear(); // the padding rows, and every row of a step without a plan
        if (_prefixPlanner is null || batch.BatchSize == 1) return false; // a batch of one shares with nobody
        var prefixChunks = _inputs.Stage(Section.PrefixChunks, rows);
        var tiles = _inputs.Stage(Section.PrefixTiles, _prefixPlanner.TilesCapacity(rows));
        var work = _inputs.Stage(Section.PrefixWork, _prefixPlanner.WorkCapacity(rows));
        // With no items, the prefix lengths stay zero and nothing after them is read.
        return _prefixPlanner.Plan(batch.ReqPoolIndices, batch.SeqLens, batch.ReqToTokenPool, prefixLens, prefixChunks, tiles, work, out _) > 0;
    }

    /// <summary>Extend (and mixed) inputs, plus each request's req_to_token row up to its new length.</summary>
    private void StageExtend(ForwardBatch batch)
    {
        _inputs.Begin(Layout.Extend);
        batch.InputIds.CopyTo(_inputs.Stage(Section.InputIds, batch.NumTokens));
        batch.Positions.CopyTo(_inputs.Stage(Section.Positions, batch.NumTokens));
        batch.OutCacheLoc.CopyTo(_inputs.Stage(Section.OutCacheLoc, batch.NumTokens));
        batch.LogitsTokenIndices.CopyTo(_inputs.Stage(Section.LogitsRows, batch.NumLogitsRows));
        batch.ReqPoolIndices.CopyTo(_inputs.Stage(Section.ReqPoolIndices, batch.BatchSize));
        batch.SeqLens.CopyTo(_inputs.Stage(Section.SeqLens, batch.BatchSize));
        batch.ExtendPrefixLens.CopyTo(_inputs.Stage(Section.PrefixLens, batch.BatchSize));
        var indptr = _inputs.Stage(Section.QoIndptr, batch.BatchSize + 1);
        indptr[0] = 0;
        for (var b = 0; b < batch.BatchSize; b++) indptr[b + 1] = indptr[b] + batch.ExtendSeqLens[b];

        // The device copy of req_to_token learns each request's slots, prefix (e.g. from the radix cache) included.
        // Each row is staged at its own offset, so the copies need no waiting; the step's end synchronises.
        var table = batch.ReqToTokenPool;
        long staged = 0;
        for (var b = 0; b < batch.BatchSize; b++)
        {
            var request = batch.ReqPoolIndices[b];
            var length = batch.SeqLens[b];
            if (length > _stride) throw new ArgumentException($"A request of {length} tokens exceeds the context length {_stride}");
            UploadReqToTokenRow(request, table.ReadRow(request, length), staged);
            staged += length;
        }
    }

    /// <summary>Copies <paramref name="slots"/> to the pinned staging at <paramref name="stagingOffset"/> and from there,
    /// on the stream, to the start of request <paramref name="request"/>'s row of the device's req_to_token.</summary>
    private void UploadReqToTokenRow(int request, ReadOnlySpan<int> slots, long stagingOffset)
    {
        var staging = _reqToTokenStaging.Pointer + stagingOffset;
        slots.CopyTo(new Span<int>(staging, slots.Length));
        Cu.Check(CuDriver.cuMemcpyHtoDAsync(_reqToToken.Pointer + (ulong)((long)request * _stride * sizeof(int)), staging, (nuint)(slots.Length * sizeof(int)), _stream.Handle),
            "cuMemcpyHtoDAsync", "uploading req_to_token");
    }

    private void EnqueueDecode(int batchSize, bool sharedPrefix)
    {
        _sharedPrefixStep = sharedPrefix;
        // What StageDecode stages for this many rows: through the shared prefix lengths, or the cascade plan's work.
        var span = sharedPrefix ? _inputs.DecodeSpan(Section.PrefixWork, _prefixPlanner!.WorkCapacity(batchSize))
            : _inputs.DecodeSpan(Section.SharedPrefixLens, batchSize);
        var args = new KernelArgs();
        args.Add(_inputs.StagedPointer(Section.InputIds, Layout.Decode)).Add(_inputs.Pointer(Section.InputIds, Layout.Decode)).Add(span / 4)
            .Add(_sampled.Pointer).Add(_inputs.DecodeOffset(Section.InputIds)).Add(batchSize).Add(_reqToToken.Pointer).Add(_stride)
            .Add(_inputs.DecodeOffset(Section.ReqPoolIndices)).Add(_inputs.DecodeOffset(Section.SeqLens)).Add(_inputs.DecodeOffset(Section.OutCacheLoc));
        _kernelEnqueued = false; // the previous step's kernels may read the inputs this one overwrites
        LaunchKernel(_loadDecodeInputs, (Math.Max(span / 4, batchSize) + 127) / 128, 128, ref args);
        _inputsUploaded.RecordOrCapture(_stream); // the host may stage the next step once this kernel has read the staging
        _kernelEnqueued = false; // ... and the kernels after it read the inputs, some before their wait
        var wide = _attention.UseWideDecode(batchSize, _device.MultiprocessorCount);
        var splits = _attention.DecodeNumSplits(batchSize, _stride, _device.MultiprocessorCount, _workspaceBatch, 8, wide);
        EnqueueSteps(ForwardMode.Decode, batchSize, batchSize, batchSize, 1, splits);
    }

    /// <summary>The plan's launches: prologue, every layer, epilogue. A decode kernel step with a GEMV prologue kernel
    /// and the GEMM after it (in the next layer, for the layer's last step) become one launch where the GEMV runs that
    /// GEMM and the prologue kernel serves it (PlanGemvPrologues); one with an attention prologue kernel and the decode
    /// attention after it become one attention launch, unless the step runs cascade attention (whose shared half
    /// reads q before decode attention does); a GEMM with the plan's SiLU gate after it takes in that gate kernel
    /// where its kernel can (gemm_tiled_silu, or the bulk GEMV's gate), with or without a prologue kernel; a decode
    /// kernel step with a norm epilogue between two GEMMs on gemm_tiled is split over their epilogues (SplitNormAfter).</summary>
    private void EnqueueSteps(ForwardMode mode, int tokens, int batchSize, int logitsRows, int maxExtend, int splits)
    {
        var layerSteps = mode == ForwardMode.Decode ? _decodeLayers : _extendLayers;
        var layout = (int)(mode == ForwardMode.Decode ? Layout.Decode : Layout.Extend);
        foreach (var step in _prologues[layout]) Enqueue(step, null, tokens, batchSize, logitsRows, maxExtend, splits);
        var skip = 0; // steps the launches before have run
        NormBinding? rowScale = null; // a norm the last GEMM's epilogue began, which the next GEMM's completes
        for (var l = 0; l < layerSteps.Length; l++)
        {
            var layer = layerSteps[l];
            for (var s = 0; s < layer.Length; s++)
            {
                if (skip > 0) { skip--; continue; }
                var step = layer[s];
                GemmNorm? norm = null;
                if (step.Kind == StepKind.Gemm && rowScale is not null) (norm, rowScale) = (new GemmNorm(TiledNormEpilogue.RowScale, rowScale), null);
                else if (step.Kind == StepKind.Gemm && SplitNormAfter(layerSteps, l, s, tokens) is { } split)
                {
                    Enqueue(step, null, tokens, batchSize, logitsRows, maxExtend, splits, new GemmNorm(TiledNormEpilogue.AddNorm, split));
                    (skip, rowScale) = (1, split); // the norm kernel
                    continue;
                }
                var next = step.Gemv is not null ? StepAfter(layerSteps, l, s)
                    : step.Attention is not null && !_sharedPrefixStep ? layer[s + 1]
                    : step.Kind == StepKind.Gemm && FusesSiluGate(step, tokens) ? layer[s + 1] : null;
                var runsNext = next is not null && (next.Kind != StepKind.Gemm || next.Gemm!.RunsPrologue(tokens));
                skip = !runsNext ? 0 : next!.Kind == StepKind.Gemm && FusesSiluGate(next, tokens) ? 2 : 1; // a GEMM's gate too
                Enqueue(step, runsNext ? next : null, tokens, batchSize, logitsRows, maxExtend, splits, norm);
            }
        }
        foreach (var step in _epilogues[layout]) Enqueue(step, null, tokens, batchSize, logitsRows, maxExtend, splits);
    }

    /// <summary>The norm of the kernel step after GEMM step <paramref name="s"/> of layer <paramref name="l"/> where it is
    /// split over this GEMM's epilogue and the next one's (BoundStep.Norm): gemm_tiled runs both at this many rows.</summary>
    private NormBinding? SplitNormAfter(BoundStep[][] layers, int l, int s, int rows)
    {
        if (s + 1 >= layers[l].Length || layers[l][s + 1].Norm is not { } norm) return null;
        return OnTiled(layers[l][s]) && OnTiled(StepAfter(layers, l, s + 1)) ? norm : null;

        bool OnTiled(BoundStep gemm) => gemm.Gemm is { FloatOutput: false } shape && shape.ChoiceFor(rows).Kernel == SmallGemmKernel.Tiled;
    }

    /// <summary>Launches <paramref name="step"/>, or with <paramref name="next"/> (the GEMM or the decode attention after
    /// it) its prologue kernel, which also runs that step, or (after a GEMM: its SiLU gate) the GEMM with the gate; a GEMM
    /// with <paramref name="norm"/>, its part of a split norm.</summary>
    private void Enqueue(BoundStep step, BoundStep? next, int tokens, int batchSize, int logitsRows, int maxExtend, int splits, GemmNorm? norm = null)
    {
        if (_profile is null) { Launch(step, next, tokens, batchSize, logitsRows, maxExtend, splits, norm); return; }
        var (start, end) = (CudaEvent.Create(), CudaEvent.Create());
        start.Record(_stream);
        Launch(step, next, tokens, batchSize, logitsRows, maxExtend, splits, norm);
        end.Record(_stream);
        var name = next is not null ? (step.Kind == StepKind.Gemm ? $"gemm {step.Name} + {next.Name}" : next.Kind == StepKind.Gemm ? step.Gemv!.Name : step.Attention!.Name)
            : norm is { Part: TiledNormEpilogue.AddNorm } ? $"gemm {step.Name} + {norm.Value.Binding.Kernel}"
            : step.Kind == StepKind.Kernel ? step.Fused!.Name : $"{step.Kind.ToString().ToLowerInvariant()} {step.Name}";
        _profile.Add((name, start, end));
    }

    /// <summary>A step of one layer with everything that does not change between forward steps resolved once:
    /// the kernel and its pointer arguments, or the GEMM's weight and sizes, or the layer's KV cache.</summary>
    private sealed record BoundStep(StepKind Kind, string Name, RowSet Rows, int Layer, ulong Input, ulong Output)
    {
        public FusedKernel? Fused { get; init; }
        public CudaKernel? Kernel { get; init; }
        public ulong[] Arguments { get; init; } = [];
        public ulong Weight { get; init; }
        public GemmShapeKernels? Gemm { get; init; }
        /// <summary>Decode kernel step: its GEMV prologue kernel (the plan's, both prefetch depths) and its pointer arguments.</summary>
        public GemvPrologueBinding? Gemv { get; init; }
        /// <summary>Decode kernel step: its attention prologue kernel (both entry points) and its pointer arguments.</summary>
        public AttentionPrologueBinding? Attention { get; init; }
        /// <summary>Gemm step: the SiLU gate's output where the plan folds the gate kernel after it into the GEMM's
        /// epilogue, which gemm_tiled and the bulk GEMV apply (Step.SiluGate; not with
        /// <see cref="CudaRunnerOptions.DisableGemmEpilogues"/>), else 0.</summary>
        public ulong SiluGate { get; init; }
        /// <summary>Decode kernel step: its split over the epilogues of the GEMMs around it, where the plan has one and the
        /// runner may (not in the last layer for the layer's last step, not with <see cref="CudaRunnerOptions.DisableNormEpilogues"/>).</summary>
        public NormBinding? Norm { get; init; }
    }

    private sealed record GemvPrologueBinding(string Name, CudaKernel P4, CudaKernel P8, CudaKernel Bulk, ulong[] Arguments);

    /// <summary>A residual add + RMS norm kernel step's split over two GEMMs' epilogues (Step.NormEpilogue): its kernel's
    /// name, the residual it reads and the one it writes, the norm's weight, the normed row the GEMM after reads, epsilon.</summary>
    private sealed record NormBinding(string Kernel, ulong Residual, ulong ResidualOut, ulong Weight, ulong Normed, float Epsilon);

    /// <summary>A GEMM's part of a split norm: the add and the weight (the GEMM before), or the rows' scales (after).</summary>
    private readonly record struct GemmNorm(TiledNormEpilogue Part, NormBinding Binding);

    private sealed record AttentionPrologueBinding(string Name, CudaKernel Narrow, CudaKernel Wide, ulong[] Arguments);

    /// <summary>The entry points of an attention prologue kernel, as decode_attention and decode_attention_wide.</summary>
    private static readonly string[] AttentionPrologueEntries = ["", "_wide"];

    /// <summary>The step after step <paramref name="s"/> of layer <paramref name="l"/>: the next one, or for the layer's
    /// last step the next layer's first -- the GEMM that a GEMV prologue kernel or a split norm bound to step s feeds
    /// (neither is bound to the last layer's last step).</summary>
    private static BoundStep StepAfter(BoundStep[][] layers, int l, int s) => s + 1 < layers[l].Length ? layers[l][s + 1] : layers[l + 1][0];

    /// <summary>The entry points of a GEMV prologue kernel, as gemv_bf16_p4/p8 (GemvFor picks the depth) and
    /// gemv_bf16_bulk.</summary>
    private static readonly string[] GemvPrologueEntries = ["_p4", "_p8", "_bulk"];

    /// <summary>A decode layer step, with its attention prologue kernel bound where the plan has one (not with
    /// <see cref="CudaRunnerOptions.DisableAttentionPrologues"/>), and its GEMV prologue kernel where the plan has one
    /// and a GEMM follows in this runner (every layer but the last; not with
    /// <see cref="CudaRunnerOptions.DisableGemvPrologues"/>).</summary>
    private BoundStep BindDecode(Step step, int layer)
    {
        var bound = Bind(step, layer, Layout.Decode);
        if (step.AttentionPrologue is { } attention && !_options.DisableAttentionPrologues)
        {
            var kernel = _plan.AttentionPrologues.First(a => a.Name == attention);
            return bound with
            {
                Attention = new AttentionPrologueBinding(attention, _kernels[attention + AttentionPrologueEntries[0]], _kernels[attention + AttentionPrologueEntries[1]],
                    kernel.Params.Select(p => Pointer(p, layer, Layout.Decode)).ToArray()),
            };
        }
        if (step.NormEpilogue is { } norm && !(step.LastLayerKernel is not null && layer == _layers - 1) && !_options.DisableNormEpilogues &&
            _valueTypes[norm.Residual] == ElementType.Float32 && _valueTypes[norm.ResidualOut] == ElementType.Float32 && _valueTypes[norm.Normed] == ElementType.BFloat16)
            bound = bound with
            {
                Norm = new NormBinding(step.Kernel!, _valuePointers[norm.Residual], _valuePointers[norm.ResidualOut],
                    _weights[ModelWeights.Expand(norm.Weight, layer + norm.LayerOffset)], _valuePointers[norm.Normed], (float)_constants.Values[norm.Epsilon]),
            };
        if (step.GemvPrologue is not { } name || layer == _layers - 1 || _options.DisableGemvPrologues) return bound;
        var gemv = _plan.GemvPrologues.First(g => g.Name == name);
        var (p4, p8, bulk) = (_kernels[name + GemvPrologueEntries[0]], _kernels[name + GemvPrologueEntries[1]], _kernels[name + GemvPrologueEntries[2]]);
        return bound with { Gemv = new GemvPrologueBinding(name, p4, p8, bulk, gemv.Params.Select(p => Pointer(p, layer, Layout.Decode)).ToArray()) };
    }

    /// <summary>Lets a GEMV prologue kernel's entry points take the dynamic shared memory they launch with, once at load:
    /// the streamed GEMV's input rows, up to GemvMaxRows rows of the GEMM's K bf16 (64 KiB for Llama-3.1-8B's 4096),
    /// past the 48 KiB a launch gets without asking; the bulk GEMV's rows and weight run.</summary>
    private void SetGemvPrologueSharedMemory(ModelPlan plan, GemvPrologueKernel gemv)
    {
        var k = _constants.Dim(plan.Buffers.First(b => b.Value == gemv.Input).Length); // the GEMM's K
        var bytes = (int)(SmallGemms.GemvMaxRows * k * sizeof(ushort));
        _kernels[gemv.Name + GemvPrologueEntries[0]].SetMaxDynamicSharedMemory(bytes);
        _kernels[gemv.Name + GemvPrologueEntries[1]].SetMaxDynamicSharedMemory(bytes);
        if (GemvBulkSupported) _kernels[gemv.Name + GemvPrologueEntries[2]].SetMaxDynamicSharedMemory(GemvBulkMaxSharedBytes);
    }

    /// <summary>Enqueues one of the step's kernels; every kernel but the step's first may start while its predecessor
    /// runs (all kernels the runner launches call griddepcontrol.wait before touching their predecessor's data).</summary>
    private void LaunchKernel(CudaKernel kernel, Dim3 grid, Dim3 block, ref KernelArgs args, uint sharedMemoryBytes = 0)
    {
        kernel.Launch(grid, block, _stream, ref args, sharedMemoryBytes, programmatic: _programmatic && _kernelEnqueued);
        _kernelEnqueued = true;
    }

    private BoundStep Bind(Step step, int layer, Layout layout)
    {
        ulong Value(int value) => value < 0 ? 0 : _valuePointers[value];
        var bound = new BoundStep(step.Kind, step.Name, step.Rows, layer, Value(step.Input), Value(step.Output));
        switch (step.Kind)
        {
            case StepKind.Kernel:
                var name = step.LastLayerKernel is { } last && layer == _layers - 1 ? last : step.Kernel!;
                var fused = _fusedKernels[name];
                return bound with { Fused = fused, Kernel = _kernels[name], Arguments = fused.Params.Select(p => Pointer(p, layer, layout)).ToArray() };
            case StepKind.Gemm:
                var shape = GemmShapeFor((int)_constants.Dim(step.N!), (int)_constants.Dim(step.K!), _valueTypes[step.Output] == ElementType.Float32);
                var weight = _weights[ModelWeights.Expand(step.Weight!, layer)];
                if (!shape.Weights.Contains(weight)) shape.Weights.Add(weight); // extend and decode layers bind the same weights
                var gate = step.SiluGate >= 0 && !_options.DisableGemmEpilogues && _valueTypes[step.SiluGate] == ElementType.BFloat16 && !shape.FloatOutput;
                shape.FeedsSiluGate |= gate;
                return bound with { Weight = weight, Gemm = shape, SiluGate = gate ? Value(step.SiluGate) : 0 };
            default:
                return bound;
        }
    }

    private List<(string Name, CudaEvent Start, CudaEvent End)>? _profile;

    /// <summary>GPU milliseconds per replay of the decode graph that serves <paramref name="batchSize"/> requests, over
    /// <paramref name="replays"/> replays back to back (no host work between them); null when no graph serves it.
    /// Each replay recomputes the last decode step from the inputs it uploaded (the same KV slots, the same sampled
    /// tokens), so the batch's state is unchanged. Separates the GPU's share of a decode step from the host's.</summary>
    public double? TimeDecodeGraph(int batchSize, int replays)
    {
        var size = GraphSizeFor(batchSize);
        if (size == 0 || replays <= 0) return null;
        return ReplayMilliseconds(_graphs[size], replays);
    }

    /// <summary>GPU milliseconds per replay of <paramref name="graph"/>, replayed <paramref name="replays"/> times back to back.</summary>
    private double ReplayMilliseconds(CudaGraph graph, int replays)
    {
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();
        start.Record(_stream);
        for (var i = 0; i < replays; i++) graph.Launch(_stream);
        end.Record(_stream);
        end.Synchronize();
        _kernelEnqueued = false;
        return CudaEvent.ElapsedMilliseconds(start, end) / replays;
    }

    /// <summary>Runs one step eagerly with an event pair around every launch; returns GPU milliseconds per launch name
    /// (summed over layers) and the launch count. For finding where the time goes, not for timing the step. The step
    /// is also the profiler range (cuProfilerStart/Stop), so `ncu --profile-from-start off` measures exactly its kernels.</summary>
    public IReadOnlyList<(string Name, int Launches, double Milliseconds)> Profile(ForwardBatch batch)
    {
        _profile = new();
        _stream.Synchronize();
        CuDriver.cuProfilerStart(); // no profiler attached: a no-op whose result does not matter
        try
        {
            if (batch.Mode == ForwardMode.Decode)
            {
                var sharedPrefix = StageDecode(batch, batch.BatchSize);
                UploadInputs(batch);
                EnqueueDecode(batch.BatchSize, sharedPrefix);
            }
            else Execute(batch);
            _stream.Synchronize();
            CuDriver.cuProfilerStop();
            var result = _profile.GroupBy(p => p.Name)
                .Select(g => (g.Key, g.Count(), g.Sum(p => (double)CudaEvent.ElapsedMilliseconds(p.Start, p.End))))
                .OrderByDescending(r => r.Item3).ToList();
            foreach (var (_, start, end) in _profile) { start.Dispose(); end.Dispose(); }
            return result;
        }
        finally { _profile = null; }
    }

    private void Launch(BoundStep step, BoundStep? next, int tokens, int batchSize, int logitsRows, int maxExtend, int splits, GemmNorm? norm)
    {
        var rows = step.Rows == RowSet.AllTokens ? tokens : logitsRows;
        var layer = step.Layer;
        if (step.Kind == StepKind.Gemm && next is not null) // next: the SiLU gate
        {
            LaunchGemm(step.Gemm!, step.Gemm!.ChoiceFor(rows), step.Weight, step.Input, step.SiluGate, rows, siluGate: true, norm);
            return;
        }
        if (next is { Kind: StepKind.DecodeAttention })
        {
            LaunchDecodeAttention(next, batchSize, splits, step.Attention);
            return;
        }
        if (next is { } gemm)
        {
            LaunchGemvPrologue(step.Gemv!, gemm, rows);
            return;
        }
        switch (step.Kind)
        {
            case StepKind.Kernel:
            {
                var args = new KernelArgs();
                foreach (var pointer in step.Arguments) args.Add(pointer);
                // Few rows (decode): spread a splittable kernel's columns (or heads) over more blocks to fill the SMs.
                var columnBlocks = step.Fused!.SplitsColumns && rows < _device.MultiprocessorCount ? Math.Min(16, _device.MultiprocessorCount / rows) : 1;
                LaunchKernel(step.Kernel!, new Dim3((uint)rows, (uint)columnBlocks, 1), FusedKernel.BlockSize, ref args);
                break;
            }
            case StepKind.Gemm: // the GEMM before a split norm writes the normed row before its scale (sum * weight)
                var output = norm is { Part: TiledNormEpilogue.AddNorm } ? norm.Value.Binding.Normed : step.Output;
                LaunchGemm(step.Gemm!, step.Gemm!.ChoiceFor(rows), step.Weight, step.Input, output, rows, norm: norm);
                break;
            case StepKind.ExtendAttention:
            {
                var shape = _attention.ExtendLaunch(batchSize, maxExtend);
                var args = new KernelArgs();
                args.Add(step.Input).Add(_kCache[layer]).Add(_vCache[layer]).Add(_reqToToken.Pointer).Add(_stride)
                    .Add(_inputs.Pointer(Section.ReqPoolIndices)).Add(_inputs.Pointer(Section.QoIndptr)).Add(_inputs.Pointer(Section.PrefixLens))
                    .Add(step.Output).Add(_softmaxScale);
                LaunchKernel(_extendAttention, new Dim3((uint)shape.GridX, (uint)shape.GridY, (uint)shape.GridZ), shape.BlockX, ref args, (uint)shape.DynamicSharedMemoryBytes);
                break;
            }
            case StepKind.DecodeAttention:
                if (_sharedPrefixStep) LaunchSharedPrefixAttention(step, batchSize);
                LaunchDecodeAttention(step, batchSize, splits, null);
                break;
        }
    }

    /// <summary>Decode attention of the layer of <paramref name="step"/>: the library kernel, reading q from the step's
    /// input, or with <paramref name="prologue"/> the generated kernel that computes q (and stores the new K/V) itself
    /// from the prologue's arguments.</summary>
    private void LaunchDecodeAttention(BoundStep step, int batchSize, int splits, AttentionPrologueBinding? prologue)
    {
        var wide = _attention.UseWideDecode(batchSize, _device.MultiprocessorCount);
        var shape = _attention.DecodeLaunch(batchSize, splits, wide);
        var counters = _decodeWorkspace.Pointer;
        var partials = counters + (ulong)_attention.DecodeCountersBytes(_workspaceBatch);
        var args = new KernelArgs();
        if (prologue is null) args.Add(step.Input).Add(_kCache[step.Layer]).Add(_vCache[step.Layer]);
        else foreach (var pointer in prologue.Arguments) args.Add(pointer);
        args.Add(_reqToToken.Pointer).Add(_stride).Add(_inputs.Pointer(Section.ReqPoolIndices)).Add(_inputs.Pointer(Section.SeqLens)).Add(step.Output)
            .Add(counters).Add(partials).Add(_softmaxScale)
            .Add(_inputs.Pointer(Section.SharedPrefixLens)).Add(_inputs.Pointer(Section.PrefixChunks)).Add(_prefixPartials?.Pointer ?? 0);
        var kernel = prologue is null ? (wide ? _decodeAttentionWide : _decodeAttention) : wide ? prologue.Wide : prologue.Narrow;
        LaunchKernel(kernel, new Dim3((uint)shape.GridX, (uint)shape.GridY, (uint)shape.GridZ), shape.BlockX, ref args);
    }

    /// <summary>The shared half of a cascade decode step: each tile's q rows over its shared prefix, partial states out
    /// for the decode attention launched next to merge.</summary>
    private void LaunchSharedPrefixAttention(BoundStep step, int batchSize)
    {
        var shape = _attention.SharedPrefixLaunch(_prefixPlanner!.MaxItems(batchSize), _device.MultiprocessorCount);
        var args = new KernelArgs();
        args.Add(step.Input).Add(_kCache[step.Layer]).Add(_vCache[step.Layer]).Add(_reqToToken.Pointer).Add(_stride)
            .Add(_inputs.Pointer(Section.ReqPoolIndices)).Add(_inputs.Pointer(Section.PrefixTiles)).Add(_inputs.Pointer(Section.PrefixWork))
            .Add(_prefixPartials!.Pointer).Add(batchSize).Add(AttentionKernels.DecodeMaxPrefixChunks).Add(_softmaxScale);
        LaunchKernel(_sharedPrefixAttention, new Dim3((uint)shape.GridX, (uint)shape.GridY, 1), shape.BlockX, ref args, (uint)shape.DynamicSharedMemoryBytes);
    }

    private ulong Pointer(KernelParam p, int layer, Layout layout) => p.Kind switch
    {
        ParamKind.InputBuffer or ParamKind.OutputBuffer => _valuePointers[p.Value],
        ParamKind.Weight => _weights[ModelWeights.Expand(p.Weight!, layer + p.LayerOffset)],
        ParamKind.InputIds => _inputs.Pointer(Section.InputIds, layout),
        ParamKind.Positions => _inputs.Pointer(Section.Positions, layout),
        ParamKind.InvFreq => _invFreq.Pointer,
        ParamKind.OutCacheLoc => _inputs.Pointer(Section.OutCacheLoc, layout),
        ParamKind.KCache => _kCache[layer + p.LayerOffset],
        ParamKind.VCache => _vCache[layer + p.LayerOffset],
        ParamKind.RowIndex => _inputs.Pointer(Section.LogitsRows, layout),
        _ => throw new InvalidOperationException($"Unknown kernel parameter {p.Kind}"),
    };

    /// <summary>Stages a decode step of <paramref name="rows"/> padding requests (what a graph is captured on) and runs it
    /// once eagerly, so modules and cuBLASLt's plans are ready before a capture; returns with the stream idle.</summary>
    private void RunPaddingDecode(int rows)
    {
        var padding = new ForwardBatch(new Memory.ReqToTokenPool(1, 1));
        padding.Reset(ForwardMode.Decode, 0, 0);
        RunDecode(padding, rows);
    }

    /// <summary>Stages a decode step of <paramref name="batch"/> padded to <paramref name="rows"/> rows and runs it
    /// once eagerly; returns with the stream idle and the inputs staged for a graph captured next.</summary>
    private void RunDecode(ForwardBatch batch, int rows)
    {
        StageDecode(batch, rows);
        UploadInputs(batch);
        EnqueueDecode(rows, sharedPrefix: false);
        _stream.Synchronize();
    }

    /// <summary>Captures the decode step for every graph batch size (after one eager run each, so cuBLASLt has planned
    /// its shapes); replays then cost one graph launch instead of hundreds of kernel launches.</summary>
    private void CaptureDecodeGraphs(Action<string> log)
    {
        var watch = Stopwatch.StartNew();
        var sizes = _options.GraphBatchSizes().Where(b => b <= _maxRequests).ToList();
        foreach (var size in sizes)
        {
            RunPaddingDecode(size);
            _graphs[size] = CudaGraph.Capture(_stream, _ => EnqueueDecode(size, sharedPrefix: false));
            // A batch of one shares with nobody.
            if (_prefixPlanner is not null && size > 1)
                _sharedPrefixGraphs[size] = CudaGraph.Capture(_stream, _ => EnqueueDecode(size, sharedPrefix: true));
        }
        _graphSizes = [.. sizes];
        _stream.Synchronize();
        GraphCaptureTime = watch.Elapsed;
        var cascade = _prefixPlanner is null ? "" : " (each also with cascade attention, from 2)";
        log($"CUDA graphs: {sizes.Count} decode batch sizes ({string.Join(", ", sizes)}){cascade} captured in {GraphCaptureTime.TotalMilliseconds:F0} ms");
    }
}
