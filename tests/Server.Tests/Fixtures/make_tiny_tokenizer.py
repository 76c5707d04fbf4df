#!/usr/bin/env python3
"""Writes the tokenizer of the tiny-chat test model (standard library only, deterministic).

    python3 tests/Server.Tests/Fixtures/make_tiny_tokenizer.py [out_dir]   (default: tests/Server.Tests/Fixtures/tiny-chat)

tokenizer.json: a byte-level BPE in the Qwen2 layout with exactly 512 ids, matching the tiny checkpoint's vocab:
  0..255    the 256 byte tokens (GPT-2 byte-to-unicode alphabet, id = byte value)
  256..508  253 merges learned from the English text below
  509..511  <|endoftext|>, <|im_start|>, <|im_end|> (special added tokens)
tokenizer_config.json: a ChatML chat template, eos = <|im_end|>, pad = <|endoftext|>.
"""
import json
import os
import re
import sys
from collections import Counter

VOCAB_SIZE = 512
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
NUM_MERGES = VOCAB_SIZE - 256 - len(SPECIALS)

# Qwen2's split pattern, verbatim: the runtime's SplitPreTokenizer recognises exactly this string.
QWEN_PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""

# Python's re has no \p{L}; for learning merges on ASCII English an approximation of the same split is enough.
TRAIN_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d|[^\r\n\w]?[^\W\d_]+|\d| ?[^\s\w]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")

CORPUS = """
The quick brown fox jumps over the lazy dog. A serving engine schedules requests, batches them together and
streams tokens back to the clients as soon as they are generated. The scheduler keeps a queue of waiting
requests and a batch of running ones; every step it either prefills new prompts or decodes one more token for
each running request. When memory runs short, the least advanced requests are put back into the queue.
Hello, how are you today? I am fine, thank you. What is the weather like in the city? It is sunny and warm,
with a light wind from the west. The children are playing in the park while their parents talk about the news.
Once upon a time there was a little girl who lived in a village near the forest. Every morning she walked to
the river to fetch water for her mother. One day she met a wolf, who asked her where she was going.
The model reads the prompt, computes attention over all previous tokens and writes the keys and values of
every position into the cache, so that the next token only needs one more row. Sharing a prefix between
requests saves both memory and time: the system prompt of a chat is computed once and reused many times.
You are a helpful assistant. Please answer the question below in one short sentence. Thank you for your help!
There are many things to learn about language models, and the best way to learn them is to build one.
"""


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character map used by byte-level BPE."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\u00a1"), ord("\u00ac") + 1)) + list(range(ord("\u00ae"), ord("\u00ff") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def learn_merges(text, count, byte_map):
    words = Counter()
    for piece in TRAIN_SPLIT.findall(text):
        words[tuple(byte_map[b] for b in piece.encode("utf-8"))] += 1
    merges = []
    for _ in range(count):
        pairs = Counter()
        for word, freq in words.items():
            for a, b in zip(word, word[1:]):
                pairs[(a, b)] += freq
        if not pairs:
            break
        # Most frequent pair; ties go to the smallest pair, so the output never depends on dict order.
        best = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        merges.append(best)
        merged = best[0] + best[1]
        new_words = Counter()
        for word, freq in words.items():
            out, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                    out.append(merged)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            new_words[tuple(out)] += freq
        words = new_words
    return merges


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-chat")
    byte_map = bytes_to_unicode()
    vocab = {byte_map[b]: b for b in range(256)}
    merges = learn_merges(CORPUS, NUM_MERGES, byte_map)
    if len(merges) != NUM_MERGES:
        sys.exit(f"learned only {len(merges)} merges, need {NUM_MERGES}: extend CORPUS")
    for a, b in merges:
        vocab[a + b] = len(vocab)
    assert len(vocab) == 256 + NUM_MERGES, "a merge produced a token that already existed"
    added = [
        {"id": len(vocab) + i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": True}
        for i, s in enumerate(SPECIALS)
    ]
    assert added[-1]["id"] == VOCAB_SIZE - 1
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": QWEN_PATTERN}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
            ],
        },
        "post_processor": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "",
            "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": [[a, b] for a, b in merges],
        },
    }
    chat_template = (
        "{% for message in messages %}"
        "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
        "{% endfor %}"
        "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
    )
    config = {
        "add_bos_token": False,
        "added_tokens_decoder": {str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in added},
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": 256,
        "tokenizer_class": "Qwen2Tokenizer",
        "chat_template": chat_template,
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(f"wrote {out_dir}/tokenizer.json ({len(vocab)} model tokens + {len(added)} special = {VOCAB_SIZE} ids) and tokenizer_config.json")


if __name__ == "__main__":
    main()
