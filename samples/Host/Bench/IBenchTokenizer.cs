namespace Compiler.Host.Bench;

/// <summary>What the benchmark needs of a tokenizer: counting and building prompts, and retokenizing outputs.</summary>
internal interface IBenchTokenizer
{
    /// <summary>Ids below this are valid token ids.</summary>
    int VocabSize { get; }

    /// <summary>How many special tokens (e.g. BOS) the server adds when it encodes a text prompt.</summary>
    int NumSpecialTokensToAdd { get; }

    int[] Encode(string text, bool addSpecialTokens);

    string Decode(ReadOnlySpan<int> ids);

    /// <summary>Special / added tokens are left out of generated prompts (SGLang samples all of get_vocab(), which
    /// lets control tokens such as end-of-turn into a prompt; a benchmark prompt has no use for them).</summary>
    bool IsSpecial(int id);
}
