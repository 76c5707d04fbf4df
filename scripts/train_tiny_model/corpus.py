"""Plain-text helpers shared by clean_corpus.py (here, no torch) and train.py (GPU machine).

Corpus file format: UTF-8, paragraphs separated by one blank line, documents by two blank lines; the first
paragraph of a document is its heading (e.g. "CHAPTER 1. Loomings.").
"""
import re

# Typographic characters folded to ASCII so the 4k vocab is not spent on variants; the em dash stays (Melville
# uses it as punctuation, ~1600 times).
_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2011": "-", "\u2010": "-",
    "\u00a0": " ", "\u2022": "", "\u00ad": "",
})

_SPACES = re.compile(r"[ \t\r\f\v]+")


def normalize_paragraph(text):
    """One paragraph on one line: typographic folding, whitespace runs collapsed, ends trimmed."""
    text = text.translate(_FOLD).replace("\n", " ")
    return _SPACES.sub(" ", text).strip()


# Abbreviations after which a period does not end a sentence.
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "gen", "col", "capt", "lt", "gov", "sen", "rep", "hon", "jr", "sr", "no", "vs",
    "messrs", "mt", "ft", "co", "inc", "jan", "feb", "mar", "apr", "aug", "sept", "sep", "oct", "nov", "dec",
    "u.s", "i.e", "e.g", "etc", "viz", "art", "sec", "ch",
}
_SENTENCE_END = re.compile(r'([.!?]["\')\]]*)\s+(?=["\'(\[]?[A-Z0-9])')


def split_sentences(paragraph):
    """Sentences of a one-line paragraph. Heuristic (abbreviations, initials), deterministic."""
    sentences, start = [], 0
    for m in _SENTENCE_END.finditer(paragraph):
        head = paragraph[start:m.end(1)]
        word = head.rsplit(" ", 1)[-1].rstrip('.!?"\')]').lower()
        if m.group(1)[0] == "." and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())):
            continue
        sentences.append(head.strip())
        start = m.end()
    tail = paragraph[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def read_corpus(path):
    """[[paragraph, ...], ...]: the documents of a corpus file, each a list of paragraphs (heading first)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    docs = []
    for block in text.split("\n\n\n"):
        paragraphs = [p for p in block.split("\n\n") if p.strip()]
        if paragraphs:
            docs.append(paragraphs)
    return docs


def write_corpus(path, docs):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n\n\n".join("\n\n".join(doc) for doc in docs))
        f.write("\n")
