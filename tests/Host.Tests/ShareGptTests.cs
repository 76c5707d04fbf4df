using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>ShareGPT sampling on a small committed fixture: the same filters as SGLang's sample_sharegpt_requests.
/// With one BOS token, the fixture's prompt lengths are 5, 4, 7, 1 (empty), 4 and 13; output lengths 3, 5, 2, 3,
/// 1 and 8.</summary>
public sealed class ShareGptTests
{
    private static readonly string Fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "sharegpt_small.json");
    private static readonly WordTokenizer Tokenizer = new(vocabSize: 1000, specialTokens: 1);

    [Fact]
    public void Short_and_single_turn_conversations_are_dropped()
    {
        var rows = ShareGptDataset.Sample(Fixture, 100, Tokenizer, null, null, new Random(1));
        Assert.Equal(
            ["w1 w2 w3 w4", "w10 w11 w12", "w20 w21 w22 w23 w24 w25", "w60 w61 w62 w63 w64 w65 w66 w67 w68 w69 w70 w71"],
            rows.Select(r => r.Text!).Order().ToArray());
        var byPrompt = rows.ToDictionary(r => r.Text!);
        Assert.Equal((5, 3), (byPrompt["w1 w2 w3 w4"].PromptLen, byPrompt["w1 w2 w3 w4"].OutputLen));
        Assert.Equal((4, 5), (byPrompt["w10 w11 w12"].PromptLen, byPrompt["w10 w11 w12"].OutputLen));
        Assert.Equal((7, 2), (byPrompt["w20 w21 w22 w23 w24 w25"].PromptLen, byPrompt["w20 w21 w22 w23 w24 w25"].OutputLen));
    }

    [Fact]
    public void Context_length_drops_pairs_that_do_not_fit()
    {
        // keep-1: 5 + 3 = 8, keep-2: 4 + 5 = 9, keep-3: 7 + 2 = 9, long: 13 + 8 = 21.
        var rows = ShareGptDataset.Sample(Fixture, 100, Tokenizer, null, 9, new Random(1));
        Assert.Equal(3, rows.Count);
        Assert.DoesNotContain(rows, r => r.Text!.StartsWith("w60", StringComparison.Ordinal));
        Assert.Equal(["w1 w2 w3 w4"], ShareGptDataset.Sample(Fixture, 100, Tokenizer, null, 8, new Random(1)).Select(r => r.Text!));
    }

    [Fact]
    public void Fixed_output_length_overrides_and_keeps_short_completions()
    {
        var rows = ShareGptDataset.Sample(Fixture, 100, Tokenizer, 16, null, new Random(1));
        Assert.All(rows, r => Assert.Equal(16, r.OutputLen));
        // With the completion's length overridden, the pair whose completion had one token is kept.
        Assert.Contains(rows, r => r.Text == "w50 w51 w52");
        Assert.Equal(5, rows.Count);
        Assert.Throws<ArgumentException>(() => ShareGptDataset.Sample(Fixture, 100, Tokenizer, 3, null, new Random(1)));
    }

    [Fact]
    public void The_sample_is_a_seeded_shuffle_cut_to_num_prompts()
    {
        var a = ShareGptDataset.Sample(Fixture, 2, Tokenizer, null, null, new Random(4)).Select(r => r.Text).ToArray();
        var b = ShareGptDataset.Sample(Fixture, 2, Tokenizer, null, null, new Random(4)).Select(r => r.Text).ToArray();
        Assert.Equal(2, a.Length);
        Assert.Equal(a, b);
        var orders = Enumerable.Range(0, 20)
            .Select(seed => string.Join('|', ShareGptDataset.Sample(Fixture, 4, Tokenizer, null, null, new Random(seed)).Select(r => r.Text)))
            .Distinct().Count();
        Assert.True(orders > 1, "different seeds should give different orders");
    }

    [Fact]
    public void Missing_or_malformed_files_are_reported_with_the_path()
    {
        var missing = Assert.Throws<FileNotFoundException>(() => ShareGptDataset.LoadPairs("/nonexistent/sharegpt.json"));
        Assert.Contains("/nonexistent/sharegpt.json", missing.Message);
        Assert.Contains("--dataset-path", Assert.Throws<ArgumentException>(() => ShareGptDataset.LoadPairs(null)).Message);
        var bad = Path.Combine(Directory.CreateTempSubdirectory("sharegpt-").FullName, "bad.json");
        File.WriteAllText(bad, """{"not": "an array"}""");
        Assert.Contains(bad, Assert.Throws<InvalidDataException>(() => ShareGptDataset.LoadPairs(bad)).Message);
    }

    [Fact]
    public void Random_dataset_repeats_ShareGPT_prompt_tokens_to_the_drawn_length()
    {
        var options = new BenchOptions
        {
            DatasetName = "random", DatasetPath = Fixture, NumPrompts = 30, RandomInputLen = 20, RandomOutputLen = 4, RandomRangeRatio = 0.5,
        };
        var rows = DatasetLoader.Load(options, Tokenizer, new Random(3), new StringWriter());
        // Words of first turns only (second turns and dropped-empty prompts never feed the random dataset).
        var firstTurns = ShareGptDataset.LoadPairs(Fixture).SelectMany(p => p.Prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToHashSet();
        Assert.Equal(30, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.InRange(r.PromptLen, 10, 20);
            Assert.Equal(r.PromptLen, Tokenizer.Encode(r.Text!, addSpecialTokens: true).Length);
            Assert.All(r.Text!.Split(' '), w => Assert.Contains(w, firstTurns));
        });
    }
}
