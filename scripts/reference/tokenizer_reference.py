#!/usr/bin/env python3
"""Writes the reference token ids the C# tokenizer is tested against.

Usage (on the GPU machine, from the repo root):
    python3 scripts/reference/tokenizer_reference.py .cache/tokenizers

For each tokenizer directory under the given root (qwen3, llama3), it encodes every line of
scripts/reference/tokenizer_corpus.jsonl (one JSON string per line) with the Python `tokenizers` library
(Tokenizer.from_file) and writes tests/Text.Tests/References/<name>.tokenize.jsonl, one JSON object per line:
    {"text": ..., "ids": [...] (add_special_tokens=True, as tokenizer.encode does by default),
     "ids_no_special": [...], "decoded": decode(ids, skip_special_tokens=False),
     "decoded_skip_special": decode(ids, skip_special_tokens=True),
     "decoded_transformers": AutoTokenizer's decode(ids) (applies clean_up_tokenization_spaces; absent if
      transformers could not load the tokenizer)}
Every encoding is cross-checked against transformers' AutoTokenizer; mismatches are printed and make the
script exit with status 1 (the files are still written).
"""
import json
import os
import sys

import tokenizers
from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "tokenizer_corpus.jsonl")
OUT_DIR = os.path.join(REPO, "tests", "Text.Tests", "References")


def load_corpus():
    texts = []
    with open(CORPUS, "r", encoding="utf-8", newline="") as f:
        for n, line in enumerate(f.read().split("\n"), 1):
            if line == "":
                continue
            value = json.loads(line)
            if not isinstance(value, str):
                raise SystemExit(f"{CORPUS}:{n}: expected a JSON string, got {type(value).__name__}")
            texts.append(value)
    return texts


def load_transformers(tok_dir):
    try:
        from transformers import AutoTokenizer
        return AutoTokenizer.from_pretrained(tok_dir)
    except Exception as e:  # the reference ids come from `tokenizers`; transformers is only a cross-check
        print(f"warning: transformers could not load {tok_dir}: {e!r}", file=sys.stderr)
        return None


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: tokenizer_reference.py <dir holding qwen3/ and llama3/ tokenizer dirs>")
    root = sys.argv[1]
    texts = load_corpus()
    os.makedirs(OUT_DIR, exist_ok=True)
    mismatches = 0
    for name in ("qwen3", "llama3"):
        tok_dir = os.path.join(root, name)
        tok = Tokenizer.from_file(os.path.join(tok_dir, "tokenizer.json"))
        hf = load_transformers(tok_dir)
        out_path = os.path.join(OUT_DIR, f"{name}.tokenize.jsonl")
        with open(out_path, "w", encoding="ascii", newline="\n") as out:
            for i, text in enumerate(texts):
                ids = tok.encode(text, add_special_tokens=True).ids
                ids_no_special = tok.encode(text, add_special_tokens=False).ids
                row = {
                    "text": text,
                    "ids": ids,
                    "ids_no_special": ids_no_special,
                    "decoded": tok.decode(ids, skip_special_tokens=False),
                    "decoded_skip_special": tok.decode(ids, skip_special_tokens=True),
                }
                if hf is not None:
                    hf_ids = hf.encode(text)
                    hf_ids_ns = hf.encode(text, add_special_tokens=False)
                    if list(hf_ids) != ids or list(hf_ids_ns) != ids_no_special:
                        mismatches += 1
                        print(f"MISMATCH {name} line {i + 1}: tokenizers={ids} transformers={list(hf_ids)}",
                              file=sys.stderr)
                    row["decoded_transformers"] = hf.decode(ids)
                out.write(json.dumps(row, ensure_ascii=True) + "\n")
        print(f"{name}: wrote {len(texts)} lines to {out_path} (tokenizers {tokenizers.__version__})")
    if mismatches:
        print(f"{mismatches} tokenizers/transformers mismatches", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
