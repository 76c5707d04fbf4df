using System.Text.Json;
using System.Text.Json.Nodes;

namespace Compiler.Host.Bench;

/// <summary>Builds the JSON body of one request, as SGLang's request functions do: greedy (temperature 0), the
/// requested output length, ignore_eos unless --disable-ignore-eos, streaming unless --disable-stream, then
/// --extra-request-body merged on top (its keys win). Bodies are built before the run so no serialization happens
/// on the request path.</summary>
internal static class RequestBody
{
    public static byte[] Build(ApiKind api, DatasetRow row, int outputLen, string model, BenchOptions options, JsonObject? extra)
    {
        bool stream = !options.DisableStream, ignoreEos = !options.DisableIgnoreEos;
        var body = new JsonObject();
        switch (api)
        {
            case ApiKind.SglangGenerate:
                body[row.Text is not null ? "text" : "input_ids"] = Prompt(row);
                body["sampling_params"] = new JsonObject
                {
                    ["temperature"] = 0.0,
                    ["max_new_tokens"] = outputLen,
                    ["ignore_eos"] = ignoreEos,
                };
                body["stream"] = stream;
                break;
            case ApiKind.Completions:
                body["model"] = model;
                body["prompt"] = Prompt(row);
                body["max_tokens"] = outputLen;
                AddOpenAiCommon(body, stream, ignoreEos);
                break;
            case ApiKind.ChatCompletions:
                if (row.Text is null)
                    throw new ArgumentException("a chat backend sends text messages; token-id prompts need --tokenizer to become text");
                body["model"] = model;
                body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = row.Text });
                body["max_tokens"] = outputLen;
                AddOpenAiCommon(body, stream, ignoreEos);
                break;
        }
        if (extra is not null)
            foreach (var (key, value) in extra) body[key] = value?.DeepClone();
        return JsonSerializer.SerializeToUtf8Bytes(body);
    }

    /// <summary>Parses --extra-request-body; it must be a JSON object.</summary>
    public static JsonObject? ParseExtra(string? json)
    {
        if (string.IsNullOrWhiteSpace(json)) return null;
        try
        {
            return JsonNode.Parse(json) as JsonObject
                ?? throw new ArgumentException($"--extra-request-body must be a JSON object such as {{\"top_p\": 0.9}}, got: {json}");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"--extra-request-body is not valid JSON ({e.Message}): {json}", e);
        }
    }

    private static JsonNode Prompt(DatasetRow row) =>
        row.Text is { } text ? JsonValue.Create(text) : new JsonArray(row.InputIds!.Select(id => (JsonNode)id).ToArray());

    private static void AddOpenAiCommon(JsonObject body, bool stream, bool ignoreEos)
    {
        body["temperature"] = 0.0;
        body["stream"] = stream;
        // The final chunk then carries usage.completion_tokens: exact output counts without retokenizing.
        if (stream) body["stream_options"] = new JsonObject { ["include_usage"] = true };
        body["ignore_eos"] = ignoreEos;
    }
}
