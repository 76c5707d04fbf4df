using System.Text.Json;

namespace Compiler.Runtime.Loading;

/// <summary>Typed access to a JSON config file by key, with errors that name the key and the file. A key may be a
/// dotted path into nested objects ("rope_scaling.factor"); JSON null counts as absent, as None does in transformers.</summary>
internal sealed class ConfigJson
{
    private ConfigJson(JsonElement root, string path)
    {
        Root = root;
        Path = path;
    }

    /// <summary>The file the JSON came from (or the name given to <see cref="Parse"/>).</summary>
    public string Path { get; }

    /// <summary>The root object (a detached clone: no document to dispose).</summary>
    public JsonElement Root { get; }

    public static ConfigJson Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, null, $"cannot read the file: {e.Message}", e);
        }
        return Parse(text, path);
    }

    public static ConfigJson Parse(string json, string path)
    {
        JsonDocument document;
        try
        {
            // Python's json module accepts NaN/Infinity literals; transformers never writes them, so neither do we.
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new CheckpointException(path, null, $"not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, null, $"must hold a JSON object, found {document.RootElement.ValueKind}");
            return new ConfigJson(document.RootElement.Clone(), path);
        }
    }

    public CheckpointException Error(string key, string detail) => new(Path, null, $"key '{key}': {detail}");

    /// <summary>Finds <paramref name="key"/> (dotted path allowed); false when absent or null.</summary>
    public bool TryGet(string key, out JsonElement value)
    {
        value = Root;
        if (Root.TryGetProperty(key, out var direct))
        {
            value = direct;
            return direct.ValueKind != JsonValueKind.Null;
        }
        foreach (var part in key.Split('.'))
        {
            if (value.ValueKind != JsonValueKind.Object || !value.TryGetProperty(part, out value)) return false;
        }
        return value.ValueKind != JsonValueKind.Null;
    }

    public bool Contains(string key) => TryGet(key, out _);

    public bool TryGetNumber(string key, out double value)
    {
        value = 0;
        if (!TryGet(key, out var element)) return false;
        if (element.ValueKind != JsonValueKind.Number)
            throw Error(key, $"must be a number, found {Describe(element)}");
        value = element.GetDouble();
        return true;
    }

    public bool TryGetInt(string key, out int value)
    {
        value = 0;
        if (!TryGetNumber(key, out var number)) return false;
        if (number != Math.Floor(number) || number < int.MinValue || number > int.MaxValue)
            throw Error(key, $"must be an integer, found {number}");
        value = (int)number;
        return true;
    }

    public bool TryGetBool(string key, out bool value)
    {
        value = false;
        if (!TryGet(key, out var element)) return false;
        if (element.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            throw Error(key, $"must be true or false, found {Describe(element)}");
        value = element.GetBoolean();
        return true;
    }

    public bool TryGetString(string key, out string value)
    {
        value = "";
        if (!TryGet(key, out var element)) return false;
        if (element.ValueKind != JsonValueKind.String)
            throw Error(key, $"must be a string, found {Describe(element)}");
        value = element.GetString()!;
        return true;
    }

    public int GetInt(string key) => TryGetInt(key, out var v) ? v : throw Missing(key);

    public double GetDouble(string key) => TryGetNumber(key, out var v) ? v : throw Missing(key);

    public bool GetBool(string key) => TryGetBool(key, out var v) ? v : throw Missing(key);

    public string GetString(string key) => TryGetString(key, out var v) ? v : throw Missing(key);

    /// <summary>An int or a list of ints (eos_token_id); null when absent.</summary>
    public int[]? GetIntOrIntList(string key)
    {
        if (!TryGet(key, out var element)) return null;
        if (element.ValueKind == JsonValueKind.Number) return [GetInt(key)];
        if (element.ValueKind != JsonValueKind.Array)
            throw Error(key, $"must be an integer or a list of integers, found {Describe(element)}");
        var result = new int[element.GetArrayLength()];
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out result[i++]))
                throw Error(key, $"must be an integer or a list of integers, found {Describe(item)} in the list");
        }
        return result;
    }

    /// <summary>A list of strings (architectures); empty when absent.</summary>
    public string[] GetStringList(string key)
    {
        if (!TryGet(key, out var element)) return [];
        if (element.ValueKind != JsonValueKind.Array)
            throw Error(key, $"must be a list of strings, found {Describe(element)}");
        return element.EnumerateArray().Select(item => item.ValueKind == JsonValueKind.String
            ? item.GetString()!
            : throw Error(key, $"must be a list of strings, found {Describe(item)} in the list")).ToArray();
    }

    private CheckpointException Missing(string key) => Error(key, "is missing and has no default");

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{element.GetString()}\"",
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        _ => element.GetRawText(),
    };
}
