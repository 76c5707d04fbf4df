using System.ClientModel;
using System.Net;
using System.Text.Json;
using Compiler.Runtime.Text;
using OpenAI;
using OpenAI.Chat;

namespace Server.Tests;

/// <summary>/v1/chat/completions through the official OpenAI .NET client, and raw where the wire shape matters.</summary>
public sealed class ChatTests(ServerFixture fixture) : ServerTestBase(fixture)
{
    private ChatClient Client => new OpenAIClient(new ApiKeyCredential("unused"),
        new OpenAIClientOptions { Endpoint = new Uri(Server.BaseAddress, "/v1") }).GetChatClient(TestServer.ModelName);

    private static ChatCompletionOptions Greedy(int maxTokens) => new() { MaxOutputTokenCount = maxTokens, Temperature = 0 };

    [Fact]
    public async Task Chat_completion_is_the_greedy_continuation_of_the_templated_prompt()
    {
        ChatCompletion c = await Client.CompleteChatAsync([new SystemChatMessage("You are a helpful assistant."), new UserChatMessage("Hello!")], Greedy(10), Ct);
        Assert.Equal(ChatMessageRole.Assistant, c.Role);
        Assert.Equal(TestServer.ModelName, c.Model);

        // The same prompt rendered by hand and sent as token ids to /generate gives the same tokens.
        var tokenizer = Tokenizer.FromDirectory(TestServer.ModelDir);
        int[] ids = tokenizer.Encode("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n", addSpecialTokens: false);
        Assert.Equal(ids.Length, c.Usage.InputTokenCount);
        var (_, native) = await PostAsync("/generate",
            $$"""{"input_ids":{{JsonSerializer.Serialize(ids)}},"sampling_params":{"max_new_tokens":10,"temperature":0} }""");
        Assert.Equal(native.GetProperty("text").GetString(), c.Content.Count == 0 ? "" : c.Content[0].Text);
        Assert.Equal(native.GetProperty("meta_info").GetProperty("completion_tokens").GetInt32(), c.Usage.OutputTokenCount);
        Assert.Equal(native.GetProperty("meta_info").GetProperty("finish_reason").GetProperty("type").GetString() == "length"
            ? ChatFinishReason.Length : ChatFinishReason.Stop, c.FinishReason);
    }

    [Fact]
    public async Task Streaming_with_the_client_matches_the_plain_response_and_reports_usage()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 0 };
        ChatCompletion plain = await Client.CompleteChatAsync([new UserChatMessage("Tell me a story")], options, Ct);
        string text = "";
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        await foreach (var update in Client.CompleteChatStreamingAsync([new UserChatMessage("Tell me a story")], options, Ct))
        {
            foreach (var part in update.ContentUpdate) text += part.Text;
            usage ??= update.Usage;
            finish ??= update.FinishReason;
        }
        Assert.Equal(plain.Content.Count == 0 ? "" : plain.Content[0].Text, text);
        Assert.Equal(plain.FinishReason, finish);
        Assert.NotNull(usage);
        Assert.Equal(plain.Usage.OutputTokenCount, usage!.OutputTokenCount);
        Assert.Equal(plain.Usage.InputTokenCount, usage.InputTokenCount);
    }

    [Fact]
    public async Task Raw_stream_has_role_first_then_content_then_finish_then_usage_then_DONE()
    {
        var events = Sse.Json(await PostSseAsync("/v1/chat/completions",
            """{"model":"tiny-chat","messages":[{"role":"user","content":"Hi"}],"max_tokens":8,"temperature":0,"ignore_eos":true,"stream":true,"stream_options":{"include_usage":true}}"""));
        Assert.All(events, e => Assert.Equal("chat.completion.chunk", e.GetProperty("object").GetString()));
        Assert.Single(events.Select(e => e.GetProperty("id").GetString()).Distinct());
        var first = events[0].GetProperty("choices")[0];
        Assert.Equal("assistant", first.GetProperty("delta").GetProperty("role").GetString());
        var finish = events[^2].GetProperty("choices")[0];
        Assert.Equal("length", finish.GetProperty("finish_reason").GetString());
        Assert.Equal(0, events[^1].GetProperty("choices").GetArrayLength());
        Assert.Equal(8, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        foreach (var e in events[1..^2])
        {
            var c = e.GetProperty("choices")[0];
            Assert.False(c.GetProperty("delta").TryGetProperty("role", out _));
            Assert.Equal(JsonValueKind.Null, c.GetProperty("finish_reason").ValueKind);
        }
    }

    [Fact]
    public async Task Logprobs_and_top_logprobs_through_the_client()
    {
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 5, Temperature = 0, IncludeLogProbabilities = true, TopLogProbabilityCount = 2 };
        ChatCompletion c = await Client.CompleteChatAsync([new UserChatMessage("What is the weather like?")], options, Ct);
        Assert.Equal(c.Usage.OutputTokenCount, c.ContentTokenLogProbabilities.Count);
        foreach (var t in c.ContentTokenLogProbabilities)
        {
            Assert.Equal(2, t.TopLogProbabilities.Count);
            Assert.Equal(t.TopLogProbabilities[0].LogProbability, t.LogProbability, 4); // greedy picks the top one
            Assert.True(t.TopLogProbabilities[0].LogProbability >= t.TopLogProbabilities[1].LogProbability);
            Assert.NotNull(t.Utf8Bytes);
        }
    }

    [Fact]
    public async Task Seeded_sampling_through_the_client_is_deterministic()
    {
#pragma warning disable OPENAI001 // Seed is marked experimental in the client
        var options = new ChatCompletionOptions { MaxOutputTokenCount = 12, Temperature = 1.0f, Seed = 1234 };
#pragma warning restore OPENAI001
        ChatCompletion a = await Client.CompleteChatAsync([new UserChatMessage("Say something")], options, Ct);
        ChatCompletion b = await Client.CompleteChatAsync([new UserChatMessage("Say something")], options, Ct);
        Assert.Equal(a.Content.Select(p => p.Text), b.Content.Select(p => p.Text));
    }

    [Fact]
    public async Task Text_content_parts_are_accepted_and_n_gives_several_choices()
    {
        var (status, body) = await PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]}],"max_tokens":4,"n":2,"temperature":0.8,"seed":3}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetProperty("choices").GetArrayLength());
        Assert.Equal("chat.completion", body.GetProperty("object").GetString());
    }
}
