using System.Text.Json;

namespace Server.Tests;

/// <summary>Reads an SSE response as raw "data:" payloads.</summary>
internal static class Sse
{
    public static async Task<List<string>> ReadAllAsync(HttpResponseMessage response)
    {
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var events = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0) continue;
            Assert.StartsWith("data: ", line);
            events.Add(line["data: ".Length..]);
        }
        return events;
    }

    public static List<JsonElement> Json(List<string> events)
    {
        Assert.Equal("[DONE]", events[^1]);
        return events.Take(events.Count - 1).Select(e => JsonDocument.Parse(e).RootElement.Clone()).ToList();
    }
}
