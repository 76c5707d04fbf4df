#!/usr/bin/env python3
"""Renders small Jinja snippets with jinja2 configured exactly as transformers configures it for chat templates
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, transformers' tojson, raise_exception),
writing tests/Text.Tests/Templates/Fixtures/jinja_cases.jsonl: one {"name", "template", "context", "output"|"error"}
per line. The C# interpreter's unit tests render the same snippets and must agree byte for byte (and raise where
jinja2 raises). Needs only jinja2 (no transformers):  python3 scripts/reference/chat_template_jinja_cases.py
"""
import json
import pathlib

import jinja2
import jinja2.ext
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "Text.Tests" / "Templates" / "Fixtures" / "jinja_cases.jsonl"


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

CTX = {
    "s": "Hello, World",
    "u": "héllo 🌍 wörld",
    "n": 7,
    "f": 2.5,
    "neg": -3,
    "t": True,
    "nil": None,
    "xs": [3, 1, 2],
    "words": ["b", "A", "c", "a"],
    "empty": [],
    "d": {"b": 1, "a": 2, "items": "key named items"},
    "msgs": [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]},
        {"role": "tool", "content": "42"},
        {"role": "user", "content": "  bye  "},
    ],
    "nested": {"a": {"b": [10, 20, {"c": "deep"}]}},
    "tool": {"type": "function", "function": {"name": "get", "description": "Gets — «ü» \"q\" \\ \n\t", "parameters": {
        "type": "object", "properties": {"x": {"type": "number", "default": 0.5}, "y": {"type": ["string", "null"]}}, "required": []}}},
    "floats": [1.0, 0.1, 1e-05, 1e16, 123456789.125, -0.0, 3.0e-4],
}

CASES = {
    # whitespace control, trim_blocks / lstrip_blocks, comments, raw
    "ws_trim_blocks": "{% if t %}\nyes\n{% endif %}\nend",
    "ws_lstrip_blocks": "a\n    {% if t %}\n    b\n    {% endif %}\nc",
    "ws_minus_both": "a   {%- if t -%}   b   {%- endif -%}   c",
    "ws_variable_minus": "x  {{- s -}}  y\n  {{ n }}  \n",
    "ws_plus_keeps": "a\n    {%+ if t %}b{% endif +%}\nc",
    "ws_comment": "a\n  {# comment #}\nb {#- c -#} c",
    "ws_trailing_newline": "line\n",
    "ws_two_trailing_newlines": "line\n\n",
    "ws_crlf": "a\r\n{% if t %}\r\nb\r\n{% endif %}\r\n",
    "ws_variable_no_trim": "{{ n }}\n{{ n }}\n",
    "ws_indented_output": "  {{ n }}\n  {% if t %}x{% endif %}\n",
    "raw_block": "{% raw %}{{ not parsed }} {% if %}{% endraw %}!",
    "raw_block_ws": "a\n  {%- raw -%}  {{ x }}  {%- endraw -%}\n  b",
    "text_braces": "a { b } c {x} %} }}",
    # literals and printing (Python str/repr)
    "print_types": "{{ n }}|{{ f }}|{{ t }}|{{ nil }}|{{ xs }}|{{ d }}|{{ (1, 'a') }}|{{ (1,) }}|{{ [] }}|{{ {} }}",
    "print_strings_in_list": "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'tab\\t', 'nl\\n', 'bs\\\\', 'é', 'ü🌍'] }}",
    "print_floats": "{% for x in floats %}{{ x }} {% endfor %}",
    "print_undefined": "[{{ nothing }}][{{ d.missing }}][{{ xs[10] }}]",
    "literals": "{{ 1_000 }} {{ 1.5e3 }} {{ 'a' 'b' \"c\" }} {{ true }} {{ True }} {{ none }} {{ None }}",
    "string_escapes": "{{ 'a\\nb\\tc\\\\d\\'e\\u00e9\\x41' }}",
    # arithmetic and operators
    "arith": "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 1.5 * 2 }}",
    "arith_bool": "{{ true + 1 }} {{ t * 3 }} {{ 1 == 1.0 }} {{ true == 1 }}",
    "unary": "{{ -n }} {{ -neg }} {{ +n }} {{ -2 ** 2 }} {{ not t }} {{ not nil }}",
    "concat": "{{ 'a' ~ 1 ~ nil ~ t ~ nothing ~ xs }}",
    "string_plus": "{{ s + '!' }} {{ xs + [4] }} {{ 'ab' * 3 }} {{ [0] * 2 }}",
    "compare": "{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ n >= 7 }} {{ n != 7 }}",
    "in_ops": "{{ 'ell' in s }} {{ 2 in xs }} {{ 5 not in xs }} {{ 'a' in d }} {{ 'z' in d }} {{ 'x' in nothing }}",
    "and_or_values": "{{ 0 or 'x' }} {{ 'a' and 'b' }} {{ nil or [] }} {{ '' and 1 }}",
    "ternary": "{{ 'yes' if t else 'no' }} {{ 'yes' if nil else 'no' }} [{{ 'only' if nil }}] {{ 1 if false else 2 if false else 3 }}",
    "filter_precedence": "{{ '  a  ' | trim + 'b' }} {{ -3 | abs }} {{ xs | length * 2 }} {{ 'x' ~ xs|length }}",
    "error_str_plus_int": "{{ 'a' + 1 }}",
    "error_str_plus_none": "{{ s + nil }}",
    "error_in_none": "{{ 'a' in nil }}",
    "error_int_in_str": "{{ 1 in s }}",
    "error_compare_mixed": "{{ 1 < 'a' }}",
    "error_div_zero": "{{ 1 / 0 }}",
    "error_undefined_plus": "{{ nothing + 1 }}",
    # attribute / item access
    "attr_item": "{{ d.a }} {{ d['b'] }} {{ nested.a.b[2].c }} {{ nested['a']['b'][-1]['c'] }} {{ xs.0 }} {{ msgs[1].role }}",
    "attr_dict_method_shadow": "{{ d['items'] }} {{ d.items() | list }}",
    "attr_on_none_is_undefined": "[{{ nil.foo }}] {{ nil.foo is defined }}",
    "attr_on_str": "[{{ s.foo }}] {{ s[0] }} {{ s[-1] }} {{ u[1] }} {{ u[6] }}",
    "error_attr_of_undefined": "{{ nothing.foo }}",
    "error_item_of_undefined": "{{ nothing['x'] }}",
    "error_call_undefined": "{{ nothing() }}",
    "slices": "{{ xs[::-1] }} {{ xs[1:] }} {{ xs[:-1] }} {{ xs[::2] }} {{ s[:5] }} {{ s[::-1] }} {{ u[::-1] }} {{ xs[5:] }} {{ xs[-100:100] }} {{ s[7:-1:2] }}",
    "slice_msgs": "{% for m in msgs[1:] %}{{ m.role }},{% endfor %}",
    # tests
    "tests_types": "{{ n is number }}{{ t is number }}{{ t is boolean }}{{ n is integer }}{{ t is integer }}{{ f is float }}{{ s is string }}{{ d is mapping }}{{ xs is mapping }}",
    "tests_iterable": "{{ s is iterable }}{{ xs is iterable }}{{ d is iterable }}{{ n is iterable }}{{ nothing is iterable }}{{ nil is iterable }}{{ s is sequence }}{{ n is sequence }}",
    "tests_defined": "{{ n is defined }}{{ nothing is defined }}{{ nothing is undefined }}{{ nil is none }}{{ nil is not none }}{{ d.zz is defined }}{{ msgs[2].tool_calls is defined }}",
    "tests_true_false": "{{ t is true }}{{ t is false }}{{ 1 is true }}{{ false is false }}{{ 0 is false }}{{ nothing is false }}",
    "tests_compare": "{{ n is eq 7 }}{{ n is equalto 7 }}{{ n is ne 7 }}{{ n is gt 3 }}{{ n is lt 3 }}{{ n is ge 7 }}{{ n is le 6 }}{{ n is divisibleby 7 }}{{ n is odd }}{{ n is even }}",
    "tests_in_sameas": "{{ 2 is in xs }}{{ nil is sameas none }}{{ t is sameas true }}{{ 'a' is lower }}{{ 'A' is upper }}{{ s is callable }}{{ range is callable }}",
    "tests_with_not_and": "{{ nothing is not defined and n is defined }}",
    # filters
    "f_tojson": "{{ tool | tojson }}",
    "f_tojson_indent": "{{ tool | tojson(indent=4) }}",
    "f_tojson_indent2_sort": "{{ d | tojson(indent=2, sort_keys=true) }}|{{ empty | tojson(indent=2) }}|{{ {} | tojson(indent=2) }}",
    "f_tojson_scalars": "{{ nil|tojson }} {{ t|tojson }} {{ f|tojson }} {{ 'é\"<>&'|tojson }} {{ floats|tojson }} {{ (1,2)|tojson }}",
    "f_tojson_ensure_ascii": "{{ u | tojson(ensure_ascii=true) }}",
    "f_tojson_separators": "{{ d | tojson(separators=(',', ':')) }}",
    "error_tojson_undefined": "{{ nothing | tojson }}",
    "f_trim": "[{{ '  a b \\n' | trim }}] [{{ nil | trim }}] [{{ nothing | trim }}] [{{ 'xxaxx' | trim('x') }}]",
    "f_length": "{{ s|length }} {{ u|length }} {{ xs|length }} {{ d|length }} {{ nothing|length }} {{ xs|count }}",
    "f_case": "{{ s|lower }} {{ s|upper }} {{ 'hello wORLD-foo(bar' | title }} {{ 'hELLO world' | capitalize }}",
    "f_default": "{{ nothing|default('dflt') }} {{ nil|default('dflt') }} {{ ''|default('dflt', true) }} {{ n|d(0) }} [{{ nothing|default }}]",
    "f_first_last": "{{ xs|first }} {{ xs|last }} {{ s|first }} {{ s|last }} [{{ empty|first }}] {{ d|first }}",
    "f_join": "{{ xs|join(', ') }} {{ words|join }} {{ msgs|join('|', attribute='role') }} {{ [1, nil, 'a']|join('-') }}",
    "f_replace": "{{ s|replace('l', 'L') }} {{ s|replace('l', 'L', 2) }} {{ 'abc'|replace('', '-') }}",
    "f_list": "{{ s[:3]|list }} {{ d|list }} {{ xs|list }}",
    "f_items": "{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %} {{ nothing|items|list }}",
    "f_string_int_float": "{{ n|string + 'x' }} {{ '42'|int + 1 }} {{ '3.9'|int }} {{ 'x'|int }} {{ 'x'|int(5) }} {{ 3.9|int }} {{ '1.5'|float }} {{ 'a'|float }} {{ nil|int }} {{ '0x1A'|int(0, 16) }}",
    "f_escape_safe": "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|escape }} {{ '<b>'|safe }}",
    "f_abs_round": "{{ -2|abs }} {{ -2.5|abs }} {{ 2.5|round }} {{ 3.14159|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ -2.5|round }}",
    "f_reverse_sort": "{{ xs|reverse|list }} {{ s|reverse }} {{ xs|sort }} {{ words|sort }} {{ words|sort(case_sensitive=true) }} {{ xs|sort(reverse=true) }} {{ msgs|sort(attribute='role')|map(attribute='role')|join(',') }}",
    "f_unique_min_max_sum": "{{ [1, 2, 1, 3, 2]|unique|list }} {{ words|unique|list }} {{ xs|min }} {{ xs|max }} {{ words|max }} {{ xs|sum }} {{ [1.5, 2]|sum }}",
    "f_select_reject": "{{ xs|select('odd')|list }} {{ xs|reject('odd')|list }} {{ [0, 1, '', 'a', nil]|select|list }} {{ xs|select('gt', 1)|list }}",
    "f_selectattr": "{{ msgs|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ msgs|rejectattr('content')|map(attribute='role')|list }} {{ msgs|selectattr('tool_calls', 'defined')|list|length }}",
    "f_map": "{{ words|map('upper')|list }} {{ msgs|map(attribute='role')|join(' ') }} {{ xs|map('string')|join }} {{ msgs|map(attribute='name', default='?')|join }}",
    "f_dictsort": "{% for k, v in d|dictsort %}{{ k }}:{{ v }} {% endfor %}",
    "f_indent": "{{ 'a\\nb\\n\\nc'|indent(2) }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}",
    "f_center_wordcount_batch": "[{{ 'ab'|center(6) }}] {{ 'one two, three'|wordcount }} {{ xs|batch(2)|list }}",
    "f_attr": "{{ d|attr('a') }} [{{ d|attr('zz') }}]",
    "filter_block": "{% filter upper %}hello {{ s }}{% endfilter %}",
    "error_unknown_filter": "{{ s | no_such_filter }}",
    # string methods
    "m_split": "{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }} {{ '  x  '.split(' ') }}",
    "m_strip": "[{{ '  x  '.strip() }}][{{ '  x  '.lstrip() }}][{{ '  x  '.rstrip() }}][{{ '\\n\\nx\\n'.strip('\\n') }}][{{ 'xyhixy'.strip('xy') }}]",
    "m_starts_ends": "{{ s.startswith('Hell') }} {{ s.endswith('xx') }} {{ s.startswith(('x', 'H')) }} {{ s.endswith('World') }}",
    "m_case": "{{ s.upper() }} {{ s.lower() }} {{ \"they're bill's\".title() }} {{ 'hello world'.capitalize() }}",
    "m_find_count_replace": "{{ s.find('o') }} {{ s.rfind('o') }} {{ s.find('z') }} {{ u.find('w') }} {{ s.count('l') }} {{ s.replace('o', '0') }} {{ s.replace('l', '', 1) }}",
    "m_join_misc": "{{ '-'.join(words) }} {{ '42'.isdigit() }} {{ 'ab'.isalpha() }} {{ ' '.isspace() }} {{ '7'.zfill(3) }} {{ 'a\\nb\\n'.splitlines() }}",
    "m_dict": "{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 5) }} {{ d.keys()|list }} {{ d.values()|list }} {% for k, v in d.items() %}{{ k }}{% endfor %}",
    "m_list": "{{ xs.index(2) }} {{ xs.count(3) }}",
    "error_list_append": "{{ xs.append(4) }}",
    "m_think_split": "{% set c = '<think>\\nreason\\n</think>\\n\\nanswer' %}{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
    # for loops
    "for_loop_vars": "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
    "for_else": "{% for x in empty %}{{ x }}{% else %}none{% endfor %}{% for x in xs %}{{ x }}{% else %}none{% endfor %}",
    "for_filter": "{% for x in xs if x > 1 %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}",
    "for_unpack": "{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}{% for a, b in [(1, 2), [3, 4]] %}{{ a + b }}{% endfor %}",
    "for_dict_keys": "{% for k in d %}{{ k }}{% endfor %}",
    "for_string": "{% for c in 'abc' %}{{ c }}.{% endfor %}",
    "for_break_continue": "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x > 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
    "for_nested_loop": "{% for a in [1, 2] %}{% for b in 'xy' %}{{ loop.index }}{{ b }}{% endfor %}{{ loop.index }}|{% endfor %}",
    "for_prev_next_cycle": "{% for x in xs %}{{ loop.previtem }}>{{ x }}<{{ loop.nextitem }} {{ loop.cycle('odd', 'even') }};{% endfor %}",
    "for_over_undefined": "[{% for x in nothing %}{{ x }}{% endfor %}]",
    "error_for_over_int": "{% for x in n %}{% endfor %}",
    "for_scope": "{% set x = 0 %}{% for i in [1, 2] %}[{{ x }}]{% set x = i %}({{ x }}){% endfor %}{{ x }}",
    "for_reversed_index": "{% for m in msgs[::-1] %}{{ (msgs|length - 1) - loop.index0 }}{{ m.role[0] }} {% endfor %}",
    "for_range": "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }}",
    "loop_changed": "{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}",
    # set, namespace, macros, call, with
    "set_basic": "{% set a = 1 %}{% set b, c = 2, 3 %}{% set t2 = 4, 5 %}{{ a }}{{ b }}{{ c }}{{ t2 }}",
    "set_if_leaks": "{% if t %}{% set z = 3 %}{% endif %}{{ z }}",
    "set_block": "{% set x %}  hi {{ n }} {% endset %}[{{ x }}]{% set y | upper %}abc{% endset %}{{ y }}",
    "namespace": "{% set ns = namespace(count=0, found=false) %}{% for x in xs %}{% set ns.count = ns.count + x %}{% if x == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.count }} {{ ns.found }}",
    "namespace_from_dict": "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}",
    "error_set_attr_non_namespace": "{% set d.x = 1 %}",
    "macro": "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} {{ greet('Al', punct='?') }} {{ greet(name='Cy') }}",
    "macro_scope": "{% set y = 1 %}{% macro m() %}{{ y }}{% endmacro %}{% set y = 5 %}{{ m() }}",
    "macro_varargs_kwargs": "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}",
    "call_block": "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ n }}{% endcall %}",
    "call_block_args": "{% macro each(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(x) each(xs) %}[{{ x }}]{% endcall %}",
    "with_block": "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]",
    "dict_global": "{{ dict(a=1, b='x') }} {{ dict([('k', 'v')]) }}",
    "joiner": "{% set j = joiner(' | ') %}{% for x in xs %}{{ j() }}{{ x }}{% endfor %}",
    "raise_exception": "{{ raise_exception('Custom error: ' ~ n) }}",
    "raise_in_branch_not_taken": "{% if false %}{{ raise_exception('no') }}{% endif %}ok",
    "dict_literal_in_tag": "{{ {'a': {'b': 1}} }}{{ {'a': 1}['a'] }}",
    "list_literal_trailing_comma": "{{ [1, 2,] }} {{ {'a': 1,} }}",
    # errors with positions
    "error_unclosed_if": "{% if t %}x",
    "error_unknown_tag": "line1\n{% frobnicate %}",
    "error_include": "{% include 'other.html' %}",
    "error_unexpected_endfor": "{% endfor %}",
    "error_bad_expression": "{{ 1 + }}",
    "error_unclosed_variable": "{{ n ",
    "error_unterminated_string": "{{ 'abc }}",
    "error_elif_after_else": "{% if t %}a{% else %}b{% elif t %}c{% endif %}",
}


def main():
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as f:
        for name, source in CASES.items():
            row = {"name": name, "template": source}
            try:
                row["output"] = env.from_string(source).render(**CTX)
            except Exception as e:  # syntax errors, runtime errors, raise_exception
                row["error"] = f"{type(e).__name__}: {e}"
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    (OUT.parent / "jinja_context.json").write_text(json.dumps(CTX, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"jinja2 {jinja2.__version__}: {len(CASES)} cases -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
