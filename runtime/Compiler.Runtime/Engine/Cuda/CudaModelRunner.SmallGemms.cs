using System.Diagnostics;
using Compiler.Runtime.Cuda;
using Compiler.Runtime.Cuda.Native;
using Compiler.Runtime.Memory;
using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Engine.Cuda;

internal sealed unsafe partial class CudaModelRunner
{
    /// <summary>One GEMM weight shape of the plan (n output features, k inputs, bf16 or fp32 output), shared by the
    /// steps of every layer with that shape: the weights of that shape and the kernel for each row bucket.</summary>
    private sealed class GemmShapeKernels(int n, int k, bool floatOutput, int gemvSplit, CudaKernel gemv)
    {
        public int N { get; } = n;
        public int K { get; } = k;
        public bool FloatOutput { get; } = floatOutput;
        public int GemvSplit { get; } = gemvSplit;
        public CudaKernel Gemv { get; } = gemv;
        public List<ulong> Weights { get; } = new();
        /// <summary>Whether the plan's SiLU gate follows GEMMs of this shape (gate_up_proj): a bulk GEMV's shared memory
        /// is sized for the gated layout.</summary>
        public bool FeedsSiluGate { get; set; }
        public SmallGemmChoice[] Choices { get; } = Enumerable.Repeat(SmallGemmChoice.CublasLt, SmallGemms.BucketRows.Length).ToArray();

        /// <summary>Per row bucket, each candidate's time alone over all the shape's weights (ms), fastest first.</summary>
        public List<(SmallGemmChoice Choice, double Ms)>[] TimedAlone { get; } =
            Enumerable.Range(0, SmallGemms.BucketRows.Length).Select(_ => new List<(SmallGemmChoice, double)>()).ToArray();

        public SmallGemmChoice ChoiceFor(int rows)
        {
            var bucket = SmallGemms.Bucket(rows);
            return bucket < 0 ? SmallGemmChoice.CublasLt : Choices[bucket];
        }

        /// <summary>A GEMV prologue kernel that runs the kernel step before this shape's GEMMs at decode (the first one
        /// bound, for the occupancy below), and per row bucket whether it serves them when the GEMV is chosen.</summary>
        public GemvPrologueBinding? Prologue { get; set; }
        public bool[] PrologueServes { get; } = new bool[SmallGemms.BucketRows.Length];

        /// <summary>Whether the GEMM of <paramref name="rows"/> rows runs its prologue kernel: the GEMV where that serves,
        /// and the bulk GEMV always (a block or two per SM: one wave).</summary>
        public bool RunsPrologue(int rows)
        {
            var bucket = SmallGemms.Bucket(rows);
            return bucket >= 0 && Prologue is not null &&
                   (Choices[bucket].Kernel == SmallGemmKernel.Gemv && PrologueServes[bucket] || Choices[bucket].Kernel == SmallGemmKernel.GemvBulk);
        }

        public override string ToString() => $"{N}x{K}";
    }

    private const double Margin = 0.05;

    /// <summary>gemm_tiled's K splits run in thread-block clusters, which sm_90 brought.</summary>
    private int TiledMaxSplit => _device.ComputeCapability.Major >= 9 ? SmallGemms.TiledMaxSplit : 1;

    private int TiledStages => SmallGemms.TiledStages(_device.ComputeCapability.Major, _device.ComputeCapability.Minor);

    private readonly Dictionary<(int N, int K, bool FloatOutput), GemmShapeKernels> _gemmShapes = new();

    private GemmShapeKernels GemmShapeFor(int n, int k, bool floatOutput)
    {
        if (!_gemmShapes.TryGetValue((n, k, floatOutput), out var shape))
        {
            var split = GemvSplitFor(n, k);
            _gemmShapes[(n, k, floatOutput)] = shape = new GemmShapeKernels(n, k, floatOutput, split, GemvFor(k / split));
        }
        return shape;
    }

    /// <summary>The GEMV for a row of K weights: gemv_bf16_p8 (8 chunks of 8 weights per lane loaded before waiting on
    /// the previous kernel) where that is the whole row, else gemv_bf16_p4 (measured: deeper prefetch of long rows costs
    /// more occupancy than it hides; Llama-3.1-8B batch 1 went from 6.7 to 7.3 ms with a 16-chunk prefetch).</summary>
    private CudaKernel GemvFor(int k) => k is > 4 * 256 and <= 8 * 256 ? _gemvP8 : _gemvP4;

    /// <summary>Warps per output feature of a GEMV (its KSPLIT): few features (o_proj and down_proj of a small model:
    /// 1024) give one warp per SM sub-partition, too few loads in flight to cover memory latency, so each row is cut
    /// into slices until there are about 24 warps per SM. A slice keeps at least one 16-byte chunk per lane.</summary>
    private int GemvSplitFor(int n, int k)
    {
        var split = 1;
        while (split < 8 && (long)n * split < 24L * _device.MultiprocessorCount && k % (8 * 32 * split * 2) == 0) split *= 2;
        return split;
    }

    /// <summary>The bulk GEMV (gemv_bulk) needs sm_90's bulk copies.</summary>
    private bool GemvBulkSupported => _device.ComputeCapability.Major >= 9;

    /// <summary>The most dynamic shared memory a bulk GEMV block takes: what the carveout holds, less the driver's share.</summary>
    private int GemvBulkMaxSharedBytes => CarveoutSharedBytes - ReservedSharedPerBlock;

    /// <summary>The blocks per SM the bulk GEMV may run a GEMM of <paramref name="rows"/> rows of the shape at: those
    /// whose blocks all fit an SM's shared memory at once (a whole SM's share of the weight, Qwen3-0.6B's layer GEMMs
    /// at a few rows; none of Llama-3.1-8B's).</summary>
    private IEnumerable<int> GemvBulkBlocksPerSm(GemmShapeKernels shape, int rows) => !GemvBulkSupported ? [] :
        SmallGemms.GemvBulkBlocksPerSm.Where(perSm =>
            perSm * (SmallGemms.GemvBulkSharedBytes(rows, shape.N, shape.K, perSm * _device.MultiprocessorCount, shape.FeedsSiluGate) + ReservedSharedPerBlock) <= CarveoutSharedBytes);

    /// <summary>Grid and dynamic shared memory of a bulk GEMV at <paramref name="perSm"/> blocks per SM.</summary>
    private (uint Blocks, uint SharedBytes) GemvBulkLaunch(GemmShapeKernels shape, int rows, int perSm)
    {
        var blocks = perSm * _device.MultiprocessorCount;
        return ((uint)blocks, (uint)SmallGemms.GemvBulkSharedBytes(rows, shape.N, shape.K, blocks, shape.FeedsSiluGate));
    }

    /// <summary>Whether <paramref name="gemm"/> at <paramref name="rows"/> rows applies the SiLU gate after it itself,
    /// storing the gate's output (BoundStep.SiluGate) in place of the gate kernel.</summary>
    private static bool FusesSiluGate(BoundStep gemm, int rows) =>
        gemm.SiluGate != 0 && SmallGemms.FusesSiluGate(gemm.Gemm!.ChoiceFor(rows));

    /// <summary>y[rows, n] = x[rows, k] w[n, k]^T with the chosen kernel; with <paramref name="siluGate"/> (a kernel that
    /// <see cref="SmallGemms.FusesSiluGate"/>) w is [gate; up] and y the gated n / 2 features, silu(gate) * up; with
    /// <paramref name="norm"/> (gemm_tiled) its part of a split norm: y gets the residual sum times the norm's weight, or
    /// the product's rows are scaled.</summary>
    private void LaunchGemm(GemmShapeKernels shape, SmallGemmChoice choice, ulong weight, ulong x, ulong y, int rows, bool siluGate = false, GemmNorm? norm = null)
    {
        var (n, k, floatOutput) = (shape.N, shape.K, shape.FloatOutput);
        if (siluGate && (floatOutput || !SmallGemms.FusesSiluGate(choice)))
            throw new InvalidOperationException($"{choice} cannot apply a SiLU gate to the {shape} GEMM");
        if (norm is not null && (floatOutput || choice.Kernel != SmallGemmKernel.Tiled))
            throw new InvalidOperationException($"{choice} cannot take a split norm in the {shape} GEMM's epilogue");
        if (choice.Kernel == SmallGemmKernel.CublasLt)
        {
            _gemm.Linear(y, x, weight, rows, n, k, _stream.Handle, floatOutput: floatOutput);
            return;
        }
        var args = new KernelArgs();
        args.Add(x).Add(weight).Add(floatOutput ? 0UL : y).Add(floatOutput ? y : 0UL).Add(rows).Add(n).Add(k);
        if (choice.Kernel == SmallGemmKernel.GemvBulk)
        {
            var (blocks, shared) = GemvBulkLaunch(shape, rows, choice.KSplit);
            args.Add(0).Add(siluGate ? 1 : 0);
            LaunchKernel(_gemvBulk, blocks, (uint)(SmallGemms.WarpsPerBlock * 32), ref args, shared);
            return;
        }
        if (choice.Kernel == SmallGemmKernel.Tiled) // its K split is the cluster size, compiled into each entry point
        {
            var outputsPerBlock = SmallGemms.TiledFeaturesPerBlock / (siluGate ? 2 : 1);
            var outputs = siluGate ? n / 2 : n;
            var tiled = (siluGate ? _tiledSiluGate : _tiled)[choice.KSplit];
            if (norm is { } split)
            {
                var part = split.Part == TiledNormEpilogue.RowScale && siluGate ? TiledNormEpilogue.SiluGateRowScale : split.Part;
                tiled = _tiledNorm[(part, choice.KSplit)];
                var (binding, adds) = (split.Binding, part == TiledNormEpilogue.AddNorm);
                // The row scale sums the tiles of the GEMM before, whose features are this one's K.
                var tiles = (k + SmallGemms.TiledFeaturesPerBlock - 1) / SmallGemms.TiledFeaturesPerBlock;
                args.Add(adds ? binding.Residual : 0UL).Add(adds ? binding.ResidualOut : 0UL).Add(adds ? binding.Weight : 0UL)
                    .Add(_rowSumsq.Pointer).Add(adds ? 0 : tiles).Add(binding.Epsilon);
            }
            LaunchKernel(tiled, new Dim3((uint)choice.KSplit, (uint)((outputs + outputsPerBlock - 1) / outputsPerBlock)),
                SmallGemms.TiledThreads, ref args, (uint)SmallGemms.TiledSharedBytes(TiledStages));
            return;
        }
        var (kernel, featuresPerBlock) = choice.Kernel == SmallGemmKernel.Gemv
            ? (shape.Gemv, SmallGemms.GemvFeaturesPerBlock(choice.KSplit))
            : (_skinny, SmallGemms.SkinnyFeaturesPerBlock(choice.KSplit));
        args.Add(choice.KSplit);
        if (choice.Kernel == SmallGemmKernel.Gemv) args.Add(0); // silu_gate: the streamed GEMV takes none (FusesSiluGate)
        LaunchKernel(kernel, (uint)((n + featuresPerBlock - 1) / featuresPerBlock), (uint)(SmallGemms.WarpsPerBlock * 32), ref args);
    }

    /// <summary>The GEMV of <paramref name="gemm"/> with its input computed in each block by a GEMV prologue kernel
    /// (the kernel step before it) into dynamic shared memory, and the SiLU gate after it where it
    /// <see cref="FusesSiluGate"/>.</summary>
    private void LaunchGemvPrologue(GemvPrologueBinding gemv, BoundStep gemm, int rows)
    {
        var shape = gemm.Gemm!;
        var choice = shape.ChoiceFor(rows);
        var gated = FusesSiluGate(gemm, rows);
        var args = new KernelArgs();
        foreach (var pointer in gemv.Arguments) args.Add(pointer);
        args.Add(gemm.Weight).Add(gated ? gemm.SiluGate : gemm.Output).Add(rows).Add(shape.N).Add(shape.K).Add(choice.KSplit).Add(gated ? 1 : 0);
        var (kernel, (blocks, shared)) = choice.Kernel == SmallGemmKernel.GemvBulk
            ? (gemv.Bulk, GemvBulkLaunch(shape, rows, choice.KSplit))
            : (GemvPrologueKernel(gemv, shape), ((uint)SmallGemms.GemvBlocks(shape.N, choice.KSplit), (uint)(rows * shape.K * sizeof(ushort))));
        LaunchKernel(kernel, blocks, (uint)(SmallGemms.WarpsPerBlock * 32), ref args, shared);
    }

    /// <summary>The prologue kernel's entry point with the prefetch depth of the shape's own GEMV (GemvFor).</summary>
    private CudaKernel GemvPrologueKernel(GemvPrologueBinding gemv, GemmShapeKernels shape) => shape.Gemv == _gemvP8 ? gemv.P8 : gemv.P4;

    /// <summary>At most this many waves of GEMV blocks for a GEMV prologue kernel: every block repeats the prologue (its
    /// loads and norm), so each further wave adds its latency again. Measured on the H100 at batch 1: Qwen3-0.6B's
    /// gate_up_proj (768 blocks, under 2 waves) and qkv_proj gain (decode step 0.95 -> 0.91 ms on the GPU);
    /// Llama-3.1-8B's gate_up_proj (3,584 blocks, ~7 waves) lost (6.07 -> 6.32 ms).</summary>
    private const int MaxGemvPrologueWaves = 2;

    /// <summary>Decides per GEMM shape and row bucket whether its GEMV prologue kernel may serve it (before the
    /// small-GEMM choice, which then puts the GEMV first at those buckets); logs where it does.</summary>
    private void PlanGemvPrologues(Action<string> log)
    {
        for (var l = 0; l < _decodeLayers.Length; l++)
            for (var s = 0; s < _decodeLayers[l].Length; s++)
                if (_decodeLayers[l][s].Gemv is { } gemv) StepAfter(_decodeLayers, l, s).Gemm!.Prologue ??= gemv;
        var served = new List<string>();
        foreach (var shape in _gemmShapes.Values.Where(s => s.Prologue is not null))
        {
            var kernel = GemvPrologueKernel(shape.Prologue!, shape);
            var blocks = SmallGemms.GemvBlocks(shape.N, shape.GemvSplit);
            var rows = new List<int>();
            for (var b = 0; b < SmallGemms.BucketRows.Length && SmallGemms.BucketRows[b] <= SmallGemms.GemvMaxRows; b++)
            {
                var perSm = kernel.MaxActiveBlocksPerMultiprocessor(SmallGemms.WarpsPerBlock * 32, SmallGemms.BucketRows[b] * shape.K * sizeof(ushort));
                shape.PrologueServes[b] = blocks <= MaxGemvPrologueWaves * perSm * _device.MultiprocessorCount;
                if (shape.PrologueServes[b]) rows.Add(SmallGemms.BucketRows[b]);
            }
            served.Add($"{shape} ({blocks} blocks): {(rows.Count > 0 ? "rows " + string.Join("/", rows) : "none")}");
        }
        if (served.Count > 0) log($"GEMV prologue kernels (up to {MaxGemvPrologueWaves} waves of blocks) serve {string.Join("; ", served)}");
    }

    /// <summary>Keeps the GPU busy with the model's GEMMs for <see cref="TuningWarmUp"/> before the timing starts: a GPU
    /// still clocked down at load slowed whichever candidates went first (on the H100, one start in three took cuBLASLt
    /// at 1-64 rows where the others took gemv, gemm_skinny and gemm_tiled, and its batch-1 step was 0.94 ms
    /// against 0.91).</summary>
    private void WarmUpGemms(ulong x, ulong y)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TuningWarmUp)
        {
            foreach (var shape in _gemmShapes.Values)
                foreach (var weight in shape.Weights) LaunchGemm(shape, SmallGemmChoice.CublasLt, weight, x, y, SmallGemms.MaxRows);
            _stream.Synchronize();
        }
    }

    private static readonly TimeSpan TuningWarmUp = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Picks the kernel of every GEMM shape and row bucket: each candidate runs over all the model's weights of that
    /// shape (each layer's own, so they stream from memory as in a step; the input stays in L2 as it does there),
    /// launched one after another, and the fastest of two timed passes counts. At load, with the warm-up: 0.9 s for
    /// Qwen3-0.6B, 2.5 s for Llama-3.1-8B on the H100; <see cref="CudaRunnerOptions.SmallGemmKernel"/> skips it.
    /// </summary>
    private void ChooseSmallGemms(Action<string> log)
    {
        if (_options.SmallGemmKernel is { } forced)
        {
            foreach (var shape in _gemmShapes.Values)
                for (var b = 0; b < SmallGemms.BucketRows.Length; b++)
                    shape.Choices[b] = SmallGemms.Forced(forced, SmallGemms.BucketRows[b], shape.K, shape.GemvSplit, TiledMaxSplit,
                        GemvBulkBlocksPerSm(shape, SmallGemms.BucketRows[b]));
            return;
        }
        var watch = Stopwatch.StartNew();
        var maxRows = SmallGemms.MaxRows;
        using var x = DeviceBuffer<ushort>.Allocate((long)maxRows * _gemmShapes.Values.Max(s => s.K));
        using var y = DeviceBuffer<float>.Allocate((long)maxRows * _gemmShapes.Values.Max(s => s.N));
        x.FillBytesAsync(0, _stream);
        using var start = CudaEvent.Create();
        using var end = CudaEvent.Create();
        WarmUpGemms(x.Pointer, y.Pointer);
        foreach (var shape in _gemmShapes.Values)
        {
            // At least 8 launches per pass: a shape with one weight (the LM head) is timed over repeats of it.
            var repeats = (8 + shape.Weights.Count - 1) / shape.Weights.Count;
            for (var b = 0; b < SmallGemms.BucketRows.Length; b++)
            {
                var rows = SmallGemms.BucketRows[b];
                var best = (Choice: SmallGemmChoice.CublasLt, Ms: double.MaxValue);
                foreach (var choice in SmallGemms.Candidates(rows, shape.K, shape.GemvSplit, shape.PrologueServes[b], TiledMaxSplit,
                             GemvBulkBlocksPerSm(shape, rows)))
                {
                    var ms = double.MaxValue;
                    for (var pass = 0; pass < 3; pass++) // the first pass warms up (module load, cuBLASLt's plan)
                    {
                        start.Record(_stream);
                        for (var r = 0; r < repeats; r++)
                            foreach (var weight in shape.Weights)
                            {
                                // Without programmatic launch: overlapping a GEMM with another of the same shape
                                // flattered gemm_skinny (chosen at one row, it made steps slower than gemv).
                                _kernelEnqueued = false;
                                LaunchGemm(shape, choice, weight, x.Pointer, y.Pointer, rows);
                            }
                        end.Record(_stream);
                        end.Synchronize();
                        if (pass > 0) ms = Math.Min(ms, CudaEvent.ElapsedMilliseconds(start, end));
                    }
                    // A later candidate must beat the best so far by 5 %: between near-equal candidates, timing
                    // noise would otherwise pick a different kernel each start (cuBLASLt first, then gemv, skinny).
                    if (ms < best.Ms * (1 - Margin)) best = (choice, ms);
                    shape.TimedAlone[b].Add((choice, ms));
                }
                shape.Choices[b] = best.Choice;
                shape.TimedAlone[b].Sort((p, q) => p.Ms.CompareTo(q.Ms));
            }
        }
        _kernelEnqueued = false;
        log($"small-row GEMM kernels chosen in {watch.Elapsed.TotalMilliseconds:F0} ms (rows {string.Join("/", SmallGemms.BucketRows)}): " +
            string.Join("; ", _gemmShapes.Values.Select(s => $"{s}: {string.Join(" ", s.Choices)}")));
    }

    /// <summary>
    /// Runs each layer GEMM of an extend step once on cuBLASLt at row counts past the small-GEMM buckets, doubling up to
    /// --max-batch-tokens, before the first request: cuBLASLt loads the kernels its heuristic picks on their first use,
    /// ~3 ms each on the H100 (host gaps before its cuLibraryLoadData calls in an nsys trace), which Qwen3-0.6B's first
    /// prefill of 128 tokens paid three times over (8.7-9.0 ms, 1.7 of them on the GPU; 2.1 ms with this, which takes
    /// 48 ms at load). The step's own activation buffers serve (their contents are scratch until the first step), and
    /// the plans made stay cached for those row counts.
    /// </summary>
    private void WarmUpPrefillGemms(Action<string> log)
    {
        var rows = new List<int>();
        for (var m = SmallGemms.MaxRows * 2; m < _maxTokens; m *= 2) rows.Add(m);
        if (_maxTokens > SmallGemms.MaxRows) rows.Add(_maxTokens);
        if (rows.Count == 0) return;
        var watch = Stopwatch.StartNew();
        foreach (var step in _extendLayers[0].Where(s => s.Kind == StepKind.Gemm))
            foreach (var m in rows) LaunchGemm(step.Gemm!, SmallGemmChoice.CublasLt, step.Weight, step.Input, step.Output, m);
        _stream.Synchronize();
        _kernelEnqueued = false;
        log($"cuBLASLt loaded for prefill GEMMs of {string.Join("/", rows)} rows in {watch.Elapsed.TotalMilliseconds:F0} ms");
    }

    /// <summary>Candidates a decode-step refinement tries per shape: those that timed alone within this factor of the
    /// fastest.</summary>
    private const double StepRefineWindow = 1.25;

    /// <summary>A refinement keeps another kernel only when the whole step is this much faster with it: below, the
    /// replays' noise would decide.</summary>
    private const double StepRefineMargin = 0.015;

    /// <summary>
    /// Timed alone, a GEMM misjudges the decode step it runs in. There our kernels start early under programmatic
    /// dependent launch and cuBLASLt's do not, and the kernels around it share L2 and the SMs (Qwen3-0.6B, batch 64 on
    /// the H100: 1.74-1.80 ms per step where the tuner took gemm_tiled for qkv_proj, 1.84-1.95 where cuBLASLt won it
    /// alone by the margin; from 4 rows on, a graph of its 112 layer GEMMs took 592-627 us with gemm_tiled on wgmma
    /// against 737-821 with gemm_skinny at its best K split and 800-1164 with the GEMV, gemm_check --chain). At one row
    /// the GEMV that runs the add + RMS norm before it as a prologue saves a launch (in one start of four, cuBLASLt won
    /// Qwen3-0.6B's gate_up_proj alone by the margin and the norm ran on its own). So at every row bucket the choices
    /// are refined on the decode step itself: its graph for the bucket's row count, over requests with a context of
    /// their own (<see cref="RefinementRequests"/>), is replayed with each shape's candidates in turn -- gemm_tiled at
    /// each K split near its best alone (whatever the other kernels timed), the GEMV where a prologue kernel rides on
    /// it, and past gemm_skinny's rows the others near the best -- the largest shapes first, and a candidate stays if
    /// the step is <see cref="StepRefineMargin"/> faster with it. Before that, sets that only pay together are tried at
    /// once: the bulk GEMV for every shape, and gemm_tiled for the shapes around a split norm (BoundStep.Norm), which
    /// needs it on both sides, so moving one shape at a time cannot find it while neither of a pair runs it.
    /// </summary>
    private void RefineSmallGemmsOnDecodeSteps(Action<string> log)
    {
        if (_options.SmallGemmKernel is not null || _options.DisableCudaGraph) return;
        var watch = Stopwatch.StartNew();
        var report = new List<string>();
        var requests = RefinementRequests(SmallGemms.BucketRows.Where(r => r <= _maxRequests).Max());
        var joined = _decodeLayers[0].SelectMany((step, s) => step.Norm is null ? [] : new[] { _decodeLayers[0][s - 1], StepAfter(_decodeLayers, 0, s) })
            .Select(gemm => gemm.Gemm!).Distinct().ToList(); // the GEMM shapes around split norms
        for (var b = 0; b < SmallGemms.BucketRows.Length; b++)
        {
            var rows = SmallGemms.BucketRows[b];
            if (rows > _maxRequests) continue;
            var baseline = TimeDecodeStep(requests, rows);
            var first = baseline;
            // The bulk GEMV pays where the GEMMs next to it run it too (after a GEMV of 512-768 blocks filling every
            // SM, the next GEMM cannot start beside it), which trying one shape at a time does not see: every shape
            // it can run tries it at once first, the others one by one after. The set at once is each shape's fastest
            // blocks per SM alone, or one count for all, whichever steps fastest: alone, o_proj and down_proj sometimes
            // took one block per SM, and trying shapes one at a time never moved off it (H100, Qwen3-0.6B: batch 1
            // 0.83-0.84 ms on the GPU in 5 of 23 runs, against 0.79-0.81 with two blocks per SM for all).
            var bulk = _gemmShapes.Values
                .Where(shape => shape.Choices[b].Kernel != SmallGemmKernel.GemvBulk)
                .Select(shape => (Shape: shape, Candidates: shape.TimedAlone[b].Select(t => t.Choice).Where(c => c.Kernel == SmallGemmKernel.GemvBulk).ToList()))
                .Where(p => p.Candidates.Count > 0).ToList();
            if (bulk.Count > 1)
            {
                var sets = new List<SmallGemmChoice[]> { bulk.Select(p => p.Candidates[0]).ToArray() }; // the fastest alone
                foreach (var perSm in bulk.SelectMany(p => p.Candidates).Select(c => c.KSplit).Distinct().Order())
                    sets.Add(bulk.Select(p => p.Candidates.FirstOrDefault(c => c.KSplit == perSm, p.Candidates[0])).ToArray());
                baseline = TryAtOnce(b, bulk.Select(p => p.Shape).ToList(), sets, requests, rows, baseline);
            }
            // A norm split over two GEMMs' epilogues needs gemm_tiled for both, which moving one shape at a time does
            // not see either: the shapes next to a split norm (joined) try their best gemm_tiled at once.
            var tiled = joined.Select(shape => shape.TimedAlone[b].Select(t => t.Choice).FirstOrDefault(c => c.Kernel == SmallGemmKernel.Tiled)).ToArray();
            if (joined.Count > 0 && tiled.All(c => c.Kernel == SmallGemmKernel.Tiled) && joined.Any(shape => shape.Choices[b].Kernel != SmallGemmKernel.Tiled))
                baseline = TryAtOnce(b, joined, [tiled], requests, rows, baseline);
            foreach (var shape in _gemmShapes.Values.OrderByDescending(s => (long)s.N * s.K * s.Weights.Count))
            {
                var timed = shape.TimedAlone[b];
                var bestTiledMs = timed.Where(t => t.Choice.Kernel == SmallGemmKernel.Tiled).Select(t => t.Ms).DefaultIfEmpty(0).First();
                foreach (var (candidate, ms) in timed)
                {
                    // Up to gemm_skinny's rows only gemm_tiled is in question (the others time alone as in a step),
                    // and the GEMV where it runs the kernel before it as a prologue. Every K split of gemm_tiled near
                    // its best alone: which one is fastest alone flips between starts (o_proj at 64 rows), and a start
                    // that kept K split 1 for it ran Qwen3-0.6B's batch 64 at 1.69 ms on the H100 against 1.49-1.52.
                    var tried = candidate.Kernel == SmallGemmKernel.Tiled && ms <= bestTiledMs * StepRefineWindow ||
                                candidate.Kernel == SmallGemmKernel.Gemv && shape.PrologueServes[b] ||
                                candidate.Kernel == SmallGemmKernel.GemvBulk ||
                                rows > SmallGemms.SkinnyMaxRows && ms <= timed[0].Ms * StepRefineWindow;
                    if (candidate == shape.Choices[b] || !tried) continue;
                    var previous = shape.Choices[b];
                    shape.Choices[b] = candidate;
                    var step = TimeDecodeStep(requests, rows);
                    if (step < baseline * (1 - StepRefineMargin)) baseline = step;
                    else shape.Choices[b] = previous;
                }
            }
            report.Add($"{rows} rows {1000 * first:F0} -> {1000 * baseline:F0} us");
        }
        if (report.Count == 0) return;
        log($"small-row GEMM kernels refined on decode steps of {requests.MaxContextLen - 1}-token contexts in {watch.Elapsed.TotalMilliseconds:F0} ms ({string.Join(", ", report)}): " +
            string.Join("; ", _gemmShapes.Values.Select(s => $"{s}: {string.Join(" ", s.Choices)}")));
    }

    /// <summary>Replays the step with each set of choices for <paramref name="shapes"/> at row bucket <paramref name="b"/>
    /// and keeps the fastest where it beats <paramref name="baseline"/>, timed once more, by the margin; returns the
    /// step's time with what is kept.</summary>
    private double TryAtOnce(int b, List<GemmShapeKernels> shapes, IEnumerable<SmallGemmChoice[]> sets, ReqToTokenPool requests, int rows, double baseline)
    {
        var before = shapes.Select(shape => shape.Choices[b]).ToList();
        SmallGemmChoice[]? best = null;
        var bestStep = baseline * (1 - StepRefineMargin);
        foreach (var set in sets.DistinctBy(set => string.Join(",", set)))
        {
            for (var i = 0; i < shapes.Count; i++) shapes[i].Choices[b] = set[i];
            var step = TimeDecodeStep(requests, rows);
            if (step < bestStep) (best, bestStep) = (set, step);
        }
        for (var i = 0; i < shapes.Count; i++) shapes[i].Choices[b] = before[i];
        // The baseline again, since a set is kept on one comparison with it: a start where it timed high (a clock dip;
        // 1,507 against 1,197-1,265 us at 8 rows) kept a bulk GEMV set that ran 1.32 ms against 1.04.
        if (best is null || bestStep >= TimeDecodeStep(requests, rows) * (1 - StepRefineMargin)) return baseline;
        for (var i = 0; i < shapes.Count; i++) shapes[i].Choices[b] = best[i];
        return bestStep;
    }

    /// <summary>Tokens of context each request of a refinement step attends to (fewer where the context length or the KV
    /// pool is smaller). The padding requests graphs are captured on attend to one token, so a step of them leaves out
    /// attention's KV traffic and its overlap with the GEMMs around it. On the H100, Qwen3-0.6B at 64 rows
    /// (bench-one-batch 128/64): refined on padding steps, two starts in seven kept cuBLASLt for qkv_proj and ran
    /// 1.63-1.66 ms a step, the others 1.49-1.55; refined on contexts (191 tokens there), five starts ran 1.50-1.59.</summary>
    private const int RefineContextTokens = 256;

    /// <summary>The first <paramref name="rows"/> requests of the still empty pools, each with a context in KV slots of its
    /// own (zeroed) and its row of the device's req_to_token, for the decode steps a refinement times.</summary>
    private ReqToTokenPool RefinementRequests(int rows)
    {
        var context = Math.Min(RefineContextTokens, Math.Min(_stride, MaxTotalTokens / rows) - 1);
        var requests = new ReqToTokenPool(rows, context + 1);
        for (var r = 0; r < rows; r++)
        {
            var request = requests.Alloc();
            var slots = requests.Row(request);
            for (var p = 0; p <= context; p++) slots[p] = 1 + request * (context + 1) + p; // slot 0 is the padding slot
            UploadReqToTokenRow(request, slots[..(context + 1)], (long)request * (context + 1));
        }
        var bytes = (nuint)(rows * (context + 1L) * _kvSlotBytes);
        foreach (var cache in _kCache.Concat(_vCache))
            Cu.Check(CuDriver.cuMemsetD8Async(cache + (ulong)_kvSlotBytes, 0, bytes, _stream.Handle), "cuMemsetD8Async", "zeroing the KV of refinement requests");
        _stream.Synchronize();
        return requests;
    }

    /// <summary>GPU time (ms) of a decode step of the first <paramref name="rows"/> of <paramref name="requests"/> with the
    /// current choices, each request's new token after its context: the step's graph captured for the purpose, replayed
    /// back to back in rounds of about <see cref="StepRoundMilliseconds"/> (at most 8 replays), the fastest of three
    /// rounds.</summary>
    private double TimeDecodeStep(ReqToTokenPool requests, int rows)
    {
        var context = requests.MaxContextLen - 1;
        var batch = new ForwardBatch(requests);
        batch.Reset(ForwardMode.Decode, rows, rows);
        for (var r = 0; r < rows; r++)
        {
            batch.InputIds[r] = 0;
            batch.Positions[r] = context;
            batch.OutCacheLoc[r] = requests.ReadRow(r, context + 1)[context];
            batch.ReqPoolIndices[r] = r;
            batch.SeqLens[r] = context + 1;
        }
        RunDecode(batch, rows);
        using var graph = CudaGraph.Capture(_stream, _ => EnqueueDecode(rows, sharedPrefix: false));
        ReplayMilliseconds(graph, 1); // warm-up (the first launch uploads the graph)
        var replays = Math.Clamp((int)Math.Ceiling(StepRoundMilliseconds / ReplayMilliseconds(graph, 1)), 1, 8);
        return Enumerable.Range(0, 3).Min(_ => ReplayMilliseconds(graph, replays));
    }

    /// <summary>A round of decode-step replays lasts about this long: 8 replays of a Qwen3-0.6B step, 2 of a
    /// Llama-3.1-8B step (whose refinement took 13 s at load with 8).</summary>
    private const double StepRoundMilliseconds = 8;
}
