using Compiler.Runtime.Text;

namespace Text.Tests;

/// <summary>The real Qwen3 and Llama 3.1 tokenizers (fetched into .cache/tokenizers by the build), loaded once
/// per test run.</summary>
internal static class Tokenizers
{
    private static readonly Lazy<Tokenizer> LazyQwen3 = new(() => Tokenizer.FromDirectory(RepoPaths.TokenizerDir("qwen3")));
    private static readonly Lazy<Tokenizer> LazyLlama3 = new(() => Tokenizer.FromDirectory(RepoPaths.TokenizerDir("llama3")));

    public static Tokenizer Qwen3 => LazyQwen3.Value;

    public static Tokenizer Llama3 => LazyLlama3.Value;

    public static Tokenizer ByName(string name) => name switch
    {
        "qwen3" => Qwen3,
        "llama3" => Llama3,
        _ => throw new ArgumentException($"unknown tokenizer {name}"),
    };
}
