namespace Compiler.Runtime.Loading.Tests;

public sealed class HfConfigTests
{
    [Fact]
    public void Qwen3HubConfig()
    {
        var c = HfConfig.Load(Fixture.Dir("qwen3-0.6b"));
        Assert.Equal(Path.Combine(Fixture.Dir("qwen3-0.6b"), "config.json"), c.FilePath);
        Assert.Equal(["Qwen3ForCausalLM"], c.Architectures);
        Assert.Equal("qwen3", c.ModelType);
        Assert.Equal(1024, c.HiddenSize);
        Assert.Equal(3072, c.IntermediateSize);
        Assert.Equal(28, c.NumHiddenLayers);
        Assert.Equal(16, c.NumAttentionHeads);
        Assert.Equal(8, c.NumKeyValueHeads);
        Assert.Equal(128, c.HeadDim);                 // explicit, and not hidden/heads (64)
        Assert.Equal(151936, c.VocabSize);
        Assert.Equal(1e-6, c.RmsNormEps);
        Assert.Equal(40960, c.MaxPositionEmbeddings);
        Assert.True(c.TieWordEmbeddings);
        Assert.False(c.AttentionBias);
        Assert.False(c.OutputProjectionBias);
        Assert.Equal(151643, c.BosTokenId);
        Assert.Equal([151645], c.EosTokenIds);         // an int in the file
        Assert.Null(c.PadTokenId);
        Assert.Equal("bfloat16", c.DTypeName);
        Assert.Equal(TensorDType.BF16, c.DType);
        Assert.Equal("default", c.Rope.RopeType);     // rope_scaling: null
        Assert.Equal(1_000_000, c.Rope.Theta);
        Assert.Null(c.Rope.Factor);
    }

    [Fact]
    public void Llama31HubConfig()
    {
        var c = HfConfig.Load(Fixture.Dir("llama-3.1-8b"));
        Assert.Equal("llama", c.ModelType);
        Assert.Equal(4096, c.HiddenSize);
        Assert.Equal(14336, c.IntermediateSize);
        Assert.Equal(32, c.NumHiddenLayers);
        Assert.Equal(32, c.NumAttentionHeads);
        Assert.Equal(8, c.NumKeyValueHeads);
        Assert.Equal(128, c.HeadDim);                 // absent: hidden / heads
        Assert.Equal(128256, c.VocabSize);
        Assert.Equal(1e-5, c.RmsNormEps);
        Assert.Equal(131072, c.MaxPositionEmbeddings);
        Assert.False(c.TieWordEmbeddings);
        Assert.False(c.MlpBias);
        Assert.Equal(128000, c.BosTokenId);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);   // a list in the file
        Assert.Equal(TensorDType.BF16, c.DType);
        Assert.Equal(new RopeParameters
        {
            RopeType = "llama3", Theta = 500000, Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositionEmbeddings = 8192,
        }, c.Rope);
    }

    [Fact]
    public void Qwen2ConfigTakesQwen2Defaults()
    {
        var c = HfConfig.Load(Fixture.Dir("qwen2.5-0.5b"));
        Assert.Equal("qwen2", c.ModelType);
        Assert.Equal(64, c.HeadDim);                  // no head_dim key: 896 / 14
        Assert.Equal(2, c.NumKeyValueHeads);
        Assert.True(c.AttentionBias);                 // Qwen2 always has q/k/v biases, though the file says nothing
        Assert.False(c.OutputProjectionBias);
        Assert.True(c.TieWordEmbeddings);
        Assert.Equal("default", c.Rope.RopeType);
        Assert.Equal(1_000_000, c.Rope.Theta);
        Assert.Equal(32768, c.GetInt("sliding_window"));
        Assert.False(c.GetBool("use_sliding_window"));
    }

    [Theory]
    [InlineData("llama-3.1-8b", "llama-3.1-8b-v5")]
    [InlineData("qwen3-0.6b", "qwen3-0.6b-v5")]
    public void BothRopeFormsReadTheSameAndGiveTheSameInvFreq(string hubForm, string v5Form)
    {
        var hub = HfConfig.Load(Fixture.Dir(hubForm));
        var v5 = HfConfig.Load(Fixture.Dir(v5Form));
        Assert.Equal(hub.Rope, v5.Rope);
        Assert.Equal(hub.HeadDim, v5.HeadDim);
        Assert.Equal(hub.EosTokenIds, v5.EosTokenIds);
        Assert.Equal(hub.DType, v5.DType);            // torch_dtype vs dtype
        var a = hub.Rope.ComputeInvFreq(hub.HeadDim);
        var b = v5.Rope.ComputeInvFreq(v5.HeadDim);
        Assert.Equal(hub.HeadDim / 2, a.Length);
        Assert.Equal(a, b);
    }

    [Fact]
    public void AbsentKeysTakeTheArchitecturesTransformersDefaults()
    {
        var llama = HfConfig.Parse("""{"model_type": "llama", "hidden_size": 2048, "num_attention_heads": 16}""");
        Assert.Equal(16, llama.NumKeyValueHeads);     // LlamaConfig: None -> num_attention_heads
        Assert.Equal(128, llama.HeadDim);
        Assert.Equal(32000, llama.VocabSize);
        Assert.Equal(11008, llama.IntermediateSize);
        Assert.Equal(2048, llama.MaxPositionEmbeddings);
        Assert.Equal(1e-6, llama.RmsNormEps);
        Assert.False(llama.TieWordEmbeddings);
        Assert.Equal(1, llama.BosTokenId);
        Assert.Equal([2], llama.EosTokenIds);
        Assert.Equal(10000, llama.Rope.Theta);
        Assert.Null(llama.DTypeName);

        var qwen3 = HfConfig.Parse("""{"model_type": "qwen3", "hidden_size": 2048, "num_attention_heads": 32}""");
        Assert.Equal(128, qwen3.HeadDim);              // Qwen3Config.head_dim defaults to 128, not 2048 / 32
        Assert.Equal(32, qwen3.NumKeyValueHeads);      // Qwen3Config.num_key_value_heads defaults to 32
        Assert.False(qwen3.TieWordEmbeddings);
        Assert.Null(qwen3.BosTokenId);
        Assert.Empty(qwen3.EosTokenIds);
        Assert.Equal(32768, qwen3.MaxPositionEmbeddings);

        var qwen2 = HfConfig.Parse("""{"architectures": ["Qwen2ForCausalLM"], "num_attention_heads": 8, "num_key_value_heads": null}""");
        Assert.Equal("qwen2", qwen2.ModelType);       // inferred from architectures
        Assert.Equal(8, qwen2.NumKeyValueHeads);       // explicit null -> num_attention_heads
        Assert.Equal(512, qwen2.HeadDim);
    }

    [Fact]
    public void ExplicitNullTokenIdsMeanNoneNotTheDefault()
    {
        var c = HfConfig.Parse("""{"model_type": "llama", "bos_token_id": null, "eos_token_id": null}""");
        Assert.Null(c.BosTokenId);
        Assert.Empty(c.EosTokenIds);
    }

    [Fact]
    public void RawKeysAreReadableByName()
    {
        var c = HfConfig.Load(Fixture.Dir("llama-3.1-8b"));
        Assert.True(c.TryGetNumber("rope_theta", out var theta));
        Assert.Equal(500000, theta);
        Assert.False(c.TryGetNumber("no_such_key", out _));
        Assert.Equal(1, c.GetInt("pretraining_tp"));
        Assert.Equal(8.0, c.GetDouble("rope_scaling.factor"));       // dotted path into a nested object
        Assert.Equal("llama3", c.GetString("rope_scaling.rope_type"));
        Assert.True(c.GetBool("use_cache"));
        Assert.Equal(7, c.GetInt("no_such_key", 7));
        Assert.True(c.Contains("mlp_bias"));
        Assert.Equal("silu", c.Raw.GetProperty("hidden_act").GetString());
    }

    [Fact]
    public void RawKeyErrorsNameTheKeyAndTheFile()
    {
        var c = HfConfig.Load(Fixture.Dir("llama-3.1-8b"));
        var missing = Assert.Throws<CheckpointException>(() => c.GetInt("num_experts"));
        Assert.Equal(c.FilePath, missing.FilePath);
        Assert.Contains("'num_experts'", missing.Message);
        Assert.Contains("missing", missing.Message);
        Assert.Contains(c.FilePath, missing.Message);

        var wrongType = Assert.Throws<CheckpointException>(() => c.GetInt("hidden_act"));
        Assert.Contains("'hidden_act'", wrongType.Message);
        Assert.Contains("must be a number", wrongType.Message);

        var fractional = Assert.Throws<CheckpointException>(() => c.GetInt("rms_norm_eps"));
        Assert.Contains("must be an integer", fractional.Message);

        Assert.Throws<CheckpointException>(() => c.GetBool("vocab_size"));
        Assert.Throws<CheckpointException>(() => c.GetString("vocab_size"));
    }

    [Theory]
    [InlineData("""{"model_type": "llama", "hidden_size": "4096"}""", "hidden_size", "must be a number")]
    [InlineData("""{"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 5}""", "num_key_value_heads", "divide")]
    [InlineData("""{"model_type": "llama", "vocab_size": 0}""", "vocab_size", "positive")]
    [InlineData("""{"model_type": "qwen3", "num_attention_heads": 16}""", "num_key_value_heads", "is absent, so it takes the 'qwen3' default 32")]
    [InlineData("""{"model_type": "llama", "eos_token_id": "</s>"}""", "eos_token_id", "integer or a list")]
    [InlineData("""{"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8.0}}""", "rope_scaling.low_freq_factor", "llama3")]
    [InlineData("""{"model_type": "llama", "rope_scaling": {"type": "linear"}}""", "rope_scaling.factor", "factor")]
    [InlineData("""{"model_type": "mystery", "hidden_size": 64}""", "vocab_size", "no default")]
    [InlineData("""{"hidden_size": 64}""", "model_type", "missing")]
    public void InvalidConfigsFailNamingTheKey(string json, string key, string fragment)
    {
        var e = Assert.Throws<CheckpointException>(() => HfConfig.Parse(json, "/models/x/config.json"));
        Assert.Equal("/models/x/config.json", e.FilePath);
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void MalformedJsonAndMissingFileAreCheckpointErrors()
    {
        var bad = Assert.Throws<CheckpointException>(() => HfConfig.Parse("{\"model_type\": ", "/m/config.json"));
        Assert.Contains("not valid JSON", bad.Message);
        using var dir = new TempDirectory();
        var missing = Assert.Throws<CheckpointException>(() => HfConfig.Load(dir.Path));
        Assert.Equal(dir.File("config.json"), missing.FilePath);
    }

    [Fact]
    public void RopeTypeAliasAndTopLevelThetaAreHonoured()
    {
        // Old Hub files spell it "type"; rope_theta may sit outside the dict (Hub) or inside (transformers 5).
        var old = HfConfig.Parse("""{"model_type": "llama", "rope_theta": 250000, "rope_scaling": {"type": "linear", "factor": 2.0}}""");
        Assert.Equal("linear", old.Rope.RopeType);
        Assert.Equal(250000, old.Rope.Theta);
        Assert.Equal(2.0, old.Rope.Factor);
        var inside = HfConfig.Parse("""{"model_type": "llama", "rope_theta": 1, "rope_parameters": {"rope_type": "default", "rope_theta": 20000}}""");
        Assert.Equal(20000, inside.Rope.Theta);       // the dict's value wins, as in standardize_rope_params
        var llama3NoOriginal = HfConfig.Parse("""{"model_type": "llama", "max_position_embeddings": 4096, "rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4}}""");
        Assert.Equal(4096, llama3NoOriginal.Rope.OriginalMaxPositionEmbeddings);
    }
}
