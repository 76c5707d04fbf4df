"""Training documents built from the corpus (pure Python, no torch): the held-out split, and chat examples that
teach the ChatML turn structure with answers taken from the text itself, so a chat request gets prose in the
corpus's voice rather than noise.

Kinds of example (each a list of messages; the assistant turn is the only one trained on):
  continuation  user: the first sentence(s) of a paragraph, bare or after an instruction -> assistant: the rest
  topic         user: "Tell me about the sea." (a salient word of the paragraph)         -> assistant: the paragraph
  opening       user: "How does chapter 1, "Loomings.", begin?" / "... Lincoln's 1861 address ..." -> first paragraph
A quarter of the examples carry a system message, so requests with the usual default system prompt look familiar.
"""
import collections
import random
import re

from corpus import split_sentences

SYSTEM_PROMPTS = [
    "You are a helpful assistant.",
    "You are a helpful assistant that writes in the style of nineteenth-century prose.",
    "You are a storyteller.",
    "Answer in full sentences.",
]
CONTINUE_PREFIXES = ["", "", "", "Continue: ", "Continue this passage: ", "Go on: ", "What comes next? ",
                     "Please continue the text.\n\n"]
TOPIC_TEMPLATES = ["Tell me about {}.", "Tell me about {}.", "What can you tell me about {}?", "Write about {}.",
                   "Say something about {}.", "Describe {}.", "What do you think of {}?", "Write a paragraph about {}."]
STOPWORDS = set("""
about above after again against also although among another any anything around away back because been before
being below between both came cannot could does doing done down during each either else enough even ever every
first from further great have having here herself himself however into itself just last less like made make many
might more most much must myself near neither never next none nothing now often once only other ought ours over
own perhaps rather same shall should since some something still such than that their theirs them themselves then
there these they this those though through thus together too toward towards under until upon very want well were
what whatever when where whether which while whom whose will with within without would year years your yours
yourself yourselves said says also shall among made make must upon within whole part good long time
""".split())
_WORD = re.compile(r"[A-Za-z][a-z]+(?:-[a-z]+)*")


def split_held_out(docs, every=25, offset=7):
    """(train, held_out): every 25th document (Moby-Dick chapters and addresses alike) is held out."""
    train = [d for i, d in enumerate(docs) if i % every != offset]
    held = [d for i, d in enumerate(docs) if i % every == offset]
    return train, held


class Keywords:
    """Topic words: content words of middling document frequency over paragraphs, in their usual surface form
    ("Ahab", "Congress" stay capitalized; common nouns are lower-cased)."""

    def __init__(self, docs):
        df, forms = collections.Counter(), collections.defaultdict(collections.Counter)
        total, after_the = collections.Counter(), collections.Counter()
        paragraphs = 0
        for doc in docs:
            for p in doc[1:]:
                paragraphs += 1
                seen = set()
                for m in _WORD.finditer(p):
                    w = m.group(0)
                    key = w.lower()
                    if len(key) < 4 or key in STOPWORDS:
                        continue
                    # A capital right after a sentence end says nothing about the word's usual case.
                    if m.start() >= 2 and p[m.start() - 2] not in ".!?\"":
                        forms[key][w] += 1
                    seen.add(key)
                    total[key] += 1
                    if p[max(0, m.start() - 4):m.start()].lower() == "the ":
                        after_the[key] += 1
                df.update(seen)
        form = {w: forms[w].most_common(1)[0][0] if forms[w] else w for w in df}
        # Nouns without a tagger: names keep their capital; common nouns follow "the" often enough.
        self.allowed = {w for w, n in df.items() if 5 <= n <= 0.03 * paragraphs
                        and (form[w][0].isupper() or after_the[w] >= 0.15 * total[w])}
        self.form = {w: form[w] for w in self.allowed}

    def pick(self, paragraph, rng):
        counts = collections.Counter(m.group(0).lower() for m in _WORD.finditer(paragraph))
        candidates = [(n, w) for w, n in counts.items() if w in self.allowed]
        if not candidates:
            return None
        best = max(n for n, _ in candidates)
        word = self.form[rng.choice(sorted(w for n, w in candidates if n == best))]
        if word[0].isupper():
            return word
        return f"the {word}" if re.search(rf"\bthe {re.escape(word)}\b", paragraph, re.IGNORECASE) else word


def _with_system(messages, rng):
    if rng.random() < 0.25:
        return [{"role": "system", "content": rng.choice(SYSTEM_PROMPTS)}] + messages
    return messages


def _turn(user, assistant, rng):
    return _with_system([{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], rng)


def _opening_question(heading, rng):
    m = re.match(r"CHAPTER (\d+)\. (.*)", heading)
    if m:
        return rng.choice([f'How does chapter {m.group(1)} of Moby-Dick, "{m.group(2)}", begin?',
                           f"Begin the chapter \"{m.group(2)}\"", f"Write the opening of chapter {m.group(1)}."])
    m = re.match(r"State of the Union Address, (.*), (\d{4})\.", heading)
    if m:
        return rng.choice([f"How did {m.group(1)} open the State of the Union address of {m.group(2)}?",
                           f"Begin a State of the Union address as {m.group(1)} did in {m.group(2)}.",
                           "Write the opening of a State of the Union address."])
    return f"How does \"{heading}\" begin?"


def build_chat_examples(docs, seed, keywords=None, continuation_rate=0.5, topic_rate=0.5, max_answer_chars=1200):
    """Chat examples (lists of messages) from documents whose first paragraph is a heading."""
    rng = random.Random(seed)
    keywords = keywords or Keywords(docs)
    examples = []
    for doc in docs:
        heading, body = doc[0], doc[1:]
        if body:
            examples.append(_turn(_opening_question(heading, rng), _clip(body[0], max_answer_chars), rng))
        for p in body:
            sentences = split_sentences(p)
            if len(sentences) >= 2 and rng.random() < continuation_rate:
                k = 1 if len(sentences) < 4 else rng.randint(1, 2)
                prompt = " ".join(sentences[:k])
                answer = _clip(" ".join(sentences[k:]), max_answer_chars)
                examples.append(_turn(rng.choice(CONTINUE_PREFIXES) + prompt, answer, rng))
            if rng.random() < topic_rate:
                topic = keywords.pick(p, rng)
                if topic:
                    examples.append(_turn(rng.choice(TOPIC_TEMPLATES).format(topic), _clip(p, max_answer_chars), rng))
    rng.shuffle(examples)
    return examples


def _clip(text, limit):
    """Whole sentences up to about limit characters (at least one)."""
    if len(text) <= limit:
        return text
    out, size = [], 0
    for s in split_sentences(text):
        if out and size + len(s) > limit:
            break
        out.append(s)
        size += len(s) + 1
    return " ".join(out)


def render_chatml(messages, add_generation_prompt=False):
    """The same string the chat template renders (checked against transformers in train.py)."""
    s = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return s + "<|im_start|>assistant\n" if add_generation_prompt else s


CHAT_TEMPLATE = (
    "{%- for message in messages %}"
    "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- endif %}"
)
