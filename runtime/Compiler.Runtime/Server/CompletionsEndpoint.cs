using System.Text.Json;
using Compiler.Runtime.Server.Protocol;
using Microsoft.AspNetCore.Http;

namespace Compiler.Runtime.Server;

/// <summary>POST /v1/completions: a prompt (text or token ids) in, n completions out, streamed or not.</summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(OpenAIServer server, HttpContext ctx)
    {
        using var doc = await OpenAIServer.ReadJsonAsync(ctx);
        var root = doc.RootElement;
        server.CheckModel(root);
        var options = SamplingParser.ParseOpenAI(root, SamplingParser.Api.Completions);
        var tokenizer = server.RequireTokenizer("/v1/completions");
        int[] ids = ReadPrompt(server, root);
        ChoiceRunner.CheckTokenIds(ids, server.Host.VocabSize, "prompt");
        ChoiceRunner.CheckLength(server, ids.Length, options.RequestedMaxTokens, "prompt");
        if (options.Echo && options.Sampling.Logprobs)
            throw ApiException.BadRequest("'echo' together with 'logprobs' needs log-probabilities of the prompt tokens, which this engine does not compute yet; drop one of them.", "echo");

        string id = server.NewId("cmpl");
        string model = server.Options.ServedModelName;
        string echo = options.Echo ? tokenizer.Decode(ids, options.SkipSpecialTokens) : "";
        var decoders = ChoiceRunner.Submit(server, id, ids, options);
        var ct = ctx.RequestAborted;

        if (!options.Stream)
        {
            var offsets = new int[decoders.Count];
            await ChoiceRunner.RunAsync(decoders, null, ct);
            var choices = new CompletionChoice[decoders.Count];
            foreach (var d in decoders)
            {
                offsets[d.Index] = echo.Length;
                var logprobs = d.Logprobs != null ? Logprobs(server, d, 0, d.OutputIds.Count, ref offsets[d.Index]) : null;
                choices[d.Index] = new CompletionChoice(d.Index, echo + d.Text, logprobs, ChoiceDecoder.OpenAIFinishReason(d.Finish), d.MatchedStop());
            }
            var response = new CompletionResponse(id, "text_completion", server.Created, model, choices, ChoiceRunner.Usage(decoders));
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(response, ServerJsonContext.Relaxed.CompletionResponse), ct);
            return;
        }

        SseWriter.Start(ctx.Response);
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var sent = new int[decoders.Count];      // tokens whose logprobs went out
        var textOffset = new int[decoders.Count];
        if (echo.Length > 0)
            foreach (var d in decoders)
            {
                textOffset[d.Index] = echo.Length;
                await Chunk(new CompletionChoice(d.Index, echo, null, null, null));
            }
        await ChoiceRunner.RunAsync(decoders, async (d, delta) =>
        {
            if (delta.Length > 0)
            {
                var lp = d.Logprobs != null ? Logprobs(server, d, sent[d.Index], d.OutputIds.Count, ref textOffset[d.Index]) : null;
                sent[d.Index] = d.OutputIds.Count;
                await Chunk(new CompletionChoice(d.Index, delta, lp, null, null));
            }
            if (d.Done)
            {
                var lp = d.Logprobs != null && sent[d.Index] < d.OutputIds.Count ? Logprobs(server, d, sent[d.Index], d.OutputIds.Count, ref textOffset[d.Index]) : null;
                sent[d.Index] = d.OutputIds.Count;
                await Chunk(new CompletionChoice(d.Index, "", lp, ChoiceDecoder.OpenAIFinishReason(d.Finish), d.MatchedStop()));
            }
        }, ct);
        if (options.IncludeUsage)
            await SseWriter.WriteAsync(ctx.Response, Serialize(new CompletionResponse(id, "text_completion", created, model, [], ChoiceRunner.Usage(decoders))), ct);
        await SseWriter.WriteDoneAsync(ctx.Response, ct);

        Task Chunk(CompletionChoice choice) =>
            SseWriter.WriteAsync(ctx.Response, Serialize(new CompletionResponse(id, "text_completion", created, model, [choice], null)), ct);
    }

    private static byte[] Serialize(CompletionResponse r) => JsonSerializer.SerializeToUtf8Bytes(r, ServerJsonContext.Relaxed.CompletionResponse);

    /// <summary>"prompt": a string, a list of token ids, or a one-element list of either (batches are not supported).</summary>
    internal static int[] ReadPrompt(OpenAIServer server, JsonElement root)
    {
        if (JsonFields.Get(root, "prompt") is not { } prompt) throw ApiException.BadRequest("'prompt' is required.", "prompt");
        if (prompt.ValueKind == JsonValueKind.Array && prompt.GetArrayLength() == 1 && prompt[0].ValueKind is JsonValueKind.String or JsonValueKind.Array)
            prompt = prompt[0];
        switch (prompt.ValueKind)
        {
            case JsonValueKind.String:
                string text = prompt.GetString()!;
                if (text.Length == 0) throw ApiException.BadRequest("The prompt is empty: 'prompt' must contain at least one token.", "prompt");
                return server.RequireTokenizer("A text prompt").Encode(text);
            case JsonValueKind.Array:
                var ids = new int[prompt.GetArrayLength()];
                int i = 0;
                foreach (var e in prompt.EnumerateArray())
                {
                    if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out ids[i++]))
                        throw ApiException.BadRequest(e.ValueKind is JsonValueKind.String or JsonValueKind.Array
                            ? "Batched prompts (a list of several prompts) are not supported; send one prompt per request."
                            : $"'prompt' must be a string or a list of token ids; found {JsonFields.Describe(e)} in the list.", "prompt");
                }
                return ids;
            default:
                throw ApiException.BadRequest($"'prompt' must be a string or a list of token ids, got {JsonFields.Describe(prompt)}.", "prompt");
        }
    }

    /// <summary>Legacy logprobs of output tokens [from, to); text offsets continue from <paramref name="offset"/>.</summary>
    private static CompletionLogprobs Logprobs(OpenAIServer server, ChoiceDecoder d, int from, int to, ref int offset)
    {
        var tokenizer = server.Tokenizer!;
        var tokens = new List<string>(to - from);
        var values = new List<float?>(to - from);
        var offsets = new List<int>(to - from);
        var tops = d.TopLogprobs != null ? new List<Dictionary<string, float>?>(to - from) : null;
        for (int i = from; i < to; i++)
        {
            string text = TokenTexts.Text(tokenizer, d.OutputIds[i]);
            tokens.Add(text);
            values.Add(TokenTexts.Finite(d.Logprobs![i]));
            offsets.Add(offset);
            offset += text.Length;
            if (tops != null)
            {
                var dict = new Dictionary<string, float>(StringComparer.Ordinal);
                if (d.TopLogprobs![i] is { } top)
                    foreach (var t in top) dict.TryAdd(TokenTexts.Text(tokenizer, t.TokenId), TokenTexts.Finite(t.Logprob));
                tops.Add(dict);
            }
        }
        return new CompletionLogprobs(tokens, values, tops, offsets);
    }
}
