namespace Compiler.Host.Bench;

/// <summary>SGLang's get_dataset: picks the generator by --dataset-name.</summary>
internal static class DatasetLoader
{
    public static readonly string[] Names = ["sharegpt", "random", "random-ids", "generated-shared-prefix"];

    /// <summary>Whether prompts go out as token ids: asked for with --tokenize-prompt, or random-ids without a
    /// tokenizer to decode them.</summary>
    public static bool SendsIds(BenchOptions options, IBenchTokenizer? tokenizer) =>
        options.DatasetName is "random" or "random-ids" && (options.TokenizePrompt || tokenizer is null);

    public static List<DatasetRow> Load(BenchOptions options, IBenchTokenizer? tokenizer, Random random, TextWriter log)
    {
        if (options.NumPrompts <= 0 && options.DatasetName != "generated-shared-prefix")
            throw new ArgumentException($"--num-prompts {options.NumPrompts}: give 1 or more");
        if (options.TokenizePrompt && options.DatasetName is not ("random" or "random-ids"))
            throw new ArgumentException($"--tokenize-prompt works with the random and random-ids datasets, not {options.DatasetName}");
        return options.DatasetName switch
        {
            "sharegpt" => ShareGptDataset.Sample(options.DatasetPath, options.NumPrompts,
                tokenizer ?? throw new ArgumentException("--dataset-name sharegpt counts prompt tokens, which needs --tokenizer " +
                    "(a directory with tokenizer.json)"),
                options.SharegptOutputLen, options.SharegptContextLen, random),
            "random" or "random-ids" => RandomDataset.Sample(options, tokenizer, !SendsIds(options, tokenizer), random, log),
            "generated-shared-prefix" => SharedPrefixDataset.Sample(options, tokenizer, random, log).Rows,
            _ => throw new ArgumentException($"--dataset-name '{options.DatasetName}' is not one of: {string.Join(", ", Names)}"),
        };
    }
}
