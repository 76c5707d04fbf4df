using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>The datasets over the real Qwen3 and Llama 3 tokenizers (fetched into .cache/tokenizers by the Text.Tests
/// build): text made from random tokens, whose decode / encode is far from a round trip, still encodes to exactly
/// the prompt length claimed, BOS included for Llama 3.</summary>
public sealed class RealTokenizerTests
{
    [Theory]
    [InlineData("qwen3")]
    [InlineData("llama3")]
    public void Random_and_shared_prefix_prompts_have_the_exact_token_counts(string name)
    {
        var tokenizer = Load(name);
        var log = new StringWriter();
        var random = DatasetLoader.Load(new BenchOptions
        {
            DatasetName = "random", NumPrompts = 24, RandomInputLen = 300, RandomOutputLen = 8, RandomRangeRatio = 0.1,
        }, tokenizer, new Random(11), log);
        Assert.All(random, r => Assert.Equal(r.PromptLen, tokenizer.Encode(r.Text!, addSpecialTokens: true).Length));

        var ids = DatasetLoader.Load(new BenchOptions
        {
            DatasetName = "random-ids", NumPrompts = 24, RandomInputLen = 200, RandomOutputLen = 8, RandomRangeRatio = 0.5,
        }, tokenizer, new Random(12), log);
        Assert.All(ids, r => Assert.Equal(r.PromptLen, tokenizer.Encode(r.Text!, addSpecialTokens: true).Length));

        var (rows, systems) = SharedPrefixDataset.Sample(new BenchOptions
        {
            GspNumGroups = 3, GspPromptsPerGroup = 4, GspSystemPromptLen = 256, GspQuestionLen = 32, GspOutputLen = 8,
        }, tokenizer, new Random(13), log);
        Assert.All(systems, s => Assert.Equal(256, tokenizer.Encode(s, addSpecialTokens: false).Length));
        Assert.All(rows, r => Assert.Single(systems, s => r.Text!.StartsWith(s + "\n\n", StringComparison.Ordinal)));
        Assert.All(rows, r => Assert.Equal(r.PromptLen, tokenizer.Encode(r.Text!, addSpecialTokens: true).Length));
    }

    private static RuntimeBenchTokenizer Load(string name)
    {
        string path = Path.Combine(RepoRoot.TryFind() ?? "", ".cache", "tokenizers", name);
        Assert.SkipUnless(File.Exists(Path.Combine(path, "tokenizer.json")),
            $"{path} is absent: build tests/Text.Tests once (it fetches the tokenizers) to run this test");
        return RuntimeBenchTokenizer.FromDirectory(path);
    }
}
