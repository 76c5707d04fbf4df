namespace Compiler.Host.Bench;

/// <summary>One benchmark request as a dataset produced it (SGLang's DatasetRow): the prompt as text or as token ids
/// (exactly one is set), its length in tokens and the number of tokens to generate.</summary>
internal sealed record DatasetRow(string? Text, int[]? InputIds, int PromptLen, int OutputLen)
{
    public static DatasetRow FromText(string text, int promptLen, int outputLen) => new(text, null, promptLen, outputLen);

    public static DatasetRow FromIds(int[] ids, int outputLen) => new(null, ids, ids.Length, outputLen);
}
