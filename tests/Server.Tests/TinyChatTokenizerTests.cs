using Compiler.Runtime.Text;
using Compiler.Runtime.Text.Templates;

namespace Server.Tests;

/// <summary>The generated tiny-chat tokenizer (Fixtures/make_tiny_tokenizer.py) is what the runtime expects.</summary>
public sealed class TinyChatTokenizerTests
{
    private static readonly Tokenizer Tokenizer = Tokenizer.FromDirectory(TestServer.ModelDir);

    [Fact]
    public void Has_exactly_the_checkpoint_vocab_with_ChatML_specials_on_top()
    {
        Assert.Equal(512, Tokenizer.VocabSize);
        Assert.Equal(509, Tokenizer.TokenToId("<|endoftext|>"));
        Assert.Equal(510, Tokenizer.TokenToId("<|im_start|>"));
        Assert.Equal(511, Tokenizer.TokenToId("<|im_end|>"));
        Assert.Equal(511, Tokenizer.EosTokenId);
        Assert.True(Tokenizer.IsSpecialToken(511));
        Assert.False(Tokenizer.IsSpecialToken(300));
    }

    [Theory]
    [InlineData("The quick brown fox jumps over the lazy dog.")]
    [InlineData("Hello, how are you today?\nI am fine, thank you!")]
    [InlineData("numbers 12345 and symbols #$%& and unicode: héllo wörld, 日本語, emoji 🦊")]
    [InlineData("  leading and trailing spaces   ")]
    public void Round_trips_text_and_learned_merges_shorten_English(string text)
    {
        int[] ids = Tokenizer.Encode(text);
        Assert.Equal(text, Tokenizer.Decode(ids));
        Assert.All(ids, id => Assert.InRange(id, 0, 508));
        if (text.StartsWith("The quick", StringComparison.Ordinal)) Assert.True(ids.Length < text.Length / 2, $"{ids.Length} tokens for {text.Length} chars: merges not used");
    }

    [Fact]
    public void Special_tokens_encode_as_one_id_and_the_template_is_ChatML()
    {
        Assert.Equal([510], Tokenizer.Encode("<|im_start|>"));
        var template = ChatTemplate.Load(TestServer.ModelDir);
        var messages = new System.Text.Json.Nodes.JsonArray(
            new System.Text.Json.Nodes.JsonObject { ["role"] = "user", ["content"] = "Hi" });
        string prompt = template.Render(messages, addGenerationPrompt: true);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", prompt);
        int[] ids = Tokenizer.Encode(prompt, addSpecialTokens: false);
        Assert.Equal(510, ids[0]);
        Assert.Equal(3, ids.Count(i => i >= 509));
    }
}
