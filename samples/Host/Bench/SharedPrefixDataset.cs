namespace Compiler.Host.Bench;

/// <summary>SGLang's generated-shared-prefix dataset: --gsp-num-groups system prompts of random tokens, each followed
/// by --gsp-prompts-per-group different random questions ("{system}\n\n{question}"), shuffled. It measures how well the
/// prefix cache serves shared system prompts.</summary>
internal static class SharedPrefixDataset
{
    public sealed record Result(List<DatasetRow> Rows, string[] SystemPrompts);

    public static Result Sample(BenchOptions options, IBenchTokenizer? tokenizer, Random random, TextWriter log)
    {
        if (tokenizer is null)
            throw new ArgumentException("--dataset-name generated-shared-prefix makes text prompts, which needs --tokenizer " +
                "(a directory with tokenizer.json)");
        int groups = options.GspNumGroups, perGroup = options.GspPromptsPerGroup;
        if (groups <= 0 || perGroup <= 0)
            throw new ArgumentException($"--gsp-num-groups ({groups}) and --gsp-prompts-per-group ({perGroup}) must be positive");
        double ratio = options.GspRangeRatio;
        int[] systemLens = RandomLengths.Sample(options.GspSystemPromptLen, ratio, groups, random);
        int[] questionLens = RandomLengths.Sample(options.GspQuestionLen, ratio, groups * perGroup, random);
        int[] outputLens = RandomLengths.Sample(options.GspOutputLen, ratio, groups * perGroup, random);

        var systems = new string[groups];
        for (int g = 0; g < groups; g++) systems[g] = Generate(tokenizer, systemLens[g], random);

        var rows = new List<DatasetRow>(groups * perGroup);
        long inputTokens = 0, outputTokens = 0;
        for (int g = 0; g < groups; g++)
        {
            for (int p = 0; p < perGroup; p++)
            {
                int k = g * perGroup + p;
                string prompt = $"{systems[g]}\n\n{Generate(tokenizer, questionLens[k], random)}";
                int promptLen = tokenizer.Encode(prompt, addSpecialTokens: true).Length;
                rows.Add(DatasetRow.FromText(prompt, promptLen, outputLens[k]));
                inputTokens += promptLen;
                outputTokens += outputLens[k];
            }
        }
        ShareGptDataset.Shuffle(rows, random);

        log.WriteLine("Generated shared prefix dataset statistics:");
        log.WriteLine($"Number of groups: {groups}");
        log.WriteLine($"Prompts per group: {perGroup}");
        log.WriteLine($"Total prompts: {rows.Count}");
        log.WriteLine($"Total input tokens: {inputTokens}");
        log.WriteLine($"Total output tokens: {outputTokens}");
        return new Result(rows, systems);
    }

    /// <summary>SGLang's gen_prompt (random vocabulary tokens, decoded), fitted to exactly <paramref name="tokens"/>.</summary>
    private static string Generate(IBenchTokenizer tokenizer, int tokens, Random random)
    {
        var ids = new int[tokens];
        for (int i = 0; i < tokens; i++) ids[i] = PromptText.RandomToken(tokenizer, random);
        return PromptText.Fit(tokenizer, ids, tokens, () => PromptText.RandomToken(tokenizer, random)).Text;
    }
}
