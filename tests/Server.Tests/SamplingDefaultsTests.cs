using System.Text.Json;
using Compiler.Runtime.Loading;
using Compiler.Runtime.Sampling;
using Compiler.Runtime.Server;

namespace Server.Tests;

/// <summary>--sampling-defaults model: generation_config.json fills the sampling fields a request leaves out, nothing more.</summary>
public sealed class SamplingDefaultsTests
{
    private static readonly SamplingParams ModelDefaults = SamplingParser.ModelDefaults(GenerationConfig.Parse(
        """{"do_sample": true, "temperature": 0.7, "top_p": 0.9, "top_k": 40, "repetition_penalty": 1.1, "eos_token_id": 2}"""));

    private static SamplingParams Parse(string json, SamplingParams defaults)
    {
        using var doc = JsonDocument.Parse(json);
        return SamplingParser.ParseOpenAI(doc.RootElement, SamplingParser.Api.Completions, defaults).Sampling;
    }

    [Fact]
    public void Fields_a_request_leaves_out_come_from_generation_config()
    {
        var p = Parse("""{"prompt": "hi"}""", ModelDefaults);
        Assert.Equal(0.7f, p.Temperature);
        Assert.Equal(0.9f, p.TopP);
        Assert.Equal(40, p.TopK);
        Assert.Equal(1.1f, p.RepetitionPenalty);
        Assert.Equal(0f, p.MinP);
    }

    [Fact]
    public void Fields_a_request_gives_win_over_the_defaults()
    {
        var p = Parse("""{"prompt": "hi", "temperature": 0, "top_p": 1, "top_k": -1, "repetition_penalty": 1}""", ModelDefaults);
        Assert.Equal(0f, p.Temperature);
        Assert.Equal(1f, p.TopP);
        Assert.Equal(-1, p.TopK);
        Assert.Equal(1f, p.RepetitionPenalty);
    }

    [Fact]
    public void Openai_defaults_and_a_missing_generation_config_keep_the_api_values()
    {
        var api = new SamplingParams();
        foreach (var defaults in new[] { api, SamplingParser.ModelDefaults(null) })
        {
            var p = Parse("""{"prompt": "hi"}""", defaults);
            Assert.Equal(api.Temperature, p.Temperature);
            Assert.Equal(api.TopP, p.TopP);
            Assert.Equal(api.TopK, p.TopK);
            Assert.Equal(api.RepetitionPenalty, p.RepetitionPenalty);
        }
    }
}
