using Compiler.Runtime.Sampling;

namespace Compiler.Runtime.Server;

/// <summary>HTTP-side settings of the OpenAI-compatible server (SGLang's server-argument names).</summary>
internal sealed record ServerOptions
{
    /// <summary>--host; "0.0.0.0" listens on every interface.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>--port; 0 picks a free port (tests).</summary>
    public int Port { get; init; } = 30000;
    /// <summary>--served-model-name: the id of /v1/models and the "model" requests must name.</summary>
    public required string ServedModelName { get; init; }
    /// <summary>--api-key: when set, every endpoint but /health needs "Authorization: Bearer KEY".</summary>
    public string? ApiKey { get; init; }
    /// <summary>
    /// --sampling-defaults: the values of temperature, top_p, top_k, min_p and repetition_penalty a request leaves
    /// out. "model" (SGLang's default) takes them from the checkpoint's generation_config.json, "openai" keeps the
    /// API's own (temperature 1, top_p 1, no top_k).
    /// </summary>
    public SamplingParams SamplingDefaults { get; init; } = new();
    /// <summary>Why text endpoints cannot work (no tokenizer.json / chat template), for their error messages.</summary>
    public string? TokenizerMissingReason { get; init; }
    public string? ChatTemplateMissingReason { get; init; }
}
