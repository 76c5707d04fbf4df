using System.Text.Json;

namespace Compiler.Runtime.Server;

/// <summary>
/// Typed reads of request fields with OpenAI-style 400s that name the field: a missing optional field (or an
/// explicit null) gives the default, a value of the wrong type is an error, never silently coerced.
/// </summary>
internal static class JsonFields
{
    public static JsonElement? Get(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static double? Number(JsonElement obj, string name)
    {
        if (Get(obj, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d))
            throw ApiException.BadRequest($"'{name}' must be a number, got {Describe(v)}.", name);
        return d;
    }

    public static int? Int(JsonElement obj, string name)
    {
        if (Get(obj, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw ApiException.BadRequest($"'{name}' must be an integer, got {Describe(v)}.", name);
        if (v.TryGetInt32(out int i)) return i;
        // 3.0 is accepted as 3, as Python servers do; 3.5 or 1e12 is not.
        if (v.TryGetDouble(out double d) && d == Math.Floor(d) && d >= int.MinValue && d <= int.MaxValue) return (int)d;
        throw ApiException.BadRequest($"'{name}' must be an integer, got {v.GetRawText()}.", name);
    }

    public static long? Long(JsonElement obj, string name)
    {
        if (Get(obj, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long l))
            throw ApiException.BadRequest($"'{name}' must be an integer, got {Describe(v)}.", name);
        return l;
    }

    public static bool? Bool(JsonElement obj, string name)
    {
        if (Get(obj, name) is not { } v) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ApiException.BadRequest($"'{name}' must be a boolean, got {Describe(v)}.", name),
        };
    }

    public static string? String(JsonElement obj, string name)
    {
        if (Get(obj, name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.String) throw ApiException.BadRequest($"'{name}' must be a string, got {Describe(v)}.", name);
        return v.GetString();
    }

    /// <summary>"stop": a string or a list of strings (OpenAI allows up to 4; more are accepted).</summary>
    public static List<string> StringOrList(JsonElement obj, string name)
    {
        var list = new List<string>();
        if (Get(obj, name) is not { } v) return list;
        if (v.ValueKind == JsonValueKind.String) list.Add(v.GetString()!);
        else if (v.ValueKind == JsonValueKind.Array)
            foreach (var e in v.EnumerateArray())
            {
                if (e.ValueKind != JsonValueKind.String) throw ApiException.BadRequest($"'{name}' must be a string or a list of strings; found {Describe(e)} in the list.", name);
                list.Add(e.GetString()!);
            }
        else throw ApiException.BadRequest($"'{name}' must be a string or a list of strings, got {Describe(v)}.", name);
        foreach (string s in list)
            if (s.Length == 0) throw ApiException.BadRequest($"'{name}' strings must be non-empty.", name);
        return list;
    }

    public static List<int> IntList(JsonElement obj, string name) => Get(obj, name) is { } v ? [.. Ints(v, name)] : [];

    /// <summary>A list of integers: field <paramref name="name"/>'s value, or one entry of it (a batch of token-id prompts).</summary>
    public static int[] Ints(JsonElement v, string name)
    {
        if (v.ValueKind != JsonValueKind.Array) throw ApiException.BadRequest($"'{name}' must be a list of integers, got {Describe(v)}.", name);
        var ints = new int[v.GetArrayLength()];
        int i = 0;
        foreach (var e in v.EnumerateArray())
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out ints[i++]))
                throw ApiException.BadRequest($"'{name}' must be a list of integers; found {Describe(e)} in the list.", name);
        return ints;
    }

    public static string Describe(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(v.GetString()!)}\"",
        JsonValueKind.Number => $"the number {v.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => $"the boolean {v.GetRawText()}",
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        _ => v.ValueKind.ToString(),
    };

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
