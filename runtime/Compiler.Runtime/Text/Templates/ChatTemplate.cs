using System.Text.Json;
using System.Text.Json.Nodes;

namespace Compiler.Runtime.Text.Templates;

/// <summary>
/// A model's chat template, from its tokenizer directory, rendered the way transformers'
/// <c>apply_chat_template(messages, tools=..., add_generation_prompt=..., **kwargs)</c> renders it: the template
/// sees <c>messages</c>, <c>tools</c> (None when absent), <c>documents</c> (None), <c>add_generation_prompt</c>
/// (False when absent), the tokenizer's special tokens (<c>bos_token</c>, <c>eos_token</c>, ...) and any other
/// variable the caller passes (<c>enable_thinking</c>, <c>date_string</c>, ...), which override the tokens.
/// </summary>
internal sealed class ChatTemplate
{
    private static readonly string[] SpecialTokenKeys =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    private readonly Template _default;
    private readonly Template? _toolUse;
    private readonly IReadOnlyDictionary<string, Value> _specialTokens;

    public ChatTemplate(string template, IReadOnlyDictionary<string, string> specialTokens, string? toolUseTemplate = null)
    {
        _default = Template.Parse(template);
        _toolUse = toolUseTemplate is null ? null : Template.Parse(toolUseTemplate);
        _specialTokens = specialTokens.ToDictionary(kv => kv.Key, kv => (Value)new StringValue(kv.Value));
        BosToken = specialTokens.GetValueOrDefault("bos_token");
        EosToken = specialTokens.GetValueOrDefault("eos_token");
    }

    public string Source => _default.Source;

    public string? BosToken { get; }

    public string? EosToken { get; }

    /// <summary>The clock <c>strftime_now</c> reads (tests pin it).</summary>
    public Func<DateTime> Clock { get; init; } = () => DateTime.Now;

    /// <summary>
    /// Loads from a tokenizer directory (or a tokenizer_config.json path): the template is <c>chat_template.jinja</c>
    /// when present, else <c>chat_template</c> in tokenizer_config.json (a string, or a list of named templates where
    /// "default" and "tool_use" are used); special tokens come from tokenizer_config.json.
    /// </summary>
    public static ChatTemplate Load(string tokenizerDirOrConfig)
    {
        var configPath = Directory.Exists(tokenizerDirOrConfig) ? Path.Combine(tokenizerDirOrConfig, "tokenizer_config.json") : tokenizerDirOrConfig;
        var dir = Path.GetDirectoryName(Path.GetFullPath(configPath))!;
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"No tokenizer_config.json at '{configPath}'; pass the model's tokenizer directory", configPath);
        JsonObject config;
        try
        {
            config = JsonNode.Parse(File.ReadAllText(configPath))?.AsObject() ?? throw new InvalidDataException("not a JSON object");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or InvalidDataException)
        {
            throw new InvalidDataException($"'{configPath}' is not a valid tokenizer_config.json: {e.Message}", e);
        }

        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var key in SpecialTokenKeys)
        {
            var node = config[key];
            var text = node switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonObject o when o["content"] is JsonValue c && c.TryGetValue<string>(out var s) => s,
                _ => null,
            };
            if (text is not null)
                tokens[key] = text;
        }

        string? template = null, toolUse = null;
        var jinjaFile = Path.Combine(dir, "chat_template.jinja");
        if (File.Exists(jinjaFile))
            template = File.ReadAllText(jinjaFile);
        else if (config["chat_template"] is JsonValue tv && tv.TryGetValue<string>(out var single))
            template = single;
        else if (config["chat_template"] is JsonArray named)
        {
            foreach (var entry in named.OfType<JsonObject>())
            {
                var name = entry["name"]?.GetValue<string>();
                var body = entry["template"]?.GetValue<string>();
                if (name == "default")
                    template = body;
                else if (name == "tool_use")
                    toolUse = body;
            }
            template ??= toolUse;
        }
        if (template is null)
            throw new InvalidDataException($"'{configPath}' has no chat_template (and there is no chat_template.jinja next to it)");
        return new ChatTemplate(template, tokens, toolUse);
    }

    /// <summary>Renders one request: <paramref name="variables"/> holds <c>messages</c>, optional <c>tools</c>,
    /// <c>add_generation_prompt</c> and any other template variables.</summary>
    /// <exception cref="TemplateException">The template raised (raise_exception, a type error, an unsupported construct).</exception>
    public string Render(JsonObject variables)
    {
        if (variables["messages"] is not JsonArray)
            throw new ArgumentException("Chat template variables need 'messages': a JSON array of {role, content, ...} objects", nameof(variables));
        var values = new Dictionary<string, Value>(StringComparer.Ordinal)
        {
            ["tools"] = NoneValue.Instance,
            ["documents"] = NoneValue.Instance,
            ["add_generation_prompt"] = BoolValue.False,
        };
        foreach (var (k, v) in _specialTokens)
            values[k] = v;
        foreach (var (name, node) in variables)
            values[name] = ValueJson.FromNode(node);
        var template = _toolUse is not null && values["tools"] is ListValue { Count: > 0 } ? _toolUse : _default;
        return template.WithClock(Clock).Render(values);
    }

    public string Render(JsonArray messages, JsonArray? tools = null, bool addGenerationPrompt = false, JsonObject? extra = null)
    {
        var variables = new JsonObject { ["messages"] = messages.DeepClone(), ["add_generation_prompt"] = addGenerationPrompt };
        if (tools is not null)
            variables["tools"] = tools.DeepClone();
        if (extra is not null)
            foreach (var (k, v) in extra)
                variables[k] = v?.DeepClone();
        return Render(variables);
    }
}
