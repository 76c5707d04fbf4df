using System.Text.Json.Nodes;
using Compiler.Runtime.Text.Templates;

namespace Compiler.Text.Tests.Templates;

/// <summary>Behaviour the jinja2 corpus cannot pin down: error positions and messages, the ChatTemplate contract
/// (what transformers passes to the template), JSON typing of inputs, the clock, Python number formatting.</summary>
public sealed class TemplateBehaviourTests
{
    private static string Render(string source, string json = "{}") =>
        Template.Parse(source).Render(JsonNode.Parse(json)!.AsObject());

    [Theory]
    [InlineData("line1\n{% frobnicate %}", 2, 4, "frobnicate")]
    [InlineData("{% include 'x' %}", 1, 4, "include")]
    [InlineData("ab\n  {{ 1 + }}", 2, 10, "Unexpected")]
    [InlineData("{% if true %}\nx", 2, 2, "endif")]
    [InlineData("{{ x | no_such }}", 1, 8, "no_such")]
    [InlineData("{% for x in y recursive %}{% endfor %}", 1, 15, "recursive")]
    [InlineData("{{ 'unterminated }}", 1, 4, "Unterminated string")]
    [InlineData("{# never closed", 1, 1, "comment")]
    [InlineData("a\n\n   {{ 'x'.format(1) }}", 3, 10, "format")]
    public void Errors_name_the_construct_and_its_position(string source, int line, int column, string mention)
    {
        var ex = Assert.Throws<TemplateException>(() => Render(source, """{"y": []}"""));
        Assert.Equal((line, column), (ex.Line, ex.Column));
        Assert.Contains(mention, ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"line {line}, column {column}", ex.Message);
    }

    // Expected outputs from jinja2 3.1.6 with transformers' settings (trim_blocks, lstrip_blocks): jinja2 matches
    // whitespace with Python's \s (str.isspace) in tags, in '-' stripping, in lstrip_blocks and around raw/endraw.
    [Theory]
    [InlineData("{%\fraw\f%}{{ y }}{%\fendraw\f%}", "{{ y }}")]
    [InlineData("{%\u00a0raw\u3000%}{{ y }}{%\u2003endraw\v%}", "{{ y }}")]
    [InlineData("a \f{%-\u001craw\u001c-%}\u001c {{ y }} \u00a0{%-\u001cendraw\u001c-%}\u3000b", "a{{ y }}b")]
    [InlineData("a\n\v\u00a0{% if true %}x{% endif %}", "a\nx")]
    [InlineData("a\n\u0085{% if true %}x{% endif %}", "a\nx")]
    [InlineData("a \u001c\u00a0{%- if true %}x{% endif %}", "ax")]
    [InlineData("{% if true -%}\u001c\u3000 x{% endif %}", "x")]
    [InlineData("{{\f'q'\u3000}}", "q")]
    public void Whitespace_is_python_whitespace_as_in_jinja2(string source, string expected) =>
        Assert.Equal(expected, Render(source));

    [Fact]
    public void PyStr_IsSpace_is_python_str_isspace_on_the_BMP()
    {
        // [hex(c) for c in range(0x10000) if chr(c).isspace()] in CPython 3.11.
        int[] python = [0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003,
            0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];
        var ours = Enumerable.Range(0, 0x10000).Where(c => PyStr.IsSpace((char)c)).ToArray();
        Assert.Equal(python, ours);
    }

    [Fact]
    public void Runtime_errors_carry_the_python_message_and_position()
    {
        var ex = Assert.Throws<TemplateException>(() => Render("ok\n{{ m.content + '!' }}", """{"m": {"content": null}}"""));
        Assert.Equal(2, ex.Line);
        Assert.Contains("unsupported operand type(s) for +: 'NoneType' and 'str'", ex.Message);

        var undefined = Assert.Throws<TemplateException>(() => Render("{{ missing.attr }}"));
        Assert.Contains("'missing' is undefined", undefined.Message);
    }

    [Fact]
    public void Raise_exception_is_marked_as_raised_by_the_template()
    {
        var ex = Assert.Throws<TemplateException>(() => Render("{{ raise_exception('Only user and assistant roles') }}"));
        Assert.True(ex.RaisedByTemplate);
        Assert.Equal("Only user and assistant roles", ex.Reason);
    }

    [Fact]
    public void Json_numbers_keep_their_python_type()
    {
        Assert.Equal("1 1.0 1e-05 100000.0 3 [1, 2.5, None, True]",
            Render("{{ a }} {{ b }} {{ c }} {{ e }} {{ a + 2 }} {{ l }}", """{"a": 1, "b": 1.0, "c": 0.00001, "e": 1e5, "l": [1, 2.5, null, true]}"""));
        Assert.Equal("""{"a": 1, "b": 1.0, "c": 1e-05}""", Render("{{ x | tojson }}", """{"x": {"a": 1, "b": 1.0, "c": 0.00001}}"""));
    }

    [Theory]
    [InlineData(0.1, "0.1")]
    [InlineData(1e22, "1e+22")]
    [InlineData(1234567890123456.0, "1234567890123456.0")]
    [InlineData(12345678901234567.0, "1.2345678901234568e+16")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00012, "0.00012")]
    [InlineData(-1.5e-7, "-1.5e-07")]
    [InlineData(double.PositiveInfinity, "inf")]
    public void Floats_print_like_python_repr(double value, string expected) =>
        Assert.Equal(expected, PyFormat.FloatRepr(value));

    [Fact]
    public void Strftime_now_reads_the_pinned_clock()
    {
        var t = Template.Parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%Y-%m-%d %H:%M:%S %A') }}")
            .WithClock(() => new DateTime(2024, 7, 5, 13, 4, 9));
        Assert.Equal("05 Jul 2024|2024-07-05 13:04:09 Friday", t.Render(new JsonObject()));
    }

    [Fact]
    public void Chat_template_passes_what_transformers_passes()
    {
        // tools and documents are always defined (None when absent), add_generation_prompt defaults to False,
        // special tokens come from the tokenizer config and caller variables override them.
        var template = new ChatTemplate(
            "{{ tools is defined }}/{{ tools is none }}/{{ documents is none }}/{{ add_generation_prompt }}/{{ bos_token }}/{{ eos_token }}/{{ extra | default('-') }}",
            new Dictionary<string, string> { ["bos_token"] = "<s>", ["eos_token"] = "</s>" });
        Assert.Equal("True/True/True/False/<s>/</s>/-", template.Render(new JsonObject { ["messages"] = new JsonArray() }));
        Assert.Equal("True/False/True/True/<s>/X/7", template.Render(new JsonObject
        {
            ["messages"] = new JsonArray(), ["tools"] = new JsonArray(), ["add_generation_prompt"] = true, ["eos_token"] = "X", ["extra"] = 7,
        }));
        Assert.Throws<ArgumentException>(() => template.Render(new JsonObject()));
    }

    [Fact]
    public void Loads_the_real_tokenizer_configs()
    {
        var qwen = ChatTemplate.Load(TemplateTestPaths.TokenizerDir("qwen3"));
        Assert.Null(qwen.BosToken);
        Assert.Equal("<|im_end|>", qwen.EosToken);
        var llama = ChatTemplate.Load(Path.Combine(TemplateTestPaths.TokenizerDir("llama3"), "tokenizer_config.json"));
        Assert.Equal("<|begin_of_text|>", llama.BosToken);
        Assert.StartsWith("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
            llama.Render(new JsonArray(new JsonObject { ["role"] = "user", ["content"] = " Hi " }), addGenerationPrompt: true));
    }

    [Fact]
    public void Qwen3_thinking_switch_and_tool_round_trip()
    {
        var qwen = ChatTemplate.Load(TemplateTestPaths.TokenizerDir("qwen3"));
        var user = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "2+2?" });
        Assert.Equal("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
            qwen.Render(user, addGenerationPrompt: true, extra: new JsonObject { ["enable_thinking"] = false }));
        Assert.Equal("<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n",
            qwen.Render(user, addGenerationPrompt: true, extra: new JsonObject { ["enable_thinking"] = true }));

        var messages = JsonNode.Parse("""
            [{"role": "user", "content": "Weather?"},
             {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {"name": "w", "arguments": "{\"city\": \"Oslo\"}"}}]},
             {"role": "tool", "content": "cold"}, {"role": "tool", "content": "windy"}]
            """)!.AsArray();
        var prompt = qwen.Render(messages, addGenerationPrompt: true);
        Assert.Contains("<tool_call>\n{\"name\": \"w\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call><|im_end|>\n", prompt);
        Assert.EndsWith("<|im_start|>user\n<tool_response>\ncold\n</tool_response>\n<tool_response>\nwindy\n</tool_response><|im_end|>\n<|im_start|>assistant\n", prompt);
    }

    [Fact]
    public void Named_templates_pick_tool_use_when_tools_are_given()
    {
        var dir = Directory.CreateTempSubdirectory("chat-template-test");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "tokenizer_config.json"), """
                {"eos_token": {"content": "<eos>", "special": true},
                 "chat_template": [{"name": "default", "template": "plain{{ eos_token }}"}, {"name": "tool_use", "template": "tools:{{ tools | length }}"}]}
                """);
            var t = ChatTemplate.Load(dir.FullName);
            Assert.Equal("plain<eos>", t.Render(new JsonArray()));
            Assert.Equal("tools:1", t.Render(new JsonArray(), tools: new JsonArray(new JsonObject { ["type"] = "function" })));

            // chat_template.jinja next to the config wins, as in recent transformers.
            File.WriteAllText(Path.Combine(dir.FullName, "chat_template.jinja"), "from file\n");
            Assert.Equal("from file", ChatTemplate.Load(dir.FullName).Render(new JsonArray()));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_parsed_template_renders_concurrently()
    {
        var t = Template.Parse("{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}");
        var results = new string[64];
        Parallel.For(0, results.Length, i => results[i] = t.Render(new JsonObject { ["xs"] = new JsonArray(1, 2, i) }));
        for (var i = 0; i < results.Length; i++)
            Assert.Equal((3 + i).ToString(), results[i]);
    }
}
