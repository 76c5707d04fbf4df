namespace Compiler.Runtime.Loading.Tests;

/// <summary>Paths of the fixtures copied next to the test assembly.</summary>
internal static class Fixture
{
    public static string Dir(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
}
