using System.Globalization;
using System.Text.Json;

namespace Compiler.Runtime.Loading.Tests;

/// <summary>Compares against what transformers and safetensors themselves produce. The reference files come from
/// scripts/loading_reference.py (run on the GPU machine); until they are committed these tests skip.</summary>
public sealed class TransformersReferenceTests
{
    public static TheoryData<string> Fixtures => new() { "qwen3-0.6b", "qwen3-0.6b-v5", "llama-3.1-8b", "llama-3.1-8b-v5", "qwen2.5-0.5b" };

    private static string ReferencePath(string name)
    {
        var path = Path.Combine(Fixture.Dir("reference"), name);
        if (!File.Exists(path) && !Directory.Exists(path))
            Assert.Skip($"{name} not found in Fixtures/reference: run `python3 scripts/loading_reference.py tests/Loading.Tests/Fixtures` on the GPU machine and commit its outputs");
        return path;
    }

    private static JsonElement Json(string name) => JsonDocument.Parse(File.ReadAllText(ReferencePath(name))).RootElement;

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ConfigReadsAsTransformersReadsIt(string fixture)
    {
        var reference = Json(fixture + ".json");
        AssertConfigMatches(HfConfig.Load(Fixture.Dir(fixture)), reference.GetProperty("config"));
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void InvFreqMatchesTransformersOnCpu(string fixture)
    {
        var reference = Json(fixture + ".json");
        var config = HfConfig.Load(Fixture.Dir(fixture));
        AssertInvFreqMatches(config.Rope.ComputeInvFreq(config.HeadDim), reference.GetProperty("inv_freq_bits_cpu"));
    }

    [Theory]
    [InlineData("qwen3-0.6b")]
    [InlineData("llama-3.1-8b")]
    public void GenerationConfigReadsAsTransformersReadsIt(string fixture)
    {
        var expected = Json(fixture + ".json").GetProperty("generation");
        Assert.NotEmpty(expected.EnumerateObject());
        var g = GenerationConfig.Load(Fixture.Dir(fixture))!;
        foreach (var p in expected.EnumerateObject())
        {
            switch (p.Name)
            {
                case "temperature": Assert.Equal(p.Value.GetDouble(), g.Temperature); break;
                case "top_p": Assert.Equal(p.Value.GetDouble(), g.TopP); break;
                case "top_k": Assert.Equal(p.Value.GetInt32(), g.TopK); break;
                case "do_sample": Assert.Equal(p.Value.GetBoolean(), g.DoSample); break;
                case "bos_token_id": Assert.Equal(p.Value.GetInt32(), g.BosTokenId); break;
                case "pad_token_id": Assert.Equal(p.Value.GetInt32(), g.PadTokenId); break;
                case "eos_token_id": Assert.Equal(IntList(p.Value), g.EosTokenIds); break;
            }
        }
    }

    [Fact]
    public void ReadsAFileWrittenBySafetensorsTorch()
    {
        var listing = Json("python_written.json");
        using var checkpoint = Checkpoint.Open(ReferencePath("python_written.safetensors"));
        Assert.Equal("pt", checkpoint.Metadata["format"]);
        Assert.Equal(listing.EnumerateObject().Count(), checkpoint.Tensors.Count);
        foreach (var entry in listing.EnumerateObject())
        {
            var tensor = checkpoint.GetTensor(entry.Name);
            Assert.Equal(TorchDType(entry.Value.GetProperty("dtype").GetString()!), tensor.DType);
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), tensor.Shape);
            Assert.Equal(entry.Value.GetProperty("values").EnumerateArray().Select(v => (float)v.GetDouble()), tensor.ToFloat32Array());
        }
    }

    [Theory]
    [InlineData("tiny-llama")]
    [InlineData("tiny-qwen3")]
    public void LoadsATinyModelSavedByTransformers(string name)
    {
        var reference = Json(name + ".json");
        var directory = ReferencePath(name);
        var config = HfConfig.Load(directory);
        AssertConfigMatches(config, reference.GetProperty("config"));
        AssertInvFreqMatches(config.Rope.ComputeInvFreq(config.HeadDim), reference.GetProperty("inv_freq_bits_cpu"));

        using var checkpoint = Checkpoint.Open(directory);
        var tensors = reference.GetProperty("tensors");
        Assert.Equal(tensors.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), checkpoint.Tensors.Select(t => t.Name));
        foreach (var entry in tensors.EnumerateObject())
        {
            var tensor = checkpoint.GetTensor(entry.Name);
            Assert.Equal(entry.Value.GetProperty("file").GetString(), Path.GetFileName(tensor.FilePath));
            Assert.Equal(TorchDType(entry.Value.GetProperty("dtype").GetString()!), tensor.DType);
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), tensor.Shape);
            var sum = tensor.ToFloat32Array().Sum(v => (double)v);
            Assert.Equal(entry.Value.GetProperty("sum").GetDouble(), sum, 1e-9);
        }

        // The weights a Llama/Qwen3 decoder needs, derived from the config alone, are all there with these shapes.
        var validation = checkpoint.Validate(ExpectedDecoderTensors(config));
        Assert.True(validation.IsValid, string.Join("\n", validation.Problems));
        Assert.Empty(validation.UnusedTensors);
    }

    private static IEnumerable<ExpectedTensor> ExpectedDecoderTensors(HfConfig c)
    {
        long h = c.HiddenSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim, i = c.IntermediateSize;
        yield return new("model.embed_tokens.weight", [c.VocabSize, h]);
        yield return new("model.norm.weight", [h]);
        if (!c.TieWordEmbeddings) yield return new("lm_head.weight", [c.VocabSize, h]);
        for (var l = 0; l < c.NumHiddenLayers; l++)
        {
            var p = $"model.layers.{l}.";
            yield return new(p + "input_layernorm.weight", [h]);
            yield return new(p + "post_attention_layernorm.weight", [h]);
            yield return new(p + "self_attn.q_proj.weight", [q, h]);
            yield return new(p + "self_attn.k_proj.weight", [kv, h]);
            yield return new(p + "self_attn.v_proj.weight", [kv, h]);
            yield return new(p + "self_attn.o_proj.weight", [h, q]);
            if (c.ModelType == "qwen3")
            {
                yield return new(p + "self_attn.q_norm.weight", [c.HeadDim]);
                yield return new(p + "self_attn.k_norm.weight", [c.HeadDim]);
            }
            yield return new(p + "mlp.gate_proj.weight", [i, h]);
            yield return new(p + "mlp.up_proj.weight", [i, h]);
            yield return new(p + "mlp.down_proj.weight", [h, i]);
        }
    }

    private static void AssertConfigMatches(HfConfig c, JsonElement r)
    {
        Assert.Equal(r.GetProperty("model_type").GetString(), c.ModelType);
        Assert.Equal(r.GetProperty("hidden_size").GetInt32(), c.HiddenSize);
        Assert.Equal(r.GetProperty("intermediate_size").GetInt32(), c.IntermediateSize);
        Assert.Equal(r.GetProperty("num_hidden_layers").GetInt32(), c.NumHiddenLayers);
        Assert.Equal(r.GetProperty("num_attention_heads").GetInt32(), c.NumAttentionHeads);
        Assert.Equal(r.GetProperty("num_key_value_heads").GetInt32(), c.NumKeyValueHeads);
        Assert.Equal(r.GetProperty("head_dim").GetInt32(), c.HeadDim);
        Assert.Equal(r.GetProperty("vocab_size").GetInt32(), c.VocabSize);
        Assert.Equal(r.GetProperty("rms_norm_eps").GetDouble(), c.RmsNormEps);
        Assert.Equal(r.GetProperty("max_position_embeddings").GetInt32(), c.MaxPositionEmbeddings);
        Assert.Equal(r.GetProperty("tie_word_embeddings").GetBoolean(), c.TieWordEmbeddings);
        if (c.ModelType != "qwen2" && r.GetProperty("attention_bias").ValueKind is JsonValueKind.True or JsonValueKind.False)
            Assert.Equal(r.GetProperty("attention_bias").GetBoolean(), c.AttentionBias);
        Assert.Equal(NullableInt(r.GetProperty("bos_token_id")), c.BosTokenId);
        Assert.Equal(IntList(r.GetProperty("eos_token_ids")), c.EosTokenIds);
        Assert.Equal(NullableInt(r.GetProperty("pad_token_id")), c.PadTokenId);
        if (r.GetProperty("dtype").ValueKind == JsonValueKind.String)
            Assert.Equal(TorchDType(r.GetProperty("dtype").GetString()!), c.DType);
        var rope = r.GetProperty("rope");
        Assert.Equal(rope.TryGetProperty("rope_type", out var t) ? t.GetString() : "default", c.Rope.RopeType);
        Assert.Equal(rope.GetProperty("rope_theta").GetDouble(), c.Rope.Theta);
        if (rope.TryGetProperty("factor", out var f)) Assert.Equal(f.GetDouble(), c.Rope.Factor);
        if (c.Rope.RopeType == "llama3")
            Assert.Equal(rope.GetProperty("original_max_position_embeddings").GetInt32(), c.Rope.OriginalMaxPositionEmbeddings);
    }

    // torch's vectorised powf is accurate to 1 ulp, ours is correctly rounded: allow 1 ulp, but most must be exact.
    private static void AssertInvFreqMatches(float[] ours, JsonElement referenceBits)
    {
        var theirs = referenceBits.EnumerateArray().Select(b => uint.Parse(b.GetString()!.AsSpan(2), NumberStyles.HexNumber)).ToArray();
        Assert.Equal(theirs.Length, ours.Length);
        var exact = 0;
        for (var i = 0; i < ours.Length; i++)
        {
            var ulps = Math.Abs((long)BitConverter.SingleToUInt32Bits(ours[i]) - theirs[i]);
            Assert.True(ulps <= 1, $"inv_freq[{i}]: ours {ours[i]:R}, transformers {BitConverter.UInt32BitsToSingle(theirs[i]):R} ({ulps} ulps apart)");
            if (ulps == 0) exact++;
        }
        Assert.True(exact >= ours.Length * 9 / 10, $"only {exact} of {ours.Length} inv_freq entries are bit-exact");
    }

    private static TensorDType TorchDType(string name) =>
        TensorDTypes.TryParseTorchName(name, out var d) ? d : throw new InvalidOperationException($"unexpected dtype {name}");

    private static int? NullableInt(JsonElement e) => e.ValueKind == JsonValueKind.Null ? null : e.GetInt32();

    private static int[] IntList(JsonElement e) => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(x => x.GetInt32()).ToArray() : [e.GetInt32()];
}
