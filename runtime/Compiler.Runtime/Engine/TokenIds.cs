namespace Compiler.Runtime.Engine;

/// <summary>Checks on token ids given by users (the HTTP API's prompts and input_ids, the CLI's --input-ids).</summary>
internal static class TokenIds
{
    /// <summary>The position of the first id that names no row of a vocabulary of <paramref name="vocab"/> tokens, or -1.</summary>
    public static int FirstOutsideVocabulary(ReadOnlySpan<int> ids, int vocab)
    {
        for (var i = 0; i < ids.Length; i++)
            if ((uint)ids[i] >= (uint)vocab) return i;
        return -1;
    }
}
