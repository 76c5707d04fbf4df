using System.Globalization;
using Compiler.Runtime.Plan;

namespace Compiler.Runtime.Cpu;

internal sealed unsafe partial class CpuModelRunner
{
    /// <summary>
    /// Turns the plan's launch lists into bound steps: evaluates every dimension, allocates the activation slots
    /// (max row length of the slot's values x max batch tokens), the per-layer KV cache and per-worker scratch,
    /// resolves each "{i}" weight for its layer, and checks that the plan is consistent with the checkpoint's
    /// shapes and free of in-kernel aliasing -- so that a bad plan fails at load, not as wrong numbers.
    /// </summary>
    private sealed class Binder
    {
        private readonly CpuModelRunner _runner;
        private readonly ModelPlan _plan;
        private readonly ModelConstants _constants;
        private readonly Dictionary<int, (NativeFloats Slot, int SlotIndex, int Length, string Name)> _values = [];
        private readonly NativeFloats[] _kCache, _vCache;
        private readonly NativeFloats[] _scratch;
        private readonly CpuGemm _gemm;
        private readonly int _logitsValue;
        private readonly int _numSlots;
        private AttentionCpu[]? _attention;
        private int[][]? _attentionInts;
        private int _scratchFloats;

        public Binder(CpuModelRunner runner)
        {
            _runner = runner;
            _plan = runner.Plan;
            _constants = runner.Constants;
            _gemm = new CpuGemm(runner._pool);
            _scratch = new NativeFloats[runner._pool.Workers];

            // The epilogue's last launch is the logits GEMM; it writes straight into the caller's logits.
            var last = _plan.Epilogue.Length > 0 ? _plan.Epilogue[^1] : null;
            if (last is not { Kind: StepKind.Gemm, Rows: RowSet.OutputRows })
                throw Inconsistent("the epilogue must end with the logits GEMM over the output rows");
            _logitsValue = last.Output;

            var slotLength = new long[_plan.SlotCount];
            foreach (var b in _plan.Buffers)
            {
                if (b.Value == _logitsValue) continue;
                if ((uint)b.Slot >= (uint)_plan.SlotCount) throw Inconsistent($"value {b.Value} ({b.Name}) is in slot {b.Slot} of {_plan.SlotCount}");
                slotLength[b.Slot] = Math.Max(slotLength[b.Slot], Dim(b.Length));
            }
            var slots = new NativeFloats[_plan.SlotCount];
            for (var s = 0; s < slots.Length; s++) slots[s] = runner.Own(new NativeFloats(slotLength[s] * runner.MaxBatchTokens));
            foreach (var b in _plan.Buffers)
                if (b.Value != _logitsValue) _values.Add(b.Value, (slots[b.Slot], b.Slot, checked((int)Dim(b.Length)), b.Name));

            _numSlots = runner.MaxTotalTokens + 1;
            var cacheFloats = (long)_numSlots * runner.KvLength;
            if (cacheFloats > int.MaxValue)
                throw new ArgumentOutOfRangeException(nameof(runner.MaxTotalTokens), $"A layer's K cache of {_numSlots} slots x {runner.KvLength} floats exceeds 2^31 floats; lower max total tokens.");
            _kCache = new NativeFloats[runner.NumLayers];
            _vCache = new NativeFloats[runner.NumLayers];
            for (var l = 0; l < runner.NumLayers; l++)
            {
                _kCache[l] = runner.Own(new NativeFloats(cacheFloats));
                _vCache[l] = runner.Own(new NativeFloats(cacheFloats));
            }
        }

        public int VocabSize { get; private set; }

        public ICpuStep[] Bind(Step[] steps, int layer, string where)
        {
            var bound = new ICpuStep[steps.Length];
            for (var i = 0; i < steps.Length; i++)
            {
                var step = steps[i];
                var context = $"{where} {layer}, step '{step.Name}'";
                bound[i] = step.Kind switch
                {
                    StepKind.Kernel => BindKernel(step, layer, context),
                    StepKind.Gemm => BindGemm(step, layer, context, isLogits: ReferenceEquals(steps, _plan.Epilogue) && i == steps.Length - 1),
                    StepKind.ExtendAttention or StepKind.DecodeAttention => BindAttention(step, layer, context),
                    _ => throw new NotSupportedException($"{_plan.Architecture} {context}: step kind {step.Kind} has no CPU implementation."),
                };
            }
            return bound;
        }

        public void AllocateScratch()
        {
            for (var w = 0; w < _scratch.Length; w++) _scratch[w] = _runner.Own(new NativeFloats(Math.Max(1, _scratchFloats)));
        }

        private CpuKernelStep BindKernel(Step step, int layer, string context)
        {
            var name = layer == _runner.NumLayers - 1 && step.LastLayerKernel is { } lastName ? lastName : step.Kernel
                ?? throw Inconsistent($"{context} is a kernel step without a kernel name");
            var kernel = _plan.Kernel(name);
            context = $"{context}, kernel '{name}'";
            var offsets = new Dictionary<int, int>();
            var total = 0;
            foreach (var op in kernel.Ops)
                if (op.Result >= 0)
                {
                    offsets[op.Result] = total;
                    total += checked((int)Dim(op.Length));
                }
            _scratchFloats = Math.Max(_scratchFloats, total);

            int Arg(KernelOp op, int index) => index < op.Args.Length && offsets.TryGetValue(op.Args[index], out var o)
                ? o : throw Inconsistent($"{context}: op {op.Op} '{op.Label}' reads argument {index} that no earlier op produced");

            var loadSlots = new HashSet<int>();
            var storeSlots = new HashSet<int>();
            var ops = new CpuOp[kernel.Ops.Length];
            for (var i = 0; i < ops.Length; i++)
            {
                var op = kernel.Ops[i];
                var length = checked((int)Dim(op.Length));
                var bound = new CpuOp { Op = op.Op, Length = length, Out = op.Result >= 0 ? offsets[op.Result] : -1, A = -1, B = -1 };
                switch (op.Op)
                {
                    case PrimOp.LoadRow:
                    {
                        var v = Value(op.Value, context);
                        bound.Data = v.Slot.Pointer;
                        bound.Offset = checked((int)Dim(op.Offset ?? "0"));
                        bound.Stride = op.RowLength is null ? v.Length : checked((int)Dim(op.RowLength));
                        if (bound.Stride != v.Length || bound.Offset + length > v.Length)
                            throw Inconsistent($"{context}: LoadRow '{op.Label}' reads [{bound.Offset}, +{length}) of rows of {bound.Stride}, but value {op.Value} ({v.Name}) has rows of {v.Length}");
                        loadSlots.Add(v.SlotIndex);
                        break;
                    }
                    case PrimOp.LoadWeight:
                        bound.Data = Weight(op.Weight, layer + op.LayerOffset, context, out var count);
                        if (count != length) throw Inconsistent($"{context}: LoadWeight '{op.Weight}' has {count} elements, the op reads {length}");
                        break;
                    case PrimOp.Gather:
                        bound.Data = Weight(op.Weight, layer + op.LayerOffset, context, out var embed);
                        if (embed % length != 0) throw Inconsistent($"{context}: embedding '{op.Weight}' ({embed} elements) is not made of rows of {length}");
                        bound.Rows = checked((int)(embed / length));
                        break;
                    case PrimOp.Add or PrimOp.Mul:
                        bound.A = Arg(op, 0);
                        bound.B = Arg(op, 1);
                        break;
                    case PrimOp.Silu:
                        bound.A = Arg(op, 0);
                        break;
                    case PrimOp.RmsNorm:
                        bound.A = Arg(op, 0);
                        bound.Group = checked((int)Dim(op.Group ?? op.Length));
                        bound.Epsilon = (float)Constant(op.Epsilon, context);
                        bound.Data = Weight(op.Weight, layer + op.LayerOffset, context, out var normCount);
                        if (normCount != bound.Group || length % bound.Group != 0)
                            throw Inconsistent($"{context}: RmsNorm '{op.Label}' over groups of {bound.Group} of {length} with weight '{op.Weight}' of {normCount}");
                        break;
                    case PrimOp.Rope:
                        bound.A = Arg(op, 0);
                        bound.Group = checked((int)Dim(op.Group ?? throw Inconsistent($"{context}: Rope '{op.Label}' has no head size")));
                        if (bound.Group != 2 * _runner._state.RopeHalf || length % bound.Group != 0)
                            throw Inconsistent($"{context}: Rope '{op.Label}' rotates heads of {bound.Group} over {length}, but the model's rotary tables are for heads of {2 * _runner._state.RopeHalf}");
                        break;
                    case PrimOp.StoreRow:
                    {
                        bound.A = Arg(op, 0);
                        var v = Value(op.Value, context);
                        bound.Data = v.Slot.Pointer;
                        bound.Stride = v.Length;
                        if (length != v.Length) throw Inconsistent($"{context}: StoreRow '{op.Label}' writes {length} floats into value {op.Value} ({v.Name}) of rows of {v.Length}");
                        storeSlots.Add(v.SlotIndex);
                        break;
                    }
                    case PrimOp.StoreKv:
                    {
                        bound.A = Arg(op, 0);
                        var cacheLayer = layer + op.LayerOffset;
                        if ((uint)cacheLayer >= (uint)_runner.NumLayers) throw Inconsistent($"{context}: StoreKv into layer {cacheLayer} of {_runner.NumLayers}");
                        bound.Data = op.Cache switch
                        {
                            "k" => _kCache[cacheLayer].Pointer,
                            "v" => _vCache[cacheLayer].Pointer,
                            _ => throw Inconsistent($"{context}: StoreKv into cache '{op.Cache}' (k or v)"),
                        };
                        bound.Stride = _runner.KvLength;
                        bound.Rows = _numSlots;
                        if (length != _runner.KvLength) throw Inconsistent($"{context}: StoreKv writes {length} floats per token but the cache holds {_runner.KvLength}");
                        break;
                    }
                    default:
                        throw new NotSupportedException($"{_plan.Architecture} {context}: primitive op {op.Op} has no CPU implementation.");
                }
                ops[i] = bound;
            }
            // Rows run in parallel and values of one slot have different row strides: a kernel reading and
            // writing the same slot would race (as on the GPU). The buffer planner never does this; check it.
            loadSlots.IntersectWith(storeSlots);
            if (loadSlots.Count > 0) throw Inconsistent($"{context} reads and writes buffer slot {loadSlots.First()}");
            return new CpuKernelStep($"{_plan.Architecture} {context}", kernel.Rows, ops, _runner._pool, _scratch);
        }

        private CpuGemmStep BindGemm(Step step, int layer, string context, bool isLogits)
        {
            var n = checked((int)Dim(step.N ?? throw Inconsistent($"{context}: GEMM without N")));
            var k = checked((int)Dim(step.K ?? throw Inconsistent($"{context}: GEMM without K")));
            var weight = Weight(step.Weight, layer, context, out var count);
            if (count != (long)n * k) throw Inconsistent($"{context}: weight '{step.Weight}' has {count} elements, not N {n} x K {k}");
            var input = Value(step.Input, context);
            if (input.Length != k) throw Inconsistent($"{context}: input value {step.Input} ({input.Name}) has rows of {input.Length}, K is {k}");
            float* output = null;
            if (isLogits)
                VocabSize = n;
            else
            {
                var o = Value(step.Output, context);
                if (o.Length != n) throw Inconsistent($"{context}: output value {step.Output} ({o.Name}) has rows of {o.Length}, N is {n}");
                if (o.SlotIndex == input.SlotIndex) throw Inconsistent($"{context}: reads and writes buffer slot {o.SlotIndex}");
                output = o.Slot.Pointer;
            }
            return new CpuGemmStep(_gemm, input.Slot.Pointer, weight, output, n, k, step.Rows == RowSet.OutputRows);
        }

        private CpuAttentionStep BindAttention(Step step, int layer, string context)
        {
            var heads = checked((int)Dim(step.Heads ?? throw Inconsistent($"{context}: attention without heads")));
            var kvHeads = checked((int)Dim(step.KvHeads ?? throw Inconsistent($"{context}: attention without kv heads")));
            var headDim = checked((int)Dim(step.HeadDim ?? throw Inconsistent($"{context}: attention without head dim")));
            if (kvHeads * headDim != _runner.KvLength) throw Inconsistent($"{context}: {kvHeads} kv heads x {headDim} != the cache's {_runner.KvLength} floats per token");
            if (_attention is null)
            {
                _attention = new AttentionCpu[_runner._pool.Workers];
                _attentionInts = new int[_attention.Length][];
                for (var w = 0; w < _attention.Length; w++)
                {
                    _attention[w] = new AttentionCpu(heads, kvHeads, headDim);
                    _attentionInts[w] = new int[3];
                }
            }
            else if (_attention[0].NumHeads != heads || _attention[0].NumKvHeads != kvHeads || _attention[0].HeadDim != headDim)
                throw new NotSupportedException($"{_plan.Architecture} {context}: layers with different attention shapes are not supported on the CPU.");
            var q = Value(step.Input, context);
            var o = Value(step.Output, context);
            if (q.Length != heads * headDim || o.Length != heads * headDim)
                throw Inconsistent($"{context}: q ({q.Length}) and output ({o.Length}) rows must be heads x head dim = {heads * headDim}");
            if (q.SlotIndex == o.SlotIndex) throw Inconsistent($"{context}: reads and writes buffer slot {o.SlotIndex}");
            return new CpuAttentionStep(step.Kind == StepKind.DecodeAttention, q.Slot.Pointer, o.Slot.Pointer, heads * headDim,
                _kCache[layer], _vCache[layer], _attention, _attentionInts!, _runner._pool);
        }

        private (NativeFloats Slot, int SlotIndex, int Length, string Name) Value(int value, string context)
        {
            if (value == _logitsValue) throw Inconsistent($"{context} uses the logits value {value} as an activation");
            return _values.TryGetValue(value, out var v) ? v : throw Inconsistent($"{context} uses value {value}, which has no buffer");
        }

        private float* Weight(string? name, int layer, string context, out long count)
        {
            if (name is null) throw Inconsistent($"{context}: an op without its weight name");
            if (name.Contains("{i}", StringComparison.Ordinal) && (uint)layer >= (uint)_runner.NumLayers)
                throw Inconsistent($"{context} reads '{name}' of layer {layer}, but the model has {_runner.NumLayers}");
            var data = _runner._weights.Get(ModelWeights.Expand(name, layer), out _);
            count = data.Length;
            return data.Pointer;
        }

        private double Constant(string? name, string context)
        {
            if (name is null) throw Inconsistent($"{context}: an op without its epsilon");
            if (_constants.Values.TryGetValue(name, out var v)) return v;
            return double.TryParse(name, NumberStyles.Float, CultureInfo.InvariantCulture, out v) ? v : throw Inconsistent($"{context}: unknown constant '{name}'");
        }

        private long Dim(string expression) => _constants.Dim(expression);

        private InvalidOperationException Inconsistent(string detail) =>
            new($"{_plan.Architecture} plan: {detail}. The generated plan and the CPU backend disagree; regenerate the model or report a compiler bug.");
    }
}
