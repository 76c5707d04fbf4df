using Compiler.Runtime.Text;

namespace Compiler.Host.Bench;

/// <summary><see cref="IBenchTokenizer"/> over the runtime's Hugging Face tokenizer.</summary>
internal sealed class RuntimeBenchTokenizer : IBenchTokenizer
{
    private readonly Tokenizer _tokenizer;

    private RuntimeBenchTokenizer(Tokenizer tokenizer)
    {
        _tokenizer = tokenizer;
        NumSpecialTokensToAdd = tokenizer.Encode("", addSpecialTokens: true).Length;
    }

    /// <summary>Loads tokenizer.json (and tokenizer_config.json) from a model or tokenizer directory.</summary>
    public static RuntimeBenchTokenizer FromDirectory(string directory)
    {
        if (!File.Exists(Path.Combine(directory, "tokenizer.json")))
            throw new FileNotFoundException(
                $"--tokenizer: no tokenizer.json in '{directory}'; give the model directory or a directory holding tokenizer.json");
        return new RuntimeBenchTokenizer(Tokenizer.FromDirectory(directory));
    }

    public int VocabSize => _tokenizer.VocabSize;

    public int NumSpecialTokensToAdd { get; }

    public int[] Encode(string text, bool addSpecialTokens) => _tokenizer.Encode(text, addSpecialTokens);

    public string Decode(ReadOnlySpan<int> ids) => _tokenizer.Decode(ids);

    public bool IsSpecial(int id) => _tokenizer.IsSpecialToken(id);
}
