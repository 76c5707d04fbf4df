using System.Text.Json;

namespace Compiler.Runtime.Text;

/// <summary>
/// The fields of a Hugging Face <c>tokenizer_config.json</c> the runtime uses: the named special tokens and the
/// chat template. A token may be written as a string or as an AddedToken object with a "content" field.
/// </summary>
internal sealed record TokenizerConfig(
    string? BosToken, string? EosToken, string? PadToken, string? UnkToken, string? ChatTemplate)
{
    public static TokenizerConfig Empty { get; } = new(null, null, null, null, null);

    public static TokenizerConfig Load(string path)
    {
        using var doc = TokenizerJson.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected a JSON object at the top level.");
        return new TokenizerConfig(
            TokenContent(root, "bos_token", path), TokenContent(root, "eos_token", path),
            TokenContent(root, "pad_token", path), TokenContent(root, "unk_token", path),
            ChatTemplateOf(root, path));
    }

    private static string? TokenContent(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object when value.TryGetProperty("content", out var content)
                && content.ValueKind == JsonValueKind.String => content.GetString(),
            _ => throw new InvalidDataException(
                $"{path}: \"{name}\" must be a string, null or an object with a string \"content\"; got {value.ValueKind}."),
        };
    }

    /// <summary>The default chat template: a string, or the entry named "default" of a list of
    /// {name, template} objects.</summary>
    private static string? ChatTemplateOf(JsonElement root, string path)
    {
        if (!root.TryGetProperty("chat_template", out var value)) return null;
        if (value.ValueKind == JsonValueKind.String) return value.GetString();
        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (var entry in value.EnumerateArray())
                if (entry.ValueKind == JsonValueKind.Object && entry.TryGetProperty("name", out var n)
                    && n.ValueKind == JsonValueKind.String && n.GetString() == "default"
                    && entry.TryGetProperty("template", out var t) && t.ValueKind == JsonValueKind.String)
                    return t.GetString();
            return null;
        }
        if (value.ValueKind == JsonValueKind.Null) return null;
        throw new InvalidDataException($"{path}: \"chat_template\" must be a string or a list of {{name, template}}; got {value.ValueKind}.");
    }
}
