using System;
using System.Collections.Generic;
using System.Linq;

namespace Compiler.Generator.Passes;

/// <summary>"Did you mean ...?" from the closest known name by edit distance.</summary>
internal static class Suggest
{
    public static string DidYouMean(string name, IEnumerable<string> candidates)
    {
        var best = candidates.Distinct().OrderBy(c => Distance(name, c)).ThenBy(c => c, StringComparer.Ordinal).FirstOrDefault();
        return best is not null && Distance(name, best) <= Math.Max(2, name.Length / 3) ? $"; did you mean '{best}'?" : "";
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
            for (var j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
