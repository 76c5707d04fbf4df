#!/usr/bin/env python3
"""Renders every case of chat_template_cases.jsonl with transformers' apply_chat_template, the ground truth the C#
Jinja interpreter (runtime/Compiler.Runtime/Text/Templates) is tested against.

Usage (from the repo root):  python3 scripts/reference/chat_template_reference.py .cache/tokenizers

Reads  <tokenizers>/{qwen3,llama3}/tokenizer_config.json (+ tokenizer.json)
Writes tests/Text.Tests/Templates/References/qwen3.chat.jsonl    (the Qwen3 template from its tokenizer_config.json)
       tests/Text.Tests/Templates/References/llama3.chat.jsonl   (the template shipped in the llama3 tokenizer_config.json)
       tests/Text.Tests/Templates/References/llama3.1.chat.jsonl (llama3 tokenizer + the Llama 3.1 tool-calling template
                                                                  in tests/Text.Tests/Templates/Fixtures/llama3.1.jinja)
One line per case: {"name": ..., "prompt": "..."} or {"name": ..., "error": "ExceptionType: message"}.
"""
import json
import pathlib
import sys

import jinja2
import transformers
from transformers import AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parents[2]
CASES = ROOT / "scripts" / "reference" / "chat_template_cases.jsonl"
OUT = ROOT / "tests" / "Text.Tests" / "Templates" / "References"
LLAMA31 = ROOT / "tests" / "Text.Tests" / "Templates" / "Fixtures" / "llama3.1.jinja"
RESERVED = {"name", "messages", "tools", "add_generation_prompt"}


def render(tokenizer, case, chat_template=None):
    extra = {k: v for k, v in case.items() if k not in RESERVED}
    try:
        prompt = tokenizer.apply_chat_template(
            case["messages"],
            tools=case.get("tools"),
            chat_template=chat_template,
            tokenize=False,
            add_generation_prompt=case.get("add_generation_prompt", False),
            **extra,
        )
        if not isinstance(prompt, str):
            raise TypeError(f"apply_chat_template returned {type(prompt).__name__}, expected str")
        return {"name": case["name"], "prompt": prompt}
    except Exception as e:  # the template raised (raise_exception, TypeError on None, ...): record it
        return {"name": case["name"], "error": f"{type(e).__name__}: {e}"}


def load_tokenizer(path):
    try:
        return AutoTokenizer.from_pretrained(str(path))
    except Exception as e:  # e.g. a slow tokenizer class that wants vocab files: the fast one reads tokenizer.json
        print(f"AutoTokenizer failed for {path} ({type(e).__name__}: {e}); using PreTrainedTokenizerFast")
        from transformers import PreTrainedTokenizerFast
        config = json.loads((path / "tokenizer_config.json").read_text(encoding="utf-8"))
        special = {k: v for k, v in config.items() if k.endswith("_token") and isinstance(v, str)}
        tok = PreTrainedTokenizerFast(tokenizer_file=str(path / "tokenizer.json"), **special)
        tok.chat_template = config.get("chat_template")
        return tok


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: chat_template_reference.py <tokenizers dir holding qwen3/ and llama3/>")
    tokenizers = pathlib.Path(sys.argv[1])
    cases = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}, {len(cases)} cases")
    targets = [
        ("qwen3", "qwen3", None),
        ("llama3", "llama3", None),
        ("llama3.1", "llama3", LLAMA31.read_text(encoding="utf-8")),
    ]
    for out_name, tok_dir, template in targets:
        tokenizer = load_tokenizer(tokenizers / tok_dir)
        rows = [render(tokenizer, case, template) for case in cases]
        path = OUT / f"{out_name}.chat.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        errors = sum("error" in r for r in rows)
        print(f"{path.relative_to(ROOT)}: {len(rows)} cases, {errors} raised")


if __name__ == "__main__":
    main()
