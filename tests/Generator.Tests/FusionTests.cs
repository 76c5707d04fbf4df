using Compiler.Generator.Ir;
using Compiler.Generator.Passes;
using Compiler.Generator.Syntax;
using Compiler.Generator.Diagnostics;

namespace Compiler.Generator.Tests;

/// <summary>What the passes make of the shipped models: launch counts, merges, fusions, buffer types.</summary>
public sealed class FusionTests
{
    private static (Graph Graph, Schedule Schedule, BufferPlan Buffers) Compile(string file) => CompileText(GeneratorHarness.ReadModel(file));

    private static (Graph Graph, Schedule Schedule, BufferPlan Buffers) CompileText(string text)
    {
        var diagnostics = new List<ModelDiagnostic>();
        var graph = LowerPass.Run(Parser.Parse(text, diagnostics)!, diagnostics)!;
        graph = MergeProjectionsPass.Run(ShapeInferencePass.Run(graph, diagnostics));
        var schedule = NormEpiloguePass.Run(graph, SiluGatePass.Run(graph, AttentionProloguePass.Run(GemvProloguePass.Run(graph, FuseKernelsPass.Run(graph, diagnostics)!))));
        Assert.Empty(diagnostics);
        return (graph, schedule, PlanBuffersPass.Run(graph, schedule));
    }

    [Fact]
    public void Qwen3DecodeLayerIsAtMostNineLaunches()
    {
        var (_, schedule, _) = Compile("Qwen3.model");
        Assert.True(schedule.Layer.Count <= 9, $"{schedule.Layer.Count} launches per layer");
        Assert.Equal(
            ["gemm qkv_proj", "kernel q_norm_k_norm_rope_kv_store", "attention", "gemm o_proj", "kernel add_post_attention_layernorm",
             "gemm gate_up_proj", "kernel silu_mul", "gemm down_proj", "kernel add_input_layernorm"],
            schedule.Layer.Select(s => s.Kind == StepKind.Attention ? "attention" : $"{s.Kind.ToString().ToLowerInvariant()} {s.Name}"));
    }

    [Fact]
    public void ResidualAddFusesWithTheNextLayersNormAndTheFinalNorm()
    {
        var (_, schedule, _) = Compile("Qwen3.model");
        var boundary = schedule.Layer.Last();
        Assert.Equal("add_input_layernorm", boundary.Kernel);
        Assert.Equal("add_norm", boundary.LastLayerKernel);
        var cross = schedule.Kernels.Single(k => k.Name == "add_input_layernorm");
        var norm = cross.Ops.Single(o => o.Op == PrimOp.RmsNorm);
        Assert.Equal(1, norm.LayerOffset); // the next layer's input_layernorm
        Assert.Equal("model.layers.{i}.input_layernorm.weight", norm.Weight);
        var exit = schedule.Kernels.Single(k => k.Name == "add_norm");
        Assert.Equal(RowSet.OutputRows, exit.Rows);
        Assert.Equal("model.norm.weight", exit.Ops.Single(o => o.Op == PrimOp.RmsNorm).Weight);
        Assert.Single(schedule.Prologue);
        Assert.Equal(PrimOp.Gather, schedule.Kernels.Single(k => k.Name == schedule.Prologue[0].Kernel).Ops[0].Op);
    }

    [Theory]
    [InlineData("Qwen3.model")]
    [InlineData("Qwen2.model")]
    [InlineData("Llama.model")]
    public void GateUpProjCarriesTheSiluGateKernelsOutput(string file)
    {
        var (_, schedule, buffers) = Compile(file);
        var gated = schedule.Layer.Where(s => s.SiluGate >= 0).ToList();
        var gemm = Assert.Single(gated);
        Assert.Equal("gate_up_proj", gemm.Name);
        var gate = schedule.Layer[schedule.Layer.ToList().IndexOf(gemm) + 1];
        var store = schedule.Kernels.Single(k => k.Name == gate.Kernel).Ops.Single(o => o.Op == PrimOp.StoreRow);
        Assert.Equal(store.Value, gemm.SiluGate);
        Assert.Equal(DType.BFloat16, buffers.Of(gemm.SiluGate).DType); // the input of down_proj
    }

    [Theory]
    [InlineData("Qwen3.model")]
    [InlineData("Qwen2.model")]
    [InlineData("Llama.model")]
    public void Both_residual_norms_split_over_the_gemms_around_them(string file)
    {
        var (graph, schedule, buffers) = Compile(file);
        var layer = schedule.Layer.ToList();
        var split = layer.Where(s => s.NormEpilogue is not null).ToList();
        Assert.Equal(["add_post_attention_layernorm", "add_input_layernorm"], split.Select(s => s.Kernel!));
        foreach (var step in split)
        {
            var (before, after) = (layer[layer.IndexOf(step) - 1], layer[(layer.IndexOf(step) + 1) % layer.Count]);
            var norm = step.NormEpilogue!;
            var ops = schedule.Kernels.Single(k => k.Name == step.Kernel).Ops;
            Assert.Equal(norm.Normed, after.Input);
            Assert.Equal(ops.Single(o => o.Op == PrimOp.RmsNorm).Weight, norm.Weight);
            Assert.Equal(ops.Single(o => o.Op == PrimOp.RmsNorm).LayerOffset, norm.LayerOffset);
            Assert.Contains(ops, o => o.Op == PrimOp.LoadRow && o.Value == norm.Residual);
            Assert.Contains(ops, o => o.Op == PrimOp.LoadRow && o.Value == before.Output);
            Assert.Equal((DType.Float32, DType.Float32), (buffers.Of(norm.Residual).DType, buffers.Of(norm.ResidualOut).DType));
            // The GEMM before writes the norm's outputs while its other CTAs read its input.
            Assert.DoesNotContain(buffers.Of(before.Input).Slot, new[] { buffers.Of(norm.Normed).Slot, buffers.Of(norm.ResidualOut).Slot });
        }
        Assert.Equal("EPS", split[0].NormEpilogue!.Epsilon);
    }

    [Fact]
    public void A_norm_whose_output_another_launch_reads_is_not_split()
    {
        // The post-attention norm's h is also added to the residual after the MLP: it must reach memory normed, and the
        // kernel after down_proj adds a third row.
        var original = GeneratorHarness.ReadModel("Qwen3.model");
        var text = original.Replace("x = x + linear(silu(g) * u, mlp.down_proj.weight[hidden, inter])", "x = x + linear(silu(g) * u, mlp.down_proj.weight[hidden, inter]) + h");
        Assert.NotEqual(original, text);
        var (_, schedule, _) = CompileText(text);
        Assert.All(schedule.Layer, s => Assert.Null(s.NormEpilogue));
    }

    [Fact]
    public void AKernelThatDoesMoreThanTheGateIsNotFolded()
    {
        // silu(g) * u + g is not what gemm_tiled's epilogue computes: the kernel stays a launch of its own.
        var text = GeneratorHarness.ReadModel("Qwen3.model").Replace("linear(silu(g) * u, mlp.down_proj", "linear(silu(g) * u + g, mlp.down_proj");
        var (_, schedule, _) = CompileText(text);
        Assert.DoesNotContain(schedule.Layer, s => s.SiluGate >= 0);
    }

    [Fact]
    public void EachNormKernelRunsInsideTheNextGemmsDecodeGemvAndSiluMulDoesNot()
    {
        var (_, schedule, _) = Compile("Qwen3.model");

        Assert.Equal(
            [("add_post_attention_layernorm_gemv", "add_post_attention_layernorm", "gate_up_proj"),
             ("add_input_layernorm_gemv", "add_input_layernorm", "qkv_proj")], // the next layer's first GEMM
            schedule.GemvPrologues.Select(g => (g.Name, g.Kernel, schedule.Layer.Single(s => s.Kind == StepKind.Gemm && s.Input == g.Input && s.Output == g.Output).Name)));
        Assert.Equal(["add_post_attention_layernorm_gemv", "add_input_layernorm_gemv"],
            schedule.Layer.Where(s => s.GemvPrologue is not null).Select(s => s.GemvPrologue!));
        Assert.Null(schedule.Layer.Single(s => s.Kernel == "silu_mul").GemvPrologue);
    }

    [Theory]
    [InlineData("Qwen3.model")]
    [InlineData("Qwen2.model")]
    [InlineData("Llama.model")]
    public void A_gemv_prologues_inputs_never_share_a_slot_with_what_it_writes(string file)
    {
        // Every block reads the producer's inputs while other blocks write the GEMM's output and block 0 the producer's
        // other outputs, so slot sharing that is safe between separate launches would race inside the fused one.
        var (_, schedule, buffers) = Compile(file);
        Assert.NotEmpty(schedule.GemvPrologues);
        foreach (var g in schedule.GemvPrologues)
        {
            var ops = schedule.Kernels.Single(k => k.Name == g.Kernel).Ops;
            var reads = ops.Where(o => o.Op == PrimOp.LoadRow).Select(o => buffers.Of(o.Value).Slot).ToList();
            var writes = ops.Where(o => o.Op == PrimOp.StoreRow && o.Value != g.Input).Select(o => o.Value).Append(g.Output);
            foreach (var write in writes)
                Assert.DoesNotContain(buffers.Of(write).Slot, reads);
        }
    }

    [Theory]
    [InlineData("Qwen3.model", "q_norm_k_norm_rope_kv_store")]
    [InlineData("Qwen2.model", "bias_rope_kv_store")]
    [InlineData("Llama.model", "rope_kv_store")]
    public void The_kernel_making_q_and_the_new_KV_runs_inside_decode_attention(string file, string kernel)
    {
        var (_, schedule, buffers) = Compile(file);
        var prologue = Assert.Single(schedule.AttentionPrologues);
        var attention = schedule.Layer.Single(s => s.Kind == StepKind.Attention);
        Assert.Equal((kernel, kernel + "_decode_attention", attention.Input, attention.Output), (prologue.Kernel, prologue.Name, prologue.Input, prologue.Output));
        Assert.Equal(prologue.Name, schedule.Layer.Single(s => s.Kernel == kernel).AttentionPrologue);
        // Some CTAs write attention's output while others still read the QKV projection.
        var reads = schedule.Kernels.Single(k => k.Name == kernel).Ops.Where(o => o.Op == PrimOp.LoadRow).Select(o => buffers.Of(o.Value).Slot);
        Assert.DoesNotContain(buffers.Of(prologue.Output).Slot, reads);
    }

    [Fact]
    public void A_kernel_whose_q_another_launch_reads_stays_out_of_attention()
    {
        // q also feeds a GEMM here, so it must reach global memory.
        var text = GeneratorHarness.ReadModel("Llama.model").Replace(
            "  x = x + linear(a, self_attn.o_proj.weight[hidden, heads * head_dim])",
            "  x = x + linear(a, self_attn.o_proj.weight[hidden, heads * head_dim]) + linear(q, self_attn.extra.weight[hidden, heads * head_dim])");
        var (_, schedule, _) = CompileText(text);
        Assert.Empty(schedule.AttentionPrologues);
        Assert.All(schedule.Layer, s => Assert.Null(s.AttentionPrologue));
    }

    [Fact]
    public void KernelDescriptionsDropTheLayerPrefixTheModelFileDeclares()
    {
        var text = GeneratorHarness.ReadModel("Qwen3.model");
        Assert.Contains("layer model.layers.{i} repeat layers", text);
        var (_, renamed, _) = CompileText(text.Replace("layer model.layers.{i} repeat layers", "layer transformer.h.{i} repeat layers"));
        var (_, original, _) = Compile("Qwen3.model");

        var cross = renamed.Kernels.Single(k => k.Name == "add_input_layernorm");
        Assert.Equal("transformer.h.{i}.input_layernorm.weight", cross.Ops.Single(o => o.Op == PrimOp.RmsNorm).Weight);
        Assert.Contains("rms_norm(x, input_layernorm.weight)", cross.Fuses);
        Assert.Equal(original.Kernels.Select(k => k.Fuses), renamed.Kernels.Select(k => k.Fuses));
    }

    [Fact]
    public void ProjectionsSharingAnInputAreMergedWithTheConcatenationRecorded()
    {
        var (graph, _, _) = Compile("Qwen3.model");
        var merged = graph.Nodes.Where(n => n.MergedFrom.Count > 0).ToDictionary(n => n.WeightName!);
        Assert.Equal(["model.layers.{i}.self_attn.q_proj.weight", "model.layers.{i}.self_attn.k_proj.weight", "model.layers.{i}.self_attn.v_proj.weight"],
            merged["model.layers.{i}.self_attn.qkv_proj.weight"].MergedFrom);
        Assert.Equal("HEADS*HEAD_DIM + 2*HEAD_DIM*KV_HEADS", merged["model.layers.{i}.self_attn.qkv_proj.weight"].WeightShape[0].ToString());
        Assert.Equal(["model.layers.{i}.mlp.gate_proj.weight", "model.layers.{i}.mlp.up_proj.weight"], merged["model.layers.{i}.mlp.gate_up_proj.weight"].MergedFrom);
        Assert.DoesNotContain(graph.Nodes, n => n.WeightName == "model.layers.{i}.self_attn.q_proj.weight");
    }

    [Fact]
    public void Qwen2BiasesFuseIntoTheRopeKernel()
    {
        var (_, schedule, _) = Compile("Qwen2.model");
        var rope = schedule.Kernels.Single(k => k.Ops.Any(o => o.Op == PrimOp.Rope));
        Assert.Equal(3, rope.Ops.Count(o => o.Op == PrimOp.LoadWeight));
        Assert.Equal(9, schedule.Layer.Count);
    }

    [Fact]
    public void ResidualStreamIsFloat32AndGemmInputsAreBFloat16()
    {
        var (graph, schedule, buffers) = Compile("Llama.model");
        var h = schedule.Layer.First(s => s.Kind == StepKind.Gemm).Input;
        Assert.Equal(DType.BFloat16, buffers.Of(h).DType);
        var residual = graph.Nodes.Single(n => n.Op == OpKind.LoopIn).CarriedFrom;
        Assert.Equal(DType.Float32, buffers.Of(residual).DType);
    }

    [Fact]
    public void BuffersWhoseLifetimesOverlapNeverShareASlot()
    {
        var (_, schedule, buffers) = Compile("Qwen3.model");
        foreach (var step in schedule.Layer.Where(s => s.Kind != StepKind.Kernel))
            Assert.NotEqual(buffers.Of(step.Input).Slot, buffers.Of(step.Output).Slot);
        foreach (var kernel in schedule.Kernels)
        {
            var read = kernel.Ops.Where(o => o.Op == PrimOp.LoadRow).Select(o => buffers.Of(o.Value).Slot).ToHashSet();
            var written = kernel.Ops.Where(o => o.Op == PrimOp.StoreRow).Select(o => buffers.Of(o.Value).Slot).ToList();
            Assert.Empty(read.Intersect(written));
            Assert.Equal(written.Count, written.Distinct().Count());
        }
        Assert.True(buffers.SlotCount < buffers.Values.Count, "some slots are reused");
    }

    [Theory]
    [InlineData(new[] { "a.q_proj.weight", "a.k_proj.weight", "a.v_proj.weight" }, "a.qkv_proj.weight")]
    [InlineData(new[] { "b.gate_proj.weight", "b.up_proj.weight" }, "b.gate_up_proj.weight")]
    public void MergedWeightNames(string[] parts, string expected) => Assert.Equal(expected, MergeProjectionsPass.MergedName(parts));

    [Fact]
    public void DimensionsHaveANormalForm()
    {
        var a = Dim.Symbol("HEADS") * Dim.Symbol("HEAD_DIM");
        var b = Dim.Symbol("HEAD_DIM") * Dim.Symbol("HEADS");
        Assert.Equal(a, b);
        Assert.Equal("2*INTER", (Dim.Symbol("INTER") + Dim.Symbol("INTER")).ToString());
        Assert.Equal(Dim.Symbol("HEADS"), a.TryDivide(Dim.Symbol("HEAD_DIM")));
        Assert.Null(Dim.Symbol("HIDDEN").TryDivide(Dim.Symbol("HEAD_DIM")));
    }
}
