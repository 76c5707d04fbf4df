using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Compiler.Host.Bench;

/// <summary>Sends one benchmark request and measures it as SGLang's request functions do: TTFT at the first chunk
/// that carries text, an ITL per later text chunk (split evenly over the new tokens for the sglang backend, whose
/// chunks report cumulative token counts), E2E at the last chunk. The stream is parsed line by line as it arrives;
/// timestamps are Stopwatch ticks taken when a line is read.</summary>
internal sealed class RequestSender(HttpClient http, Uri url, ApiKind api, bool stream, string? apiKey, long originTimestamp)
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    public async Task<RequestOutput> SendAsync(byte[] body, int promptLen, int requestedOutputLen, CancellationToken cancel)
    {
        var output = new RequestOutput { PromptLen = promptLen, OutputLen = requestedOutputLen };
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = Json;
        if (!string.IsNullOrEmpty(apiKey)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        long start = Stopwatch.GetTimestamp();
        output.StartTime = Seconds(start - originTimestamp);
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                string text = await response.Content.ReadAsStringAsync(cancel).ConfigureAwait(false);
                output.Error = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {text}";
                return output;
            }
            var content = await response.Content.ReadAsStreamAsync(cancel).ConfigureAwait(false);
            await using (content.ConfigureAwait(false))
            {
                if (stream) await ReadStreamAsync(content, output, start, cancel).ConfigureAwait(false);
                else await ReadWholeAsync(content, output, start, cancel).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancel.IsCancellationRequested)
        {
            output.Success = false;
            output.Error = Describe(e);
        }
        return output;
    }

    private async Task ReadStreamAsync(Stream content, RequestOutput output, long start, CancellationToken cancel)
    {
        var reader = new SseLineReader(content);
        var text = new StringBuilder();
        bool first = true;
        long mostRecent = start, last = start;
        int lastOutputLen = 0;
        while (await reader.ReadLineAsync(cancel).ConfigureAwait(false))
        {
            long now = Stopwatch.GetTimestamp();
            var payload = Payload(reader.Line);
            if (payload.IsEmpty) continue;
            last = now;
            if (payload.Span.SequenceEqual("[DONE]"u8)) continue;

            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement;
            if (ErrorOf(root) is { } error)
            {
                output.Error = error;
                return;
            }
            string? piece;
            if (api == ApiKind.SglangGenerate)
            {
                piece = root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                if (string.IsNullOrEmpty(piece)) continue;
                // Each chunk repeats the whole text so far and the cumulative completion_tokens.
                int outputLen = CompletionTokens(root, "meta_info") ?? lastOutputLen + 1;
                output.OutputLen = outputLen;
                output.OutputLenReported = true;
                text.Clear().Append(piece);
                if (first)
                {
                    output.Ttft = Seconds(now - start);
                    first = false;
                }
                else
                {
                    int newTokens = outputLen - lastOutputLen;
                    if (newTokens <= 0) continue;
                    double gap = Seconds(now - mostRecent) / newTokens;
                    for (int i = 0; i < newTokens; i++) output.Itl.Add(gap);
                }
                mostRecent = now;
                lastOutputLen = outputLen;
                continue;
            }

            piece = ChoiceText(root, api == ApiKind.ChatCompletions ? "delta" : null);
            if (!string.IsNullOrEmpty(piece))
            {
                if (first)
                {
                    output.Ttft = Seconds(now - start);
                    first = false;
                }
                else
                {
                    output.Itl.Add(Seconds(now - mostRecent));
                }
                mostRecent = now;
                text.Append(piece);
            }
            if (CompletionTokens(root, "usage") is { } reported)
            {
                output.OutputLen = reported;
                output.OutputLenReported = true;
            }
        }
        output.GeneratedText = text.ToString();
        output.Latency = Seconds(last - start);
        output.Success = true;
    }

    private async Task ReadWholeAsync(Stream content, RequestOutput output, long start, CancellationToken cancel)
    {
        using var doc = await JsonDocument.ParseAsync(content, cancellationToken: cancel).ConfigureAwait(false);
        long now = Stopwatch.GetTimestamp();
        var root = doc.RootElement;
        if (ErrorOf(root) is { } error)
        {
            output.Error = error;
            return;
        }
        output.Latency = output.Ttft = Seconds(now - start); // without streaming the first token is the whole answer
        string? text;
        int? tokens;
        if (api == ApiKind.SglangGenerate)
        {
            text = root.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            tokens = CompletionTokens(root, "meta_info");
        }
        else
        {
            text = ChoiceText(root, api == ApiKind.ChatCompletions ? "message" : null);
            tokens = CompletionTokens(root, "usage");
        }
        output.GeneratedText = text ?? "";
        if (tokens is { } n)
        {
            output.OutputLen = n;
            output.OutputLenReported = true;
        }
        output.Success = true;
    }

    /// <summary>The JSON of an SSE "data:" line (or of a bare JSON line); empty for blank lines, comments and other
    /// SSE fields.</summary>
    private static ReadOnlyMemory<byte> Payload(ReadOnlyMemory<byte> line)
    {
        var span = line.Span;
        int start = 0, end = span.Length;
        while (start < end && IsSpace(span[start])) start++;
        while (end > start && IsSpace(span[end - 1])) end--;
        var trimmed = span[start..end];
        if (trimmed.StartsWith("data:"u8))
        {
            start += 5;
            while (start < end && IsSpace(span[start])) start++;
        }
        else if (trimmed.IsEmpty || trimmed[0] is (byte)':' || trimmed.StartsWith("event:"u8)
                 || trimmed.StartsWith("id:"u8) || trimmed.StartsWith("retry:"u8))
        {
            return ReadOnlyMemory<byte>.Empty;
        }
        return line[start..end];
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n';

    /// <summary>choices[0].text (completions) or choices[0].{delta|message}.content (chat); null when absent, as in a
    /// usage-only final chunk.</summary>
    private static string? ChoiceText(JsonElement root, string? chatField)
    {
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            return null;
        var choice = choices[0];
        JsonElement value;
        if (chatField is null)
        {
            if (!choice.TryGetProperty("text", out value)) return null;
        }
        else if (!choice.TryGetProperty(chatField, out var inner) || inner.ValueKind != JsonValueKind.Object
                 || !inner.TryGetProperty("content", out value))
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String ? value.GetString() : null;
    }

    private static int? CompletionTokens(JsonElement root, string objectName) =>
        root.TryGetProperty(objectName, out var obj) && obj.ValueKind == JsonValueKind.Object
        && obj.TryGetProperty("completion_tokens", out var n) && n.ValueKind == JsonValueKind.Number && n.TryGetInt32(out int v)
            ? v : null;

    /// <summary>An error the server reported inside a 200 response ({"error": ...}).</summary>
    private static string? ErrorOf(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("error", out var error)) return null;
        return error.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.Object when error.TryGetProperty("message", out var m) => $"server error: {m}",
            _ => $"server error: {error.GetRawText()}",
        };
    }

    private static string Describe(Exception e)
    {
        var message = new StringBuilder($"{e.GetType().Name}: {e.Message}");
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            message.Append($" ({inner.GetType().Name}: {inner.Message})");
        return message.ToString();
    }

    public static double Seconds(long ticks) => (double)ticks / Stopwatch.Frequency;
}
