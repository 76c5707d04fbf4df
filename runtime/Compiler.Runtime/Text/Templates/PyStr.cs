using System.Text;

namespace Compiler.Runtime.Text.Templates;

/// <summary>Python <c>str</c> operations on .NET strings: code-point indexing, Python's whitespace, split/strip.</summary>
internal static class PyStr
{
    /// <summary>Python's <c>str.isspace</c> for one UTF-16 unit (.NET misses the \x1c-\x1f separators).</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\x1c' && c <= '\x1f');

    public static bool HasSurrogates(string s)
    {
        foreach (var c in s)
            if (char.IsSurrogate(c))
                return true;
        return false;
    }

    /// <summary><c>len(s)</c>: code points, not UTF-16 units.</summary>
    public static int Length(string s)
    {
        if (!HasSurrogates(s))
            return s.Length;
        var n = 0;
        for (var i = 0; i < s.Length; i++, n++)
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                i++;
        return n;
    }

    /// <summary>The string's code points as strings (one or two UTF-16 units each).</summary>
    public static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                list.Add(s.Substring(i, 2));
                i++;
            }
            else
                list.Add(s[i].ToString());
        }
        return list;
    }

    /// <summary>Converts a UTF-16 offset to a code-point index (for find/index results).</summary>
    public static int CodePointIndex(string s, int utf16Index)
    {
        if (utf16Index <= 0 || !HasSurrogates(s))
            return utf16Index;
        return Length(s[..utf16Index]);
    }

    public static string Strip(string s, string? chars, bool left, bool right)
    {
        int start = 0, end = s.Length;
        if (left)
            while (start < end && Matches(s[start], chars))
                start++;
        if (right)
            while (end > start && Matches(s[end - 1], chars))
                end--;
        return s[start..end];
    }

    private static bool Matches(char c, string? chars) => chars is null ? IsSpace(c) : chars.Contains(c);

    /// <summary>Python <c>str.split(sep=None, maxsplit=-1)</c>.</summary>
    public static List<string> Split(string s, string? sep, int maxSplit)
    {
        var parts = new List<string>();
        if (sep is null)
        {
            var i = 0;
            while (true)
            {
                while (i < s.Length && IsSpace(s[i]))
                    i++;
                if (i >= s.Length)
                    break;
                if (maxSplit >= 0 && parts.Count == maxSplit)
                {
                    parts.Add(Strip(s[i..], null, false, true));
                    break;
                }
                var j = i;
                while (j < s.Length && !IsSpace(s[j]))
                    j++;
                parts.Add(s[i..j]);
                i = j;
            }
            return parts;
        }
        if (sep.Length == 0)
            throw new ArgumentException("empty separator");
        var from = 0;
        while (maxSplit < 0 || parts.Count < maxSplit)
        {
            var k = s.IndexOf(sep, from, StringComparison.Ordinal);
            if (k < 0)
                break;
            parts.Add(s[from..k]);
            from = k + sep.Length;
        }
        parts.Add(s[from..]);
        return parts;
    }

    /// <summary>Python <c>str.rsplit(sep, maxsplit)</c> for an explicit separator.</summary>
    public static List<string> RSplit(string s, string sep, int maxSplit)
    {
        if (maxSplit < 0)
            return Split(s, sep, -1);
        var parts = new List<string>();
        var end = s.Length;
        while (parts.Count < maxSplit)
        {
            var k = end == 0 ? -1 : s.LastIndexOf(sep, end - 1, StringComparison.Ordinal);
            if (k < 0 || k + sep.Length > end)
                break;
            parts.Add(s[(k + sep.Length)..end]);
            end = k;
        }
        parts.Add(s[..end]);
        parts.Reverse();
        return parts;
    }

    /// <summary>Python <c>str.title()</c>: upper-case a letter that follows a non-letter, lower-case the rest.</summary>
    public static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        var prevCased = false;
        foreach (var c in s)
        {
            sb.Append(prevCased ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            prevCased = char.IsUpper(c) || char.IsLower(c);
        }
        return sb.ToString();
    }

    public static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();

    /// <summary>Python <c>str.replace(old, new, count)</c>; an empty <paramref name="old"/> inserts between characters.</summary>
    public static string Replace(string s, string oldValue, string newValue, int count)
    {
        if (count < 0 && oldValue.Length > 0)
            return s.Replace(oldValue, newValue, StringComparison.Ordinal);
        var sb = new StringBuilder();
        if (oldValue.Length == 0)
        {
            var points = CodePoints(s);
            var done = 0;
            for (var i = 0; i <= points.Count; i++)
            {
                if (count < 0 || done < count)
                {
                    sb.Append(newValue);
                    done++;
                }
                if (i < points.Count)
                    sb.Append(points[i]);
            }
            return sb.ToString();
        }
        var from = 0;
        for (var n = 0; n < count; n++)
        {
            var k = s.IndexOf(oldValue, from, StringComparison.Ordinal);
            if (k < 0)
                break;
            sb.Append(s, from, k - from).Append(newValue);
            from = k + oldValue.Length;
        }
        return sb.Append(s, from, s.Length - from).ToString();
    }
}
