using System.Collections.Generic;
using System.Linq;
using Compiler.Generator.Emit;
using Compiler.Generator.Ir;

namespace Compiler.Generator.Cuda;

/// <summary>
/// Renders each fused kernel as CUDA C. One thread block handles one token row, or, for a kernel that splits its
/// columns, part of one (whole heads, when its norms are per head: KernelSpec.SplitGroup). Element-wise ops are inlined
/// as expressions into the loops that store results; a value is kept in shared memory only when it is used twice or
/// normalised; each RMS norm is a block (or per-head warp) reduction followed by a barrier; RoPE reads a per-row
/// cos/sin table, and each norm its weight, from shared memory filled before the programmatic-launch wait. Loops over
/// the same length share one pass when no barrier is needed between them. A GEMV prologue kernel (GemvPrologueSpec)
/// renders its producer the same way inside the decode GEMV of gemv.cuh: each block loops over the M rows, storing
/// the GEMM's input row to shared memory (the GEMV's x) and, in block 0 only, the producer's other outputs. An attention
/// prologue kernel (AttentionPrologueSpec) renders its producer inside decode attention (decode_attention.cu): each CTA
/// runs its kv head's share of every loop, stores q to the attention's shared memory and the new token's K/V only in
/// the CTA whose split holds that token.
/// </summary>
internal static class CudaRenderer
{
    public static string Render(Schedule schedule, BufferPlan buffers)
    {
        var writer = new SourceWriter();
        writer.Raw(CudaPrelude.Text);
        foreach (var kernel in schedule.Kernels)
        {
            writer.Line();
            new KernelRenderer(kernel, buffers, writer, null, null).Render();
        }
        var kernels = schedule.Kernels.ToDictionary(k => k.Name);
        if (schedule.GemvPrologues.Count > 0)
        {
            writer.Line();
            writer.Line("// The decode GEMV; the runtime pastes its Kernels/gemv.cuh here.");
            writer.Line("#include \"gemv.cuh\"");
            writer.Line("static_assert(GEMV_WARPS * 32 == KERNEL_BLOCK, \"a GEMV prologue runs the kernel's row loops with the GEMV's threads\");");
            foreach (var prologue in schedule.GemvPrologues)
            {
                writer.Line();
                new KernelRenderer(kernels[prologue.Kernel], buffers, writer, prologue, null).Render();
            }
        }
        if (schedule.AttentionPrologues.Count > 0)
        {
            writer.Line();
            writer.Line("// Decode attention, whose constants are the model's; the runtime pastes its Kernels/decode_attention.cu here.");
            var spec = schedule.AttentionPrologues[0];
            foreach (var (name, value) in new[] { ("NUM_HEADS", spec.Heads), ("NUM_KV_HEADS", spec.KvHeads), ("HEAD_DIM", spec.HeadDim) })
            {
                if (value.RenderC(s => s) == name) continue; // the model's constant has decode_attention.cu's name
                writer.Line($"#ifndef {name}");
                writer.Line($"#define {name} {value.RenderC(s => s)}");
                writer.Line("#endif");
            }
            writer.Line("#include \"decode_attention.cu\"");
            writer.Line($"static_assert(NUM_HEADS == {spec.Heads.RenderC(s => s)} && NUM_KV_HEADS == {spec.KvHeads.RenderC(s => s)} && HEAD_DIM == {spec.HeadDim.RenderC(s => s)}, \"decode attention's constants are the model's\");");
            foreach (var prologue in schedule.AttentionPrologues)
            {
                writer.Line();
                new KernelRenderer(kernels[prologue.Kernel], buffers, writer, null, prologue).Render();
            }
        }
        return writer.ToString();
    }

    private sealed class KernelRenderer
    {
        private readonly KernelSpec _kernel;
        private readonly GemvPrologueSpec? _gemv;
        private readonly AttentionPrologueSpec? _attention;
        /// <summary>The block size loops stride by: KERNEL_BLOCK, or in attention, whichever entry point's.</summary>
        private readonly string _block;
        private readonly BufferPlan _buffers;
        private readonly SourceWriter _w;
        private readonly List<KernelParam> _params;
        private readonly Dictionary<int, KernelOp> _producer = new();
        private readonly HashSet<int> _materialized = new();
        private readonly HashSet<int> _ready = new();
        private readonly HashSet<string> _pending = new();
        private readonly List<string> _body = new();
        private Loop? _loop;

        private sealed class Loop
        {
            public Loop(Dim length) { Length = length; }
            public Dim Length { get; }
            public List<string> Statements { get; } = new();
            public HashSet<string> Written { get; } = new();
        }

        public KernelRenderer(KernelSpec kernel, BufferPlan buffers, SourceWriter writer, GemvPrologueSpec? gemv, AttentionPrologueSpec? attention)
        {
            _kernel = kernel;
            _gemv = gemv;
            _attention = attention;
            _block = attention is null ? "KERNEL_BLOCK" : "blockDim.x";
            _buffers = buffers;
            _w = writer;
            _params = KernelParams.Of(kernel, buffers);
            foreach (var op in kernel.Ops.Where(o => o.Result >= 0)) _producer[op.Result] = op;
            var uses = kernel.Ops.SelectMany(o => o.Args).GroupBy(a => a).ToDictionary(g => g.Key, g => g.Count());
            var normed = new HashSet<int>(kernel.Ops.Where(o => o.Op == PrimOp.RmsNorm).Select(o => o.Args[0]));
            foreach (var op in kernel.Ops.Where(o => o.Result >= 0 && o.Op is not (PrimOp.LoadRow or PrimOp.LoadWeight or PrimOp.Gather)))
                if (uses.TryGetValue(op.Result, out var n) && n > 1 || normed.Contains(op.Result)) _materialized.Add(op.Result);
        }

        private static string C(Dim d) => d.RenderC(s => s);

        /// <summary>One kv head's share of a loop over <paramref name="length"/> elements (in attention).</summary>
        private string Share(Dim length) => $"({C(length)} / {C(_attention!.KvHeads)})";

        /// <summary>The distinct rotary widths (head dims) of the kernel's rope ops, each with its table's name suffix.</summary>
        private IEnumerable<(Dim Width, int Name)> RopeWidths() =>
            _kernel.Ops.Where(o => o.Op == PrimOp.Rope).Select(o => o.Group!).Distinct().Select((d, i) => (d, i));

        private string Param(ParamKind kind, int value = -1, string? weight = null, int layerOffset = 0) =>
            _params.First(p => p.Kind == kind && p.Value == value && p.Weight == weight && p.LayerOffset == layerOffset).Name;

        public void Render()
        {
            foreach (var op in _kernel.Ops) Visit(op);
            CloseLoop();
            if (_gemv is not null) RenderGemvPrologue(_gemv);
            else if (_attention is not null) RenderAttentionPrologue(_attention);
            else RenderKernel();
        }

        private void RenderKernel()
        {
            _w.Line($"// {_kernel.Fuses}");
            _w.Line($"extern \"C\" __global__ void __launch_bounds__(KERNEL_BLOCK) {_kernel.Name}(");
            WriteParameters(_params.Select(p => $"{p.CType} __restrict__ {p.Name}").ToList());
            _w.Line("{");
            var head = new List<string>
            {
                "const int row = blockIdx.x;",
                _kernel.Rows == RowSet.OutputRows ? "const int src = row_index[row]; // the token row this output row reads" : "const int src = row;",
            };
            if (_kernel.Ops.Any(o => o.Op == PrimOp.Gather)) head.Add("const int token = input_ids[src];");
            head.AddRange(BeforeWait());
            head.Add("wait_for_previous_kernel();");
            head.Add("allow_next_kernel();");
            foreach (var line in head.Concat(_body)) _w.Line("    " + line);
            _w.Line("}");
        }

        /// <summary>What a kernel reads before the programmatic-launch wait (step inputs and weights): one cos/sin table
        /// per rotary width (sincosf once per frequency, not per element), the KV slot, shared arrays and norm weights.</summary>
        private IEnumerable<string> BeforeWait()
        {
            foreach (var d in RopeWidths())
            {
                yield return $"__shared__ float s_cos_{d.Name}[{C(d.Width)} / 2], s_sin_{d.Name}[{C(d.Width)} / 2];";
                yield return $"rope_table((float)positions[src], inv_freq, {C(d.Width)} / 2, s_cos_{d.Name}, s_sin_{d.Name});";
            }
            if (_kernel.Ops.Any(o => o.Op == PrimOp.StoreKv)) yield return "const long long slot = out_cache_loc[src];";
            foreach (var line in SharedArrays()) yield return line;
        }

        /// <summary>The kernel inside decode attention (decode_attention.cu's body, which waits on the previous kernel
        /// and then calls it): the kv head's share of q into the body's shared memory, K/V stored by the CTA that holds
        /// the new token. Entry points as decode_attention and decode_attention_wide, the producer's arguments (less q)
        /// first.</summary>
        private void RenderAttentionPrologue(AttentionPrologueSpec attention)
        {
            var attentionParams = new (string Type, string Name)[]
            {
                ("const int* __restrict__", "attn_req_to_token"), ("int", "attn_req_to_token_stride"), ("const int* __restrict__", "attn_req_pool_indices"),
                ("const int* __restrict__", "attn_seq_lens"), ("bf16* __restrict__", "attn_o"), ("unsigned int* __restrict__", "attn_counters"),
                ("float* __restrict__", "attn_partials"), ("float", "attn_sm_scale"), ("const int* __restrict__", "attn_prefix_lens"),
                ("const int* __restrict__", "attn_prefix_chunks"), ("const float* __restrict__", "attn_prefix_partials"),
            };
            var (parameters, arguments) = PrologueSignature(attention.Input, attentionParams);
            var function = _kernel.Name + "_in_decode_attention";
            _w.Line($"// {_kernel.Name} inside decode attention (decode steps): each CTA (request, kv head, split) computes its kv head's");
            _w.Line("// q heads into shared memory; the CTA whose split holds the new token also stores that token's K/V of its kv head.");
            _w.Line($"// {_kernel.Fuses}");
            _w.Line("template <int THREADS, int MIN_TILES>");
            _w.Line($"static __device__ __forceinline__ void {function}(");
            WriteParameters(parameters);
            _w.Line("{");
            _w.Line("    const int src = blockIdx.x; // the request's one new token");
            foreach (var line in BeforeWait()) _w.Line("    " + line);
            _w.Line("    decode_attention_body<THREADS, MIN_TILES>([&](int, int kvh, bool store_kv, float* s_q) {");
            foreach (var line in _body) _w.Line("        " + line);
            _w.Line($"    }}, {Param(ParamKind.KCache)}, {Param(ParamKind.VCache)}, attn_req_to_token, attn_req_to_token_stride, attn_req_pool_indices, attn_seq_lens,");
            _w.Line("       attn_o, attn_counters, attn_partials, attn_sm_scale, attn_prefix_lens, attn_prefix_chunks, attn_prefix_partials);");
            _w.Line("}");
            foreach (var (suffix, threads, tiles) in new[] { ("", "DA_THREADS", "DA_MIN_TILES"), ("_wide", "DA_WIDE_THREADS", "DA_WIDE_MIN_TILES") })
                WriteEntryPoint(attention.Name + suffix, threads, parameters, $"{function}<{threads}, {tiles}>({arguments})");
        }

        /// <summary>The kernel's rows computed in each block of the next GEMM's GEMV (gemv.cuh), which waits on the
        /// previous kernel after loading its first weights and then calls the prologue.</summary>
        private void RenderGemvPrologue(GemvPrologueSpec gemv)
        {
            // The producer's arguments, then the GEMV's.
            var gemvParams = new (string Type, string Name)[]
            {
                ("const bf16* __restrict__", "gemv_w"), ("bf16* __restrict__", "gemv_y"), ("int", "gemv_m"), ("int", "gemv_n"), ("int", "gemv_k"), ("int", "gemv_ksplit"),
                ("int", "gemv_silu_gate"),
            };
            var (parameters, arguments) = PrologueSignature(gemv.Input, gemvParams);
            _w.Line($"// {_kernel.Name} as the prologue of the next GEMM's decode GEMV (up to GEMV_MAX_M rows): each block computes");
            _w.Line($"// the rows of {_kernel.Ops.First(o => o.Op == PrimOp.StoreRow && o.Value == gemv.Input).Label} it multiplies into shared memory ({C(gemv.K)} per row, dynamic shared memory), block 0 also stores the rest.");
            _w.Line($"// {_kernel.Fuses}");
            _w.Line("template <int PREFETCH>");
            _w.Line($"static __device__ __forceinline__ void {gemv.Name}(");
            WriteParameters(parameters);
            _w.Line("{");
            _w.Line("    extern __shared__ __align__(16) bf16 s_gemv_x[];");
            foreach (var line in SharedArrays()) _w.Line("    " + line);
            _w.Line("    gemv<PREFETCH>(s_gemv_x, gemv_w, gemv_y, nullptr, gemv_m, gemv_n, gemv_k, gemv_ksplit, gemv_silu_gate, [&] {");
            _w.Line("        for (int row = 0; row < gemv_m; ++row)");
            _w.Line("        {");
            _w.Line("            const int src = row;");
            foreach (var line in _body) _w.Line("            " + line);
            _w.Line("            __syncthreads(); // the next row reuses the shared arrays");
            _w.Line("        }");
            _w.Line("    });");
            _w.Line("}");
            foreach (var prefetch in new[] { 4, 8 })
                WriteEntryPoint($"{gemv.Name}_p{prefetch}", "KERNEL_BLOCK", parameters, $"{gemv.Name}<{prefetch}>({arguments})");
            WriteEntryPoint($"{gemv.Name}_bulk", "KERNEL_BLOCK", parameters, $"{gemv.Name}<0>({arguments})"); // gemv_bulk
        }

        /// <summary>A prologue kernel's parameters and the arguments passing them on: the producer's, less the value it
        /// keeps on chip, then the host kernel's own.</summary>
        private (List<string> Parameters, string Arguments) PrologueSignature(int kept, (string Type, string Name)[] hostParams)
        {
            var all = KernelParams.OfPrologue(_kernel, kept, _buffers).Select(p => (Type: p.CType + " __restrict__", p.Name)).Concat(hostParams).ToList();
            return (all.Select(p => $"{p.Type} {p.Name}").ToList(), string.Join(", ", all.Select(p => p.Name)));
        }

        /// <summary>An extern "C" entry point that calls one instance of a prologue kernel's device function.</summary>
        private void WriteEntryPoint(string name, string launchBound, List<string> parameters, string call)
        {
            _w.Line($"extern \"C\" __global__ void __launch_bounds__({launchBound}) {name}(");
            WriteParameters(parameters);
            _w.Line("{");
            _w.Line($"    {call};");
            _w.Line("}");
        }

        /// <summary>A parameter list, one per line, closing the signature.</summary>
        private void WriteParameters(List<string> parameters)
        {
            for (var i = 0; i < parameters.Count; i++) _w.Line($"    {parameters[i]}{(i < parameters.Count - 1 ? "," : ")")}");
        }

        /// <summary>Shared arrays of materialized values and norms; each norm's weight is copied in before the wait.</summary>
        private IEnumerable<string> SharedArrays()
        {
            foreach (var v in _materialized.OrderBy(v => v)) yield return $"__shared__ float s_{v}[{C(_producer[v].Length)}];";
            foreach (var op in _kernel.Ops.Where(o => o.Op == PrimOp.RmsNorm))
            {
                yield return $"__shared__ float s_rstd_{op.Result}[{(op.Group!.Equals(op.Length) ? "1" : $"{C(op.Length)} / {C(op.Group)}")}];";
                // The norm's weight is copied to shared memory before the wait: the last loop then multiplies by it
                // without a global load on the path from the previous kernel's end to this one's. (Read only after
                // the norm's own barrier.)
                var w = Param(ParamKind.Weight, weight: op.Weight, layerOffset: op.LayerOffset);
                yield return $"__shared__ bf16 s_nw_{op.Result}[{C(op.Group)}];";
                yield return $"for (int i = threadIdx.x; i < {C(op.Group)}; i += {_block}) s_nw_{op.Result}[i] = {w}[i];";
            }
        }

        private void Visit(KernelOp op)
        {
            switch (op.Op)
            {
                case PrimOp.RmsNorm:
                    Reduction(op);
                    return;
                case PrimOp.StoreRow:
                {
                    var reads = new List<(string, string)>();
                    var value = Expr(op.Args[0], "i", reads);
                    // q inside attention: rounded to bf16 as the stand-alone kernel stores it, so both paths attend alike.
                    var statement = _attention is not null ? $"s_q[i - kvh * {Share(op.Length)}] = to_float(__float2bfloat16({value}));"
                        : _gemv is null ? $"store(&{Param(ParamKind.OutputBuffer, op.Value)}[(long long)row * {C(op.Length)} + i], {value});"
                        : op.Value == _gemv.Input ? $"store(&s_gemv_x[row * {C(op.Length)} + i], {value});"
                        : $"if (blockIdx.x == 0) store(&{Param(ParamKind.OutputBuffer, op.Value)}[(long long)row * {C(op.Length)} + i], {value});";
                    Place(op.Length, statement, reads, null);
                    return;
                }
                case PrimOp.StoreKv:
                {
                    var reads = new List<(string, string)>();
                    var value = Expr(op.Args[0], "i", reads);
                    var cache = Param(op.Cache == "k" ? ParamKind.KCache : ParamKind.VCache, layerOffset: op.LayerOffset);
                    var store = $"store(&{cache}[slot * {C(op.Length)} + i], {value});";
                    Place(op.Length, _attention is null ? store : "if (store_kv) " + store, reads, null);
                    return;
                }
            }
            if (op.Result >= 0 && _materialized.Contains(op.Result))
            {
                var reads = new List<(string, string)>();
                var value = Define(op, "i", reads);
                Place(op.Length, $"s_{op.Result}[i] = {value};", reads, $"s_{op.Result}");
                _ready.Add(op.Result);
            }
        }

        /// <summary>Adds a statement to the current loop over <paramref name="length"/>, or starts a new loop (after a
        /// barrier when it reads shared memory written by an earlier loop).</summary>
        private void Place(Dim length, string statement, List<(string Array, string Index)> reads, string? writes)
        {
            var joinable = _loop is not null && _loop.Length.Equals(length) &&
                reads.All(r => !_pending.Contains(r.Array) || _loop.Written.Contains(r.Array) && r.Index == "i");
            if (!joinable)
            {
                CloseLoop();
                if (reads.Any(r => _pending.Contains(r.Array))) Barrier();
                _loop = new Loop(length);
            }
            _loop!.Statements.Add(statement);
            if (writes is not null) { _loop.Written.Add(writes); _pending.Add(writes); }
        }

        private void CloseLoop()
        {
            if (_loop is null) return;
            var length = C(_loop.Length);
            if (_attention is not null)
            {
                // This CTA's kv head's share: a contiguous run of whole heads.
                _body.Add($"for (int t = threadIdx.x; t < {Share(_loop.Length)}; t += blockDim.x)");
                _body.Add("{");
                _body.Add($"    const int i = kvh * {Share(_loop.Length)} + t;");
            }
            else if (_kernel.SplitGroup is { } group)
            {
                // This block's groups are blockIdx.y, blockIdx.y + gridDim.y, ...; t counts their elements.
                var g = C(group);
                _body.Add($"for (int t = threadIdx.x; blockIdx.y + gridDim.y * (t / {g}) < {length} / {g}; t += KERNEL_BLOCK)");
                _body.Add("{");
                _body.Add($"    const int i = (blockIdx.y + gridDim.y * (t / {g})) * {g} + t % {g};");
            }
            else
            {
                _body.Add(_kernel.SplitsColumns
                    ? $"for (int i = blockIdx.y * KERNEL_BLOCK + threadIdx.x; i < {length}; i += KERNEL_BLOCK * gridDim.y)"
                    : $"for (int i = threadIdx.x; i < {length}; i += KERNEL_BLOCK)");
                _body.Add("{");
            }
            _body.AddRange(_loop.Statements.Select(s => "    " + s));
            _body.Add("}");
            _loop = null;
        }

        private void Barrier()
        {
            _body.Add("__syncthreads();");
            _pending.Clear();
        }

        private void Reduction(KernelOp op)
        {
            var reads = new List<(string Array, string Index)>();
            var x = Expr(op.Args[0], "i", reads);
            CloseLoop();
            if (reads.Any(r => _pending.Contains(r.Array))) Barrier();
            var rstd = $"s_rstd_{op.Result}";
            var eps = $"(float)({op.Epsilon})"; // config floats arrive as double literals
            if (op.Group!.Equals(op.Length))
            {
                _body.Add("{");
                _body.Add("    float ss = 0.0f;");
                _body.Add($"    for (int i = threadIdx.x; i < {C(op.Length)}; i += KERNEL_BLOCK) {{ const float t = {x}; ss += t * t; }}");
                _body.Add("    ss = block_sum(ss);");
                _body.Add($"    if (threadIdx.x == 0) {rstd}[0] = rsqrtf(ss / (float)({C(op.Length)}) + {eps});");
                _body.Add("}");
            }
            else
            {
                var g = C(op.Group);
                var groups = $"({C(op.Length)} / {g} / {(_attention is null ? "1" : C(_attention.KvHeads))})";
                _body.Add(_attention is not null
                    ? $"for (int g = kvh * {groups} + (threadIdx.x >> 5); g < (kvh + 1) * {groups}; g += blockDim.x >> 5) // one warp per head of this kv head's share"
                    : _kernel.SplitGroup is null
                    ? $"for (int g = threadIdx.x >> 5; g < {C(op.Length)} / {g}; g += KERNEL_BLOCK >> 5) // one warp per group"
                    : $"for (int g = blockIdx.y + gridDim.y * (threadIdx.x >> 5); g < {C(op.Length)} / {g}; g += gridDim.y * (KERNEL_BLOCK >> 5)) // one warp per group of this block");
                _body.Add("{");
                _body.Add("    float ss = 0.0f;");
                _body.Add($"    for (int j = threadIdx.x & 31; j < {g}; j += 32) {{ const int i = g * {g} + j; const float t = {x}; ss += t * t; }}");
                _body.Add("    ss = warp_sum(ss);");
                _body.Add($"    if ((threadIdx.x & 31) == 0) {rstd}[g] = rsqrtf(ss / (float)({g}) + {eps});");
                _body.Add("}");
            }
            Barrier();
            if (_materialized.Contains(op.Result))
            {
                var valueReads = new List<(string, string)>();
                var value = Define(op, "i", valueReads);
                Place(op.Length, $"s_{op.Result}[i] = {value};", valueReads, $"s_{op.Result}");
                _ready.Add(op.Result);
            }
        }

        /// <summary>The value of local <paramref name="local"/> at element <paramref name="index"/>, as a C expression.</summary>
        private string Expr(int local, string index, List<(string, string)> reads)
        {
            if (_ready.Contains(local))
            {
                reads.Add(($"s_{local}", index));
                return $"s_{local}[{index}]";
            }
            return Define(_producer[local], index, reads);
        }

        private string Define(KernelOp op, string index, List<(string, string)> reads)
        {
            string Arg(int k, string at) => Expr(op.Args[k], at, reads);
            switch (op.Op)
            {
                case PrimOp.LoadRow:
                    var offset = op.Offset!.IsConstant(out var zero) && zero == 0 ? "" : C(op.Offset) + " + ";
                    return $"to_float({Param(ParamKind.InputBuffer, op.Value)}[(long long)src * {C(op.RowLength!)} + {offset}{index}])";
                case PrimOp.LoadWeight:
                    return $"to_float({Param(ParamKind.Weight, weight: op.Weight, layerOffset: op.LayerOffset)}[{index}])";
                case PrimOp.Gather:
                    return $"to_float({Param(ParamKind.Weight, weight: op.Weight, layerOffset: op.LayerOffset)}[(long long)token * {C(op.Length)} + {index}])";
                case PrimOp.Add:
                    return $"({Arg(0, index)} + {Arg(1, index)})";
                case PrimOp.Mul:
                    return $"({Arg(0, index)} * {Arg(1, index)})";
                case PrimOp.Silu:
                    return $"silu({Arg(0, index)})";
                case PrimOp.RmsNorm:
                    return op.Group!.Equals(op.Length)
                        ? $"({Arg(0, index)} * s_rstd_{op.Result}[0] * to_float(s_nw_{op.Result}[{index}]))"
                        : $"({Arg(0, index)} * s_rstd_{op.Result}[({index}) / {C(op.Group)}] * to_float(s_nw_{op.Result}[({index}) % {C(op.Group)}]))";
                case PrimOp.Rope:
                    var d = C(op.Group!);
                    var table = RopeWidths().First(r => r.Width.Equals(op.Group)).Name;
                    var partner = $"rope_partner({index}, {d})";
                    return $"rope({Arg(0, index)}, {Arg(0, partner)}, {index}, {d}, s_cos_{table}, s_sin_{table})";
                default:
                    throw new System.InvalidOperationException($"{op.Op} has no value");
            }
        }
    }
}
