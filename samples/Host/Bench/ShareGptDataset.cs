using System.Text.Json;
using System.Text.Json.Serialization;

namespace Compiler.Host.Bench;

/// <summary>The ShareGPT dataset (a JSON array of {"conversations": [{"from", "value"}, ...]}), read from a local
/// file and filtered as SGLang's sample_sharegpt_requests: conversations of two turns or more, the first turn the
/// prompt and the second the completion whose length is the output length, shuffled, prompts or outputs under two
/// tokens dropped, and pairs longer than --sharegpt-context-len dropped.</summary>
internal static class ShareGptDataset
{
    public static List<DatasetRow> Sample(
        string? path, int numRequests, IBenchTokenizer tokenizer, int? fixedOutputLen, int? contextLen, Random random)
    {
        if (fixedOutputLen is < 4)
            throw new ArgumentException($"--sharegpt-output-len {fixedOutputLen} is too small: give 4 or more");
        var pairs = LoadPairs(path);
        Shuffle(pairs, random);

        var rows = new List<DatasetRow>(Math.Min(numRequests, pairs.Count));
        foreach (var (prompt, completion) in pairs)
        {
            if (rows.Count == numRequests) break;
            int promptLen = tokenizer.Encode(prompt, addSpecialTokens: true).Length;
            int outputLen = fixedOutputLen ?? tokenizer.Encode(completion, addSpecialTokens: false).Length;
            if (promptLen < 2 || outputLen < 2) continue;
            if (contextLen is > 0 && promptLen + outputLen > contextLen) continue;
            rows.Add(DatasetRow.FromText(prompt, promptLen, outputLen));
        }
        return rows;
    }

    /// <summary>The (first turn, second turn) of every conversation with two turns or more, in file order.</summary>
    public static List<(string Prompt, string Completion)> LoadPairs(string? path)
    {
        if (string.IsNullOrEmpty(path))
            throw new ArgumentException(
                "this dataset reads ShareGPT from --dataset-path (e.g. ShareGPT_V3_unfiltered_cleaned_split.json); " +
                "nothing is downloaded");
        if (!File.Exists(path))
            throw new FileNotFoundException($"--dataset-path: '{path}' does not exist");

        var pairs = new List<(string, string)>();
        using var stream = File.OpenRead(path);
        try
        {
            // Element by element: the full ShareGPT file is ~650 MB and need not sit in memory as one document.
            foreach (var entry in JsonSerializer.DeserializeAsyncEnumerable<Entry>(stream).ToBlockingEnumerable())
            {
                var turns = entry?.Conversations ?? entry?.Conversation;
                if (turns is null || turns.Count < 2) continue;
                pairs.Add((turns[0].Value ?? "", turns[1].Value ?? ""));
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException(
                $"--dataset-path '{path}' is not a ShareGPT JSON array of {{\"conversations\": [{{\"from\", \"value\"}}]}} ({e.Message})", e);
        }
        return pairs;
    }

    public static void Shuffle<T>(IList<T> items, Random random)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private sealed class Entry
    {
        [JsonPropertyName("conversations")] public List<Turn>? Conversations { get; set; }
        [JsonPropertyName("conversation")] public List<Turn>? Conversation { get; set; }
    }

    private sealed class Turn
    {
        [JsonPropertyName("value")] public string? Value { get; set; }
    }
}
