namespace Compiler.Host.Bench;

/// <summary>The request protocol a backend speaks.</summary>
internal enum ApiKind
{
    /// <summary>SGLang's native POST /generate ("text" or "input_ids", "sampling_params", cumulative "text" chunks).</summary>
    SglangGenerate,
    /// <summary>OpenAI POST /v1/completions.</summary>
    Completions,
    /// <summary>OpenAI POST /v1/chat/completions.</summary>
    ChatCompletions,
}
