using Compiler.Host.Bench;

namespace Host.Tests;

/// <summary>The dataset generators produce the lengths they are asked for.</summary>
public sealed class DatasetTests
{
    private static readonly StringWriter Log = new();

    [Fact]
    public void Random_lengths_are_uniform_over_the_ratio_range()
    {
        var lens = RandomLengths.Sample(100, 0.5, 5000, new Random(1));
        Assert.All(lens, l => Assert.InRange(l, 50, 100));
        Assert.Equal(50, lens.Min());
        Assert.Equal(100, lens.Max());
        Assert.InRange(lens.Average(), 73, 77); // uniform over 50..100 has mean 75
        Assert.All(RandomLengths.Sample(100, 1.0, 50, new Random(1)), l => Assert.Equal(100, l));
        // SGLang's lower bound is max(floor(len * ratio), 1): ratio 0 never draws an empty prompt.
        Assert.All(RandomLengths.Sample(3, 0.0, 200, new Random(1)), l => Assert.InRange(l, 1, 3));
    }

    [Fact]
    public void Random_text_prompts_encode_to_exactly_their_prompt_length()
    {
        var tokenizer = new WordTokenizer(vocabSize: 500, specialTokens: 1);
        var options = new BenchOptions
        {
            DatasetName = "random", NumPrompts = 200, RandomInputLen = 64, RandomOutputLen = 32, RandomRangeRatio = 0.25,
        };
        var rows = DatasetLoader.Load(options, tokenizer, new Random(5), Log);

        Assert.Equal(200, rows.Count);
        Assert.All(rows, r =>
        {
            Assert.NotNull(r.Text);
            Assert.InRange(r.PromptLen, 16, 64);
            Assert.InRange(r.OutputLen, 8, 32);
            // The server adds BOS: the text itself is one token shorter than the prompt length.
            Assert.Equal(r.PromptLen, tokenizer.Encode(r.Text!, addSpecialTokens: true).Length);
            Assert.DoesNotContain(0, tokenizer.Encode(r.Text!, addSpecialTokens: false));
        });
        Assert.True(rows.Select(r => r.PromptLen).Distinct().Count() > 20, "lengths should vary over the range");
    }

    [Fact]
    public void Random_ids_without_a_tokenizer_are_sent_as_ids_of_the_drawn_length()
    {
        var options = new BenchOptions
        {
            DatasetName = "random-ids", NumPrompts = 50, RandomInputLen = 40, RandomOutputLen = 8, RandomRangeRatio = 0.5, VocabSize = 1000,
        };
        Assert.True(DatasetLoader.SendsIds(options, null));
        var rows = DatasetLoader.Load(options, null, new Random(2), Log);

        Assert.All(rows, r =>
        {
            Assert.Null(r.Text);
            Assert.Equal(r.PromptLen, r.InputIds!.Length);
            Assert.InRange(r.PromptLen, 20, 40);
            Assert.All(r.InputIds!, id => Assert.InRange(id, 0, 999));
        });
    }

    [Fact]
    public void Datasets_that_need_a_tokenizer_say_so()
    {
        foreach (var name in new[] { "random", "generated-shared-prefix", "sharegpt" })
        {
            var e = Assert.Throws<ArgumentException>(() =>
                DatasetLoader.Load(new BenchOptions { DatasetName = name, NumPrompts = 2, DatasetPath = "x.json" }, null, new Random(1), Log));
            Assert.Contains("--tokenizer", e.Message);
        }
        Assert.Throws<ArgumentException>(() => DatasetLoader.Load(new BenchOptions { DatasetName = "nope" }, null, new Random(1), Log));
    }

    [Fact]
    public void Shared_prefix_groups_share_exactly_their_system_prompt()
    {
        var tokenizer = new WordTokenizer(vocabSize: 300, specialTokens: 1);
        var options = new BenchOptions
        {
            DatasetName = "generated-shared-prefix", GspNumGroups = 4, GspPromptsPerGroup = 5, GspSystemPromptLen = 32,
            GspQuestionLen = 8, GspOutputLen = 16,
        };
        var (rows, systems) = SharedPrefixDataset.Sample(options, tokenizer, new Random(9), Log);

        Assert.Equal(20, rows.Count);
        Assert.Equal(4, systems.Distinct().Count());
        Assert.All(systems, s => Assert.Equal(32, tokenizer.Encode(s, addSpecialTokens: false).Length));
        var groupOf = rows.Select(r => Enumerable.Range(0, 4).Single(g => r.Text!.StartsWith(systems[g] + "\n\n", StringComparison.Ordinal))).ToArray();
        Assert.All(Enumerable.Range(0, 4), g => Assert.Equal(5, groupOf.Count(x => x == g)));
        for (int i = 0; i < rows.Count; i++)
        {
            var question = rows[i].Text![(systems[groupOf[i]].Length + 2)..];
            Assert.Equal(8, tokenizer.Encode(question, addSpecialTokens: false).Length);
            Assert.Equal(1 + 32 + 8, rows[i].PromptLen);
            Assert.Equal(16, rows[i].OutputLen);
        }
        // Different questions within a group, and the order shuffled rather than group by group.
        Assert.Equal(20, rows.Select(r => r.Text).Distinct().Count());
        Assert.NotEqual(groupOf.Order().ToArray(), groupOf);
    }

    [Fact]
    public void Prompt_fitting_trims_and_tops_up_to_the_target()
    {
        var tokenizer = new MergingTokenizer();
        int next = 0;
        // Decoding [1, 1, 1, 1] and encoding again merges pairs: the text must be topped up to reach 6 tokens.
        var (text, tokens) = PromptText.Fit(tokenizer, [1, 1, 1, 1], 6, () => 2 + next++ % 3);
        Assert.Equal(6, tokens);
        Assert.Equal(6, tokenizer.Encode(text, false).Length);
    }

    /// <summary>Letters a..e are tokens 1..5 and "aa" is token 6, so decode/encode is not a round trip.</summary>
    private sealed class MergingTokenizer : IBenchTokenizer
    {
        public int VocabSize => 7;
        public int NumSpecialTokensToAdd => 0;
        public bool IsSpecial(int id) => id == 0;

        public string Decode(ReadOnlySpan<int> ids)
        {
            var chars = new System.Text.StringBuilder();
            foreach (int id in ids) chars.Append(id == 6 ? "aa" : ((char)('a' + id - 1)).ToString());
            return chars.ToString();
        }

        public int[] Encode(string text, bool addSpecialTokens)
        {
            var ids = new List<int>();
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] == 'a' && i + 1 < text.Length && text[i + 1] == 'a') { ids.Add(6); i++; }
                else ids.Add(text[i] - 'a' + 1);
            }
            return ids.ToArray();
        }
    }
}
