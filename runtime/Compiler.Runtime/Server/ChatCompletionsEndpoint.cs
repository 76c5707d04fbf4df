using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Compiler.Runtime.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Compiler.Runtime.Server;

/// <summary>
/// POST /v1/chat/completions: messages rendered with the checkpoint's chat template (add_generation_prompt), then
/// generated like a completion. Streaming sends the role delta first, content deltas, a finish_reason chunk per
/// choice, a usage chunk when stream_options.include_usage, then [DONE].
/// </summary>
internal static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(OpenAIServer server, HttpContext ctx)
    {
        using var doc = await OpenAIServer.ReadJsonAsync(ctx);
        var root = doc.RootElement;
        server.CheckModel(root);
        var options = SamplingParser.ParseOpenAI(root, SamplingParser.Api.Chat, server.Options.SamplingDefaults);
        var tokenizer = server.RequireTokenizer("/v1/chat/completions");
        var template = server.ChatTemplate ?? throw ApiException.BadRequest(
            $"/v1/chat/completions needs the model's chat template, but {server.Options.ChatTemplateMissingReason ?? "none was loaded"}. Use /v1/completions with a formatted prompt instead.");
        var messages = ReadMessages(root);
        string prompt;
        try
        {
            var extra = JsonFields.Get(root, "chat_template_kwargs") is { ValueKind: JsonValueKind.Object } kw ? JsonNode.Parse(kw.GetRawText())!.AsObject() : null;
            prompt = template.Render(messages, tools: null, addGenerationPrompt: true, extra);
        }
        catch (Exception e) when (e is not ApiException)
        {
            throw ApiException.BadRequest($"The chat template could not render these messages: {e.Message}", "messages");
        }
        int[] ids = tokenizer.Encode(prompt, addSpecialTokens: false);
        ChoiceRunner.CheckLength(server, ids.Length, options.RequestedMaxTokens, "messages");

        string id = server.NewId("chatcmpl");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(); // this response's creation time, streamed or not
        string model = server.Options.ServedModelName;
        var decoders = ChoiceRunner.Submit(server, id, ids, options);
        var ct = ctx.RequestAborted;

        if (!options.Stream)
        {
            await ChoiceRunner.RunAsync(decoders, null, ct);
            var choices = new ChatChoice[decoders.Count];
            foreach (var d in decoders)
                choices[d.Index] = new ChatChoice(d.Index, new ChatMessage("assistant", d.Text.ToString()),
                    d.Logprobs != null ? Logprobs(server, d, 0, d.OutputIds.Count) : null, ChoiceDecoder.OpenAIFinishReason(d.Finish), d.MatchedStop());
            var response = new ChatCompletionResponse(id, "chat.completion", created, model, choices, ChoiceRunner.Usage(decoders));
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(response, ServerJsonContext.Relaxed.ChatCompletionResponse), ct);
            return;
        }

        SseWriter.Start(ctx.Response);
        var sent = new int[decoders.Count];
        foreach (var d in decoders)
            await Chunk(new ChatStreamChoice(d.Index, new ChatDelta("assistant", ""), null, null, null));
        await ChoiceRunner.RunAsync(decoders, async (d, delta) =>
        {
            if (delta.Length > 0)
            {
                var lp = d.Logprobs != null ? Logprobs(server, d, sent[d.Index], d.OutputIds.Count) : null;
                sent[d.Index] = d.OutputIds.Count;
                await Chunk(new ChatStreamChoice(d.Index, new ChatDelta(null, delta), lp, null, null));
            }
            if (d.Done)
            {
                var lp = d.Logprobs != null && sent[d.Index] < d.OutputIds.Count ? Logprobs(server, d, sent[d.Index], d.OutputIds.Count) : null;
                sent[d.Index] = d.OutputIds.Count;
                await Chunk(new ChatStreamChoice(d.Index, new ChatDelta(null, null), lp, ChoiceDecoder.OpenAIFinishReason(d.Finish), d.MatchedStop()));
            }
        }, ct);
        if (options.IncludeUsage)
            await SseWriter.WriteAsync(ctx.Response, Serialize(new ChatStreamChunk(id, "chat.completion.chunk", created, model, [], ChoiceRunner.Usage(decoders))), ct);
        await SseWriter.WriteDoneAsync(ctx.Response, ct);

        Task Chunk(ChatStreamChoice choice) =>
            SseWriter.WriteAsync(ctx.Response, Serialize(new ChatStreamChunk(id, "chat.completion.chunk", created, model, [choice], null)), ct);
    }

    private static byte[] Serialize(ChatStreamChunk c) => JsonSerializer.SerializeToUtf8Bytes(c, ServerJsonContext.Relaxed.ChatStreamChunk);

    /// <summary>
    /// "messages": a non-empty list of {role, content}; content is a string or a list of text parts (joined, as
    /// SGLang does for text-only templates). Other fields (name, tool_calls, ...) pass through to the template.
    /// </summary>
    internal static JsonArray ReadMessages(JsonElement root)
    {
        if (JsonFields.Get(root, "messages") is not { } messages) throw ApiException.BadRequest("'messages' is required.", "messages");
        if (messages.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest($"'messages' must be a list, got {JsonFields.Describe(messages)}.", "messages");
        if (messages.GetArrayLength() == 0) throw ApiException.BadRequest("'messages' must contain at least one message.", "messages");
        var result = new JsonArray();
        int i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            string where = $"messages[{i++}]";
            if (m.ValueKind != JsonValueKind.Object) throw ApiException.BadRequest($"'{where}' must be an object, got {JsonFields.Describe(m)}.", where);
            if (JsonFields.String(m, "role") is not { } role) throw ApiException.BadRequest($"'{where}.role' is required.", $"{where}.role");
            if (role is not ("system" or "user" or "assistant" or "tool" or "developer"))
                throw ApiException.BadRequest($"'{where}.role' must be one of system, user, assistant, tool, developer; got \"{role}\".", $"{where}.role");
            var node = JsonNode.Parse(m.GetRawText())!.AsObject();
            if (JsonFields.Get(m, "content") is { } content)
            {
                if (content.ValueKind == JsonValueKind.Array) node["content"] = JoinTextParts(content, where);
                else if (content.ValueKind != JsonValueKind.String)
                    throw ApiException.BadRequest($"'{where}.content' must be a string or a list of content parts, got {JsonFields.Describe(content)}.", $"{where}.content");
            }
            else if (role != "assistant") throw ApiException.BadRequest($"'{where}.content' is required for role \"{role}\".", $"{where}.content");
            else node["content"] = "";
            result.Add(node);
        }
        return result;
    }

    private static string JoinTextParts(JsonElement parts, string where)
    {
        var sb = new StringBuilder();
        foreach (var part in parts.EnumerateArray())
        {
            if (part.ValueKind != JsonValueKind.Object || JsonFields.String(part, "type") != "text" || JsonFields.String(part, "text") is not { } text)
                throw ApiException.BadRequest($"'{where}.content' parts must be {{\"type\": \"text\", \"text\": ...}}; this model takes text only.", $"{where}.content");
            if (sb.Length > 0) sb.Append('\n');
            sb.Append(text);
        }
        return sb.ToString();
    }

    private static ChatLogprobs Logprobs(OpenAIServer server, ChoiceDecoder d, int from, int to)
    {
        var tokenizer = server.Tokenizer!;
        var content = new List<ChatTokenLogprob>(to - from);
        for (int i = from; i < to; i++)
        {
            int token = d.OutputIds[i];
            var tops = new List<ChatTopLogprob>();
            if (d.TopLogprobs?[i] is { } top)
                foreach (var t in top)
                    tops.Add(new ChatTopLogprob(TokenTexts.Text(tokenizer, t.TokenId), TokenTexts.Finite(t.Logprob), TokenTexts.ByteValues(tokenizer, t.TokenId)));
            content.Add(new ChatTokenLogprob(TokenTexts.Text(tokenizer, token), TokenTexts.Finite(d.Logprobs![i]), TokenTexts.ByteValues(tokenizer, token), tops));
        }
        return new ChatLogprobs(content);
    }
}
