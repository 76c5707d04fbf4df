using System.Diagnostics;
using System.Text.Json;
using Compiler.Runtime.Scheduling;
using Microsoft.AspNetCore.Http;
using static Compiler.Runtime.Server.JsonFields;

namespace Compiler.Runtime.Server;

/// <summary>
/// SGLang's native POST /generate: {"text" | "input_ids", "sampling_params", "stream", "return_logprob",
/// "logprob_start_len", "top_logprobs_num", "rid"} -> {"text", "output_ids", "meta_info"}; a list when there are
/// several prompts ("text" a list of strings, "input_ids" a list of lists) or n &gt; 1, choice j of prompt i at
/// i * n + j. Streaming sends the cumulative object per event, as SGLang does, with its "index" in that list when
/// there is more than one. Works without a tokenizer for input_ids
/// (text is then null). With return_logprob, meta_info has input_token_logprobs for prompt positions from
/// logprob_start_len on (default -1: the last prompt token only), the first entry's logprob null, as SGLang.
/// </summary>
internal static class GenerateEndpoint
{
    public static async Task HandleAsync(OpenAIServer server, HttpContext ctx)
    {
        long start = Stopwatch.GetTimestamp();
        using var doc = await OpenAIServer.ReadJsonAsync(ctx);
        var root = doc.RootElement;
        bool stream = Bool(root, "stream") ?? false;
        bool returnLogprob = Bool(root, "return_logprob") ?? false;
        int topNum = Int(root, "top_logprobs_num") ?? 0;
        if (topNum is < 0 or > 20) throw ApiException.BadRequest($"'top_logprobs_num' must be between 0 and 20, got {topNum}.", "top_logprobs_num");
        int logprobStart = Int(root, "logprob_start_len") ?? -1;
        if (logprobStart < -1)
            throw ApiException.BadRequest($"'logprob_start_len' must be -1 (the last prompt token only) or a prompt position >= 0, got {logprobStart}.", "logprob_start_len");
        var options = SamplingParser.ParseNative(Get(root, "sampling_params"), server.Options.SamplingDefaults, stream, returnLogprob, topNum, logprobStart);
        if (options.Sampling.Stop.Count > 0) server.RequireTokenizer("Stop strings");

        var prompts = ReadInput(server, root);
        foreach (var ids in prompts)
        {
            ChoiceRunner.CheckTokenIds(ids, server.Host.VocabSize, "input_ids");
            ChoiceRunner.CheckLength(server, ids.Length, options.RequestedMaxTokens, Get(root, "input_ids") != null ? "input_ids" : "text");
            if (returnLogprob && logprobStart >= ids.Length)
                throw ApiException.BadRequest(
                    $"'logprob_start_len' ({logprobStart}) must be less than the number of prompt tokens ({ids.Length}); use a smaller value, or -1 for the last prompt token only.",
                    "logprob_start_len");
        }

        string rid = String(root, "rid") ?? server.NewId("gen");
        var decoders = ChoiceRunner.Submit(server, rid, prompts, options);
        var ct = ctx.RequestAborted;
        if (!stream)
        {
            await ChoiceRunner.RunAsync(decoders, null, ct);
            ctx.Response.ContentType = "application/json";
            await WriteAsync(ctx.Response.Body, server, decoders, start, returnLogprob, several: decoders.Count > 1, only: null, ct);
            return;
        }
        SseWriter.Start(ctx.Response);
        await ChoiceRunner.RunAsync(decoders, async (d, delta) =>
        {
            if (delta.Length == 0 && !d.Done && server.Tokenizer != null) return;
            using var buffer = new MemoryStream();
            await WriteAsync(buffer, server, decoders, start, returnLogprob, several: decoders.Count > 1, only: d, ct);
            await SseWriter.WriteAsync(ctx.Response, buffer.ToArray(), ct);
        }, ct);
        await SseWriter.WriteDoneAsync(ctx.Response, ct);
    }

    /// <summary>The prompts: "text", a string or a list of strings, or "input_ids", a list of token ids or a list of such lists.</summary>
    private static List<int[]> ReadInput(OpenAIServer server, JsonElement root)
    {
        var text = Get(root, "text");
        var inputIds = Get(root, "input_ids");
        if (text != null && inputIds != null) throw ApiException.BadRequest("Give either 'text' or 'input_ids', not both.", "text");
        if (inputIds is { } ids)
        {
            if (ids.ValueKind == JsonValueKind.Array && ids.GetArrayLength() > 0 && ids[0].ValueKind == JsonValueKind.Array)
                return [.. ids.EnumerateArray().Select(e => Ints(e, "input_ids"))];
            return [Ints(ids, "input_ids")]; // an empty list fails the length check in HandleAsync
        }
        if (text is not { } t) throw ApiException.BadRequest("Either 'text' or 'input_ids' is required.", "text");
        if (t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0)
            return [.. t.EnumerateArray().Select(e => Encode(server, e))];
        return [Encode(server, t)];
    }

    private static int[] Encode(OpenAIServer server, JsonElement text)
    {
        if (text.ValueKind != JsonValueKind.String)
            throw ApiException.BadRequest($"'text' must be a string or a list of strings; found {Describe(text)}.", "text");
        string s = text.GetString()!;
        if (s.Length == 0) throw ApiException.BadRequest("The prompt is empty: 'text' must contain at least one token.", "text");
        return server.RequireTokenizer("'text'").Encode(s);
    }

    /// <summary>The result objects of all choices (a list when there are <paramref name="several"/>), or the streamed
    /// object of <paramref name="only"/> (with its index when there are several), as SGLang's meta_info lays them out.</summary>
    private static async Task WriteAsync(Stream output, OpenAIServer server, List<ChoiceDecoder> decoders, long start, bool logprobs,
        bool several, ChoiceDecoder? only, CancellationToken ct)
    {
        await using (var w = new Utf8JsonWriter(output, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            if (only != null) WriteOne(w, server, only, start, logprobs, index: several ? only.Index : null);
            else
            {
                if (several) w.WriteStartArray();
                foreach (var d in decoders) WriteOne(w, server, d, start, logprobs, index: null);
                if (several) w.WriteEndArray();
            }
        }
        await output.FlushAsync(ct);
    }

    private static void WriteOne(Utf8JsonWriter w, OpenAIServer server, ChoiceDecoder d, long start, bool logprobs, int? index)
    {
        var tokenizer = server.Tokenizer;
        w.WriteStartObject();
        if (index is { } choice) w.WriteNumber("index", choice);
        if (tokenizer != null) w.WriteString("text", d.Text.ToString());
        else w.WriteNull("text");
        w.WriteStartArray("output_ids");
        foreach (int id in d.OutputIds) w.WriteNumberValue(id);
        w.WriteEndArray();
        w.WriteStartObject("meta_info");
        w.WriteString("id", d.Request.Rid);
        w.WritePropertyName("finish_reason");
        WriteFinish(w, d);
        w.WriteNumber("prompt_tokens", d.Request.InputIds.Length);
        w.WriteNumber("completion_tokens", d.OutputIds.Count);
        w.WriteNumber("cached_tokens", d.CachedTokens);
        w.WriteNumber("e2e_latency", Stopwatch.GetElapsedTime(start).TotalSeconds);
        if (logprobs)
        {
            // Prompt entries from logprob_start_len on, the first without a value (SGLang's [None, id, text]).
            var input = d.InputLogprobs;
            var prompt = d.Request.InputIds;
            w.WriteStartArray("input_token_logprobs");
            if (input != null)
                for (int i = 0; i < input.Count; i++) WriteTriple(w, tokenizer, input.Logprob(i), prompt[input.StartLen + i]);
            w.WriteEndArray();
            w.WriteStartArray("output_token_logprobs");
            for (int i = 0; i < d.OutputIds.Count; i++) WriteTriple(w, tokenizer, d.Logprobs![i], d.OutputIds[i]);
            w.WriteEndArray();
            if (d.TopLogprobs != null)
            {
                w.WriteStartArray("input_top_logprobs");
                if (input != null)
                    for (int i = 0; i < input.Count; i++)
                    {
                        if (i == 0)
                        {
                            w.WriteNullValue();
                            continue;
                        }
                        w.WriteStartArray();
                        ReadOnlySpan<int> ids = input.TopIds(i);
                        ReadOnlySpan<float> values = input.TopLogprobs(i);
                        for (int k = 0; k < ids.Length; k++)
                            if (ids[k] >= 0) WriteTriple(w, tokenizer, values[k], ids[k]);
                        w.WriteEndArray();
                    }
                w.WriteEndArray();
                w.WriteStartArray("output_top_logprobs");
                foreach (var top in d.TopLogprobs)
                {
                    w.WriteStartArray();
                    if (top != null) foreach (var t in top) WriteTriple(w, tokenizer, t.Logprob, t.TokenId);
                    w.WriteEndArray();
                }
                w.WriteEndArray();
            }
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>SGLang's [logprob, token_id, token_text] (text null without a tokenizer).</summary>
    private static void WriteTriple(Utf8JsonWriter w, Text.Tokenizer? tokenizer, float? logprob, int id)
    {
        w.WriteStartArray();
        if (logprob is { } value) w.WriteNumberValue(TokenTexts.Finite(value));
        else w.WriteNullValue();
        w.WriteNumberValue(id);
        if (tokenizer != null) w.WriteStringValue(TokenTexts.Text(tokenizer, id));
        else w.WriteNullValue();
        w.WriteEndArray();
    }

    /// <summary>{"type": "length", "length": n} | {"type": "stop", "matched": id or string} | {"type": "abort", "message"}; null while running.</summary>
    private static void WriteFinish(Utf8JsonWriter w, ChoiceDecoder d)
    {
        if (d.Finish is not { } f)
        {
            w.WriteNullValue();
            return;
        }
        w.WriteStartObject();
        switch (f.Kind)
        {
            case FinishKind.Length:
                w.WriteString("type", "length");
                w.WriteNumber("length", d.OutputIds.Count);
                break;
            case FinishKind.Stop:
                w.WriteString("type", "stop");
                if (f.MatchedStop != null) w.WriteString("matched", f.MatchedStop);
                else if (f.MatchedTokenId is { } id) w.WriteNumber("matched", id);
                break;
            default:
                w.WriteString("type", "abort");
                w.WriteString("message", f.Message);
                break;
        }
        w.WriteEndObject();
    }
}
