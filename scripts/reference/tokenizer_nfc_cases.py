#!/usr/bin/env python3
"""Writes tests/Text.Tests/References/nfc_cases.jsonl: [input, NFC(input)] pairs from Python's unicodedata, to
test the C# NFC normalizer's algorithm (decompose, reorder, compose, Hangul) against an independent one.

    python3 scripts/reference/tokenizer_nfc_cases.py
"""
import json
import os
import random
import unicodedata as ud

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "Text.Tests", "References", "nfc_cases.jsonl")

cases = []
interesting = []
for cp in range(0x110000):
    if 0xD800 <= cp <= 0xDFFF or (0xAC00 <= cp <= 0xD7A3 and cp % 97 != 0):  # a sample of Hangul syllables
        continue
    c = chr(cp)
    if ud.decomposition(c) and not ud.decomposition(c).startswith("<") or ud.combining(c) or ud.normalize("NFD", c) != c:
        interesting.append(c)
# Every char with a canonical decomposition or a non-zero combining class, alone and between a base and a mark.
for c in interesting:
    cases.append(c)
    cases.append("a" + c + "\u0301")
# Hangul: syllables, jamo sequences that compose, and ones that must not.
for s in ["\u1100\u1161", "\u1100\u1161\u11a8", "\uac00\u11a8", "\uac01\u11a8", "\u1100\u1161\u0301\u11a8", "\u11a8\u1161",
          "\u1112\u1173\u11ab\u1100\u1173\u11af", "\uac00\u1161", "\u1100\u1100\u1161"]:
    cases.append(s)
# Random sequences of bases and marks, exercising reordering and blocking.
rng = random.Random(7)
bases = ["a", "e", "o", "u", "A", "E", "O", "U", "c", "n", "s", "\u00e9", "\u0391", "\u03b1", "\u0418", "\u05d0", "\u0627",
         "\u0915", "\u1100", "\u1161", "\u11a8", "\uac00", " ", "x", "\u1e9b", "\u0292", "\u00c5"]
marks = ["\u0300", "\u0301", "\u0302", "\u0303", "\u0308", "\u030a", "\u0323", "\u0327", "\u031b", "\u0345", "\u0344",
         "\u0340", "\u0341", "\u05b0", "\u05bc", "\u064b", "\u0651", "\u093c", "\u094d", "\u0f71", "\u0f72", "\u302a",
         "\u0328", "\u0306", "\u030c", "\u0313", "\u0314", "\u0342"]
for _ in range(4000):
    s = "".join(rng.choice(bases) if rng.random() < 0.4 else rng.choice(marks) for _ in range(rng.randint(1, 8)))
    cases.append(s)

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, "w", encoding="ascii", newline="\n") as f:
    f.write(json.dumps({"unicode": ud.unidata_version, "count": len(cases)}) + "\n")
    for s in cases:
        f.write(json.dumps([s, ud.normalize("NFC", s)]) + "\n")
print(f"wrote {len(cases)} cases to {OUT}")
