namespace Server.Tests;

/// <summary>One server for a test class; tests run one at a time (see AssemblyInfo) so baselines are exact.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    internal TestServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await TestServer.StartAsync();

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();
}
