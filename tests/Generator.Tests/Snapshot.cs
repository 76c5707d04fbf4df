using System.Runtime.CompilerServices;
using System.Text;

namespace Compiler.Generator.Tests;

/// <summary>
/// Golden-file comparison. Snapshots live in tests/Generator.Tests/Snapshots. On a mismatch the new output is written
/// beside the golden file as NAME.received.EXT and the test fails with the first differing lines. Set
/// UPDATE_SNAPSHOTS=1 to accept new output (it overwrites the golden files).
/// </summary>
internal static class Snapshot
{
    public static void Match(string name, string actual, [CallerFilePath] string source = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(source)!, "Snapshots");
        var golden = Path.Combine(directory, name);
        var received = Path.Combine(directory, Path.GetFileNameWithoutExtension(name) + ".received" + Path.GetExtension(name));
        actual = actual.Replace("\r\n", "\n");
        if (Environment.GetEnvironmentVariable("UPDATE_SNAPSHOTS") == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(golden, actual);
            File.Delete(received);
            return;
        }
        var expected = File.Exists(golden) ? File.ReadAllText(golden).Replace("\r\n", "\n") : null;
        if (expected == actual) { File.Delete(received); return; }
        File.WriteAllText(received, actual);
        Assert.Fail(expected is null
            ? $"No snapshot {name} yet; the output is in {received}. Review it, then run with UPDATE_SNAPSHOTS=1 to accept it."
            : $"Snapshot {name} differs (new output in {received}; UPDATE_SNAPSHOTS=1 accepts it):\n{Diff(expected, actual)}");
    }

    /// <summary>The first differing region, with line numbers and a little context.</summary>
    internal static string Diff(string expected, string actual)
    {
        var a = expected.Split('\n');
        var b = actual.Split('\n');
        var first = 0;
        while (first < a.Length && first < b.Length && a[first] == b[first]) first++;
        int endA = a.Length - 1, endB = b.Length - 1;
        while (endA > first && endB > first && a[endA] == b[endB]) { endA--; endB--; }
        var text = new StringBuilder();
        for (var i = Math.Max(0, first - 2); i < first; i++) text.AppendLine($"  {i + 1,5}   {a[i]}");
        for (var i = first; i <= Math.Min(endA, first + 20); i++) text.AppendLine($"- {i + 1,5}   {a[i]}");
        for (var i = first; i <= Math.Min(endB, first + 20); i++) text.AppendLine($"+ {i + 1,5}   {b[i]}");
        return text.ToString();
    }
}
