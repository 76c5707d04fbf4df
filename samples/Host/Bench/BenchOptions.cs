namespace Compiler.Host.Bench;

/// <summary>Everything bench-serving is told, with sglang.bench_serving's defaults. The CLI fills it from flags; tests
/// build it directly.</summary>
internal sealed record BenchOptions
{
    public string Backend { get; init; } = "sglang";
    public string? BaseUrl { get; init; }
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Null: the backend's usual port (30000; 8000 for vllm).</summary>
    public int? Port { get; init; }
    /// <summary>Null: the first model of GET /v1/models.</summary>
    public string? Model { get; init; }
    /// <summary>Directory with tokenizer.json; null: --model when that is a local directory holding one.</summary>
    public string? Tokenizer { get; init; }
    public string? ApiKey { get; init; }

    public string DatasetName { get; init; } = "sharegpt";
    public string? DatasetPath { get; init; }
    public int NumPrompts { get; init; } = 1000;
    public int Seed { get; init; } = 1;
    public int? SharegptOutputLen { get; init; }
    public int? SharegptContextLen { get; init; }
    public int RandomInputLen { get; init; } = 1024;
    public int RandomOutputLen { get; init; } = 1024;
    public double RandomRangeRatio { get; init; }
    public int GspNumGroups { get; init; } = 64;
    public int GspPromptsPerGroup { get; init; } = 16;
    public int GspSystemPromptLen { get; init; } = 2048;
    public int GspQuestionLen { get; init; } = 128;
    public int GspOutputLen { get; init; } = 256;
    public double GspRangeRatio { get; init; } = 1.0;
    /// <summary>Send token ids (sglang backend: input_ids; completions: prompt as ids) instead of text.</summary>
    public bool TokenizePrompt { get; init; }
    /// <summary>random-ids without a tokenizer: ids are drawn below this.</summary>
    public int? VocabSize { get; init; }

    public double RequestRate { get; init; } = double.PositiveInfinity;
    public int? MaxConcurrency { get; init; }
    public int WarmupRequests { get; init; } = 1;
    /// <summary>SGLang sleeps a second between warm-up and the run so the server settles.</summary>
    public TimeSpan WarmupPause { get; init; } = TimeSpan.FromSeconds(1);
    public bool DisableIgnoreEos { get; init; }
    public bool DisableStream { get; init; }
    /// <summary>A JSON object merged into every request body (its keys win).</summary>
    public string? ExtraRequestBody { get; init; }

    public string? OutputFile { get; init; }
    public bool OutputDetails { get; init; }
    public string? Tag { get; init; }
}
