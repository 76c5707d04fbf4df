using System.Text.Json;

namespace Compiler.Runtime.Text;

/// <summary>
/// The fields of a Hugging Face <c>tokenizer_config.json</c> the tokenizer uses: the named special tokens. A token
/// may be written as a string or as an AddedToken object with a "content" field. (The chat template is read by
/// <see cref="Templates.ChatTemplate.Load"/>.)
/// </summary>
internal sealed record TokenizerConfig(string? BosToken, string? EosToken, string? PadToken, string? UnkToken)
{
    public static TokenizerConfig Empty { get; } = new(null, null, null, null);

    public static TokenizerConfig Load(string path)
    {
        using var doc = TokenizerJson.Parse(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new InvalidDataException($"{path}: expected a JSON object at the top level.");
        return new TokenizerConfig(
            TokenContent(root, "bos_token", path), TokenContent(root, "eos_token", path),
            TokenContent(root, "pad_token", path), TokenContent(root, "unk_token", path));
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
}
