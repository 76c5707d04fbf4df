namespace Compiler.Host.Bench;

/// <summary>SGLang's random and random-ids datasets. Lengths are drawn by <see cref="RandomLengths"/>; random takes
/// its tokens from ShareGPT prompts (repeated or cut to length) when --dataset-path is given, random-ids from
/// consecutive ids after a random offset. Text prompts are fitted to the drawn length (less the special tokens the
/// server adds); id prompts are sent as they are.</summary>
internal static class RandomDataset
{
    public static List<DatasetRow> Sample(
        BenchOptions options, IBenchTokenizer? tokenizer, bool returnText, Random random, TextWriter log)
    {
        int count = options.NumPrompts;
        int[] inputLens = RandomLengths.Sample(options.RandomInputLen, options.RandomRangeRatio, count, random);
        int[] outputLens = RandomLengths.Sample(options.RandomOutputLen, options.RandomRangeRatio, count, random);
        if (returnText && tokenizer is null)
            throw new ArgumentException($"--dataset-name {options.DatasetName} makes text prompts, which needs --tokenizer " +
                "(a directory with tokenizer.json); without one, use --dataset-name random-ids with --backend sglang or a completions backend");
        int special = returnText ? tokenizer!.NumSpecialTokensToAdd : 0;

        List<int[]>? sources = null;
        if (options.DatasetName == "random")
        {
            if (tokenizer is null)
                throw new ArgumentException("--dataset-name random takes its tokens from text and needs --tokenizer; " +
                    "random-ids needs none");
            if (!string.IsNullOrEmpty(options.DatasetPath))
                sources = ShareGptSources(options.DatasetPath, tokenizer, random);
            else
                log.WriteLine("random: no --dataset-path, so prompts are random ordinary tokens (SGLang would take ShareGPT text)");
        }

        int vocab = tokenizer?.VocabSize ?? options.VocabSize ?? 32000;
        var rows = new List<DatasetRow>(count);
        for (int i = 0; i < count; i++)
        {
            int target = Math.Max(0, inputLens[i] - special);
            var ids = new int[target];
            if (sources is not null)
            {
                var source = sources[i % sources.Count];
                for (int j = 0; j < target; j++) ids[j] = source[j % source.Length];
            }
            else if (options.DatasetName == "random")
            {
                for (int j = 0; j < target; j++) ids[j] = PromptText.RandomToken(tokenizer!, random);
            }
            else
            {
                int offset = random.Next(vocab);
                for (int j = 0; j < target; j++) ids[j] = (int)((offset + (long)i + j) % vocab);
            }

            if (returnText)
            {
                var (text, tokens) = PromptText.Fit(tokenizer!, ids, target, () => PromptText.RandomToken(tokenizer!, random));
                rows.Add(DatasetRow.FromText(text, tokens + special, outputLens[i]));
            }
            else
            {
                rows.Add(DatasetRow.FromIds(ids, outputLens[i]));
            }
        }
        log.WriteLine($"#Input tokens: {rows.Sum(r => (long)r.PromptLen)}");
        log.WriteLine($"#Output tokens: {rows.Sum(r => (long)r.OutputLen)}");
        return rows;
    }

    /// <summary>Shuffled ShareGPT prompts as token ids, empty ones dropped.</summary>
    private static List<int[]> ShareGptSources(string path, IBenchTokenizer tokenizer, Random random)
    {
        var pairs = ShareGptDataset.LoadPairs(path);
        ShareGptDataset.Shuffle(pairs, random);
        var sources = new List<int[]>();
        foreach (var (prompt, _) in pairs)
        {
            var ids = tokenizer.Encode(prompt, addSpecialTokens: false);
            if (ids.Length > 0) sources.Add(ids);
        }
        if (sources.Count == 0) throw new InvalidDataException($"--dataset-path '{path}' holds no non-empty prompt");
        return sources;
    }
}
