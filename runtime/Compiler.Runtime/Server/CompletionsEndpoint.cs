using System.Text.Json;
using Compiler.Runtime.Server.Protocol;
using Compiler.Runtime.Text;
using Microsoft.AspNetCore.Http;

namespace Compiler.Runtime.Server;

/// <summary>
/// POST /v1/completions: a prompt (text or token ids) or a list of prompts in, n completions of each out, streamed or
/// not; choice j of prompt i has index i * n + j. echo prepends the prompt; with logprobs too, the prompt tokens'
/// logprobs come first (first one null), and max_tokens 0 scores the prompt alone -- the lm-eval-harness loglikelihood
/// request, which it sends in batches.
/// </summary>
internal static class CompletionsEndpoint
{
    public static async Task HandleAsync(OpenAIServer server, HttpContext ctx)
    {
        using var doc = await OpenAIServer.ReadJsonAsync(ctx);
        var root = doc.RootElement;
        server.CheckModel(root);
        var options = SamplingParser.ParseOpenAI(root, SamplingParser.Api.Completions, server.Options.SamplingDefaults);
        var tokenizer = server.RequireTokenizer("/v1/completions");
        var prompts = ReadPrompts(server, root);
        foreach (var ids in prompts)
        {
            ChoiceRunner.CheckTokenIds(ids, server.Host.VocabSize, "prompt");
            ChoiceRunner.CheckLength(server, ids.Length, options.RequestedMaxTokens, "prompt");
        }

        string id = server.NewId("cmpl");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(); // this response's creation time, streamed or not
        string model = server.Options.ServedModelName;
        var echo = prompts.Select(ids => options.Echo ? tokenizer.Decode(ids, options.SkipSpecialTokens) : "").ToArray();
        var decoders = ChoiceRunner.Submit(server, id, prompts, options);
        var ct = ctx.RequestAborted;

        if (!options.Stream)
        {
            var offsets = new int[decoders.Count];
            await ChoiceRunner.RunAsync(decoders, null, ct);
            var choices = new CompletionChoice[decoders.Count];
            foreach (var d in decoders)
            {
                CompletionLogprobs? logprobs = null;
                if (d.Logprobs != null)
                {
                    logprobs = NewLogprobs(d);
                    if (options.Echo) AddPrompt(logprobs, tokenizer, d);
                    offsets[d.Index] = echo[d.Prompt].Length;
                    AddOutput(logprobs, tokenizer, d, 0, d.OutputIds.Count, ref offsets[d.Index]);
                }
                choices[d.Index] = new CompletionChoice(d.Index, echo[d.Prompt] + d.Text, logprobs, ChoiceDecoder.OpenAIFinishReason(d.Finish), d.MatchedStop());
            }
            var response = new CompletionResponse(id, "text_completion", created, model, choices, ChoiceRunner.Usage(decoders));
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(response, ServerJsonContext.Relaxed.CompletionResponse), ct);
            return;
        }

        SseWriter.Start(ctx.Response);
        var sent = new int[decoders.Count];      // tokens whose logprobs went out
        var textOffset = new int[decoders.Count];
        // With logprobs the echoed prompt goes out with its tokens' logprobs, which exist once the prompt is prefilled.
        bool echoWithLogprobs = options.Echo && options.Sampling.Logprobs;
        var echoPending = new bool[decoders.Count];
        if (options.Echo)
            foreach (var d in decoders)
            {
                textOffset[d.Index] = echo[d.Prompt].Length;
                if (echoWithLogprobs) echoPending[d.Index] = true;
                else if (echo[d.Prompt].Length > 0) await Chunk(new CompletionChoice(d.Index, echo[d.Prompt], null, null, null));
            }
        await ChoiceRunner.RunAsync(decoders, async (d, delta) =>
        {
            if (echoPending[d.Index])
            {
                echoPending[d.Index] = false;
                var prompt = NewLogprobs(d);
                AddPrompt(prompt, tokenizer, d);
                await Chunk(new CompletionChoice(d.Index, echo[d.Prompt], prompt, null, null));
            }
            if (delta.Length > 0)
            {
                var lp = d.Logprobs != null ? Logprobs(tokenizer, d, sent[d.Index], d.OutputIds.Count, ref textOffset[d.Index]) : null;
                sent[d.Index] = d.OutputIds.Count;
                await Chunk(new CompletionChoice(d.Index, delta, lp, null, null));
            }
            if (d.Done)
            {
                var lp = d.Logprobs != null && sent[d.Index] < d.OutputIds.Count ? Logprobs(tokenizer, d, sent[d.Index], d.OutputIds.Count, ref textOffset[d.Index]) : null;
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

    /// <summary>"prompt": a string or a list of token ids (one prompt), or a list of strings or of token-id lists (a
    /// batch, OpenAI's form).</summary>
    internal static List<int[]> ReadPrompts(OpenAIServer server, JsonElement root)
    {
        if (JsonFields.Get(root, "prompt") is not { } prompt) throw ApiException.BadRequest("'prompt' is required.", "prompt");
        if (prompt.ValueKind == JsonValueKind.String) return [Encode(server, prompt)];
        if (prompt.ValueKind != JsonValueKind.Array)
            throw ApiException.BadRequest($"'prompt' must be a string, a list of token ids or a list of prompts, got {JsonFields.Describe(prompt)}.", "prompt");
        if (prompt.GetArrayLength() == 0) throw ApiException.BadRequest("The prompt is empty: 'prompt' must contain at least one token.", "prompt");
        var first = prompt[0].ValueKind;
        if (first == JsonValueKind.Number) return [JsonFields.Ints(prompt, "prompt")];
        var prompts = new List<int[]>(prompt.GetArrayLength());
        foreach (var e in prompt.EnumerateArray())
        {
            if (e.ValueKind != first || first is not (JsonValueKind.String or JsonValueKind.Array))
                throw ApiException.BadRequest(
                    $"'prompt' must be a string, a list of token ids, a list of strings or a list of token-id lists; found {JsonFields.Describe(e)} in a list that starts with {JsonFields.Describe(prompt[0])}.",
                    "prompt");
            prompts.Add(first == JsonValueKind.String ? Encode(server, e) : JsonFields.Ints(e, "prompt"));
        }
        return prompts;
    }

    private static int[] Encode(OpenAIServer server, JsonElement text)
    {
        string s = text.GetString()!;
        if (s.Length == 0) throw ApiException.BadRequest("The prompt is empty: 'prompt' must contain at least one token.", "prompt");
        return server.RequireTokenizer("A text prompt").Encode(s);
    }

    private static CompletionLogprobs NewLogprobs(ChoiceDecoder d) => new([], [], d.TopLogprobs != null ? [] : null, []);

    /// <summary>Legacy logprobs of output tokens [from, to); text offsets continue from <paramref name="offset"/>.</summary>
    private static CompletionLogprobs Logprobs(Tokenizer tokenizer, ChoiceDecoder d, int from, int to, ref int offset)
    {
        var lp = NewLogprobs(d);
        AddOutput(lp, tokenizer, d, from, to, ref offset);
        return lp;
    }

    /// <summary>
    /// The prompt tokens (echo + logprobs), as OpenAI's legacy completions report them: the first token has no
    /// logprob and no alternatives (null), text offsets count from the start of the echoed prompt.
    /// </summary>
    private static void AddPrompt(CompletionLogprobs lp, Tokenizer tokenizer, ChoiceDecoder d)
    {
        // Null only if the request ended before its prompt was prefilled (then it failed or was aborted).
        if (d.InputLogprobs is not { } input) return;
        int[] prompt = d.Request.InputIds;
        int offset = 0;
        for (int i = 0; i < input.Count; i++)
        {
            string text = TokenTexts.Text(tokenizer, prompt[input.StartLen + i]);
            lp.Tokens.Add(text);
            lp.TokenLogprobs.Add(input.Logprob(i) is { } v ? TokenTexts.Finite(v) : null);
            lp.TextOffset.Add(offset);
            offset += text.Length;
            if (lp.TopLogprobs == null) continue;
            if (i == 0)
            {
                lp.TopLogprobs.Add(null);
                continue;
            }
            var dict = new Dictionary<string, float>(StringComparer.Ordinal);
            ReadOnlySpan<int> ids = input.TopIds(i);
            ReadOnlySpan<float> values = input.TopLogprobs(i);
            for (int k = 0; k < ids.Length; k++)
                if (ids[k] >= 0) dict.TryAdd(TokenTexts.Text(tokenizer, ids[k]), TokenTexts.Finite(values[k]));
            lp.TopLogprobs.Add(dict);
        }
    }

    /// <summary>Output tokens [from, to); text offsets continue from <paramref name="offset"/>.</summary>
    private static void AddOutput(CompletionLogprobs lp, Tokenizer tokenizer, ChoiceDecoder d, int from, int to, ref int offset)
    {
        for (int i = from; i < to; i++)
        {
            string text = TokenTexts.Text(tokenizer, d.OutputIds[i]);
            lp.Tokens.Add(text);
            lp.TokenLogprobs.Add(TokenTexts.Finite(d.Logprobs![i]));
            lp.TextOffset.Add(offset);
            offset += text.Length;
            if (lp.TopLogprobs == null) continue;
            var dict = new Dictionary<string, float>(StringComparer.Ordinal);
            if (d.TopLogprobs![i] is { } top)
                foreach (var t in top) dict.TryAdd(TokenTexts.Text(tokenizer, t.TokenId), TokenTexts.Finite(t.Logprob));
            lp.TopLogprobs.Add(dict);
        }
    }
}
