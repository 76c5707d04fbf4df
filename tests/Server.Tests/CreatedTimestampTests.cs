using System.Net;

namespace Server.Tests;

/// <summary>OpenAI's "created": when the completion was created (unix seconds), in plain and streamed responses alike.</summary>
public sealed class CreatedTimestampTests(ServerFixture fixture) : ServerTestBase(fixture)
{
    /// <summary>Waits until the clock's unix second is past the server's start, so the two cannot be confused.</summary>
    private async Task<long> SecondAfterServerStartAsync()
    {
        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() <= Server.Stack.Server.Created)
            await Task.Delay(50, Ct);
        return DateTimeOffset.UtcNow.ToUnixTimeSeconds();
    }

    [Theory]
    [InlineData("/v1/completions", """{"model":"tiny-chat","prompt":"Hello","max_tokens":2,"temperature":0}""")]
    [InlineData("/v1/chat/completions", """{"model":"tiny-chat","messages":[{"role":"user","content":"Hello"}],"max_tokens":2,"temperature":0}""")]
    public async Task Plain_responses_are_created_at_the_request_not_at_server_start(string path, string json)
    {
        long before = await SecondAfterServerStartAsync();
        var (status, body) = await PostAsync(path, json);
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        Assert.Equal(HttpStatusCode.OK, status);
        long created = body.GetProperty("created").GetInt64();
        Assert.InRange(created, before, after);
    }

    [Theory]
    [InlineData("/v1/completions", """{"model":"tiny-chat","prompt":"Hello","max_tokens":2,"temperature":0,"stream":true}""")]
    [InlineData("/v1/chat/completions", """{"model":"tiny-chat","messages":[{"role":"user","content":"Hello"}],"max_tokens":2,"temperature":0,"stream":true}""")]
    public async Task Streamed_chunks_are_created_at_the_request(string path, string json)
    {
        long before = await SecondAfterServerStartAsync();
        var events = await PostSseAsync(path, json);
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var chunks = Sse.Json(events).Select(e => e.GetProperty("created").GetInt64()).ToList();
        Assert.NotEmpty(chunks);
        Assert.All(chunks, c => Assert.Equal(chunks[0], c));
        Assert.InRange(chunks[0], before, after);
    }
}
