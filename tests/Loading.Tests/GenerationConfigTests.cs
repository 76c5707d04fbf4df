namespace Compiler.Runtime.Loading.Tests;

public sealed class GenerationConfigTests
{
    [Fact]
    public void Qwen3SamplingDefaultsAndEosList()
    {
        var g = GenerationConfig.Load(Fixture.Dir("qwen3-0.6b"))!;
        Assert.Equal(0.6, g.Temperature);
        Assert.Equal(0.95, g.TopP);
        Assert.Equal(20, g.TopK);
        Assert.True(g.DoSample);
        Assert.Equal([151645, 151643], g.EosTokenIds);
        Assert.Equal(151643, g.BosTokenId);
        Assert.Equal(151643, g.PadTokenId);
        Assert.Null(g.RepetitionPenalty);
        Assert.Null(g.MaxNewTokens);
        Assert.Equal("4.51.0", g.Raw.GetProperty("transformers_version").GetString());
    }

    [Fact]
    public void LlamaBaseEosIntAndUnsetSampling()
    {
        var g = GenerationConfig.Load(Fixture.Dir("llama-3.1-8b"))!;
        Assert.Equal([128001], g.EosTokenIds);
        Assert.Null(g.Temperature);
        Assert.Null(g.TopP);
        Assert.Null(g.DoSample);
    }

    [Fact]
    public void AbsentFileIsNull() => Assert.Null(GenerationConfig.Load(Fixture.Dir("qwen2.5-0.5b")));

    [Fact]
    public void AllFieldsParse()
    {
        var g = GenerationConfig.Parse("""
            {"temperature": 0.7, "top_p": 0.8, "top_k": 40, "min_p": 0.05, "repetition_penalty": 1.05, "do_sample": true,
             "max_new_tokens": 512, "max_length": 4096, "bos_token_id": 1, "eos_token_id": [2, 3], "pad_token_id": 0}
            """);
        Assert.Equal((0.7, 0.8, 40, 0.05, 1.05, true, 512, 4096, 1, 0), (g.Temperature, g.TopP, g.TopK, g.MinP, g.RepetitionPenalty, g.DoSample, g.MaxNewTokens, g.MaxLength, g.BosTokenId, g.PadTokenId));
        Assert.Equal([2, 3], g.EosTokenIds);
    }

    [Theory]
    [InlineData("""{"top_p": 1.5}""", "top_p")]
    [InlineData("""{"temperature": "hot"}""", "temperature")]
    [InlineData("""{"top_k": 2.5}""", "top_k")]
    public void BadValuesNameTheKeyAndFile(string json, string key)
    {
        var e = Assert.Throws<CheckpointException>(() => GenerationConfig.Parse(json, "/m/generation_config.json"));
        Assert.Equal("/m/generation_config.json", e.FilePath);
        Assert.Contains($"'{key}'", e.Message);
    }
}
