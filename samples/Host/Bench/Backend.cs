namespace Compiler.Host.Bench;

/// <summary>A --backend name: its protocol, path and usual port (SGLang's ASYNC_REQUEST_FUNCS and port table).</summary>
internal sealed record Backend(string Name, ApiKind Api, string Path, int DefaultPort)
{
    private static readonly Backend[] All =
    [
        new("sglang", ApiKind.SglangGenerate, "/generate", 30000),
        new("sglang-native", ApiKind.SglangGenerate, "/generate", 30000),
        new("sglang-oai", ApiKind.Completions, "/v1/completions", 30000),
        new("sglang-oai-chat", ApiKind.ChatCompletions, "/v1/chat/completions", 30000),
        new("vllm", ApiKind.Completions, "/v1/completions", 8000),
        new("vllm-chat", ApiKind.ChatCompletions, "/v1/chat/completions", 8000),
        new("openai", ApiKind.Completions, "/v1/completions", 30000),
        new("openai-chat", ApiKind.ChatCompletions, "/v1/chat/completions", 30000),
    ];

    public static IEnumerable<string> Names => All.Select(b => b.Name);

    public static Backend Get(string name) =>
        All.FirstOrDefault(b => b.Name == name)
        ?? throw new ArgumentException($"--backend '{name}' is not one of: {string.Join(", ", Names)}");

    /// <summary>--base-url when given (trailing slash dropped), else http://host:port.</summary>
    public string BaseUrl(BenchOptions options) =>
        options.BaseUrl is { Length: > 0 } url ? url.TrimEnd('/') : $"http://{options.Host}:{options.Port ?? DefaultPort}";
}
