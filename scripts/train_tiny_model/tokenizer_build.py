"""Trains the byte-level BPE tokenizer with HF tokenizers and saves it as tokenizer.json + tokenizer_config.json.

Stays inside what runtime/Compiler.Runtime/Text/TokenizerJson.cs reads: NFC normalizer, pre-tokenizer
Sequence[Split(<Qwen2 regex>, Isolated), ByteLevel(add_prefix_space=false, use_regex=false)], BPE model without
dropout/byte_fallback/affixes, ByteLevel decoder and post-processor. The saved files are checked against that.
"""
import json
import os

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

from chat_data import CHAT_TEMPLATE

# Qwen2/Qwen3's split regex, character for character (SplitPreTokenizer.QwenPattern in the runtime).
QWEN_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"
                r"\s*[\r\n]+|\s+(?!\S)|\s+")
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def train_tokenizer(texts, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, min_frequency=2, special_tokens=SPECIAL_TOKENS, show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    return tok


def save_tokenizer(tok, out_dir, model_max_length):
    """tokenizer.json via transformers (so it is what AutoTokenizer loads), then the chat template and special
    tokens written into tokenizer_config.json as well as chat_template.jinja, whichever a reader looks at."""
    from transformers import PreTrainedTokenizerFast

    hf = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None, unk_token=None,
        clean_up_tokenization_spaces=False,
        model_max_length=model_max_length)
    hf.chat_template = CHAT_TEMPLATE
    hf.save_pretrained(out_dir)

    config_path = os.path.join(out_dir, "tokenizer_config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    config.update({"chat_template": CHAT_TEMPLATE, "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
                   "bos_token": None, "clean_up_tokenization_spaces": False})
    with open(config_path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out_dir, "chat_template.jinja"), "w", encoding="utf-8") as f:
        f.write(CHAT_TEMPLATE)
    check_runtime_compatible(os.path.join(out_dir, "tokenizer.json"))


def check_runtime_compatible(path):
    """Fails here, on the GPU machine, rather than later in the C# loader."""
    with open(path, encoding="utf-8") as f:
        j = json.load(f)
    problems = []
    norm = j.get("normalizer")
    if norm is not None and norm.get("type") != "NFC":
        problems.append(f"normalizer {norm}")
    pre = j.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers") or []
    if pre.get("type") != "Sequence" or len(steps) != 2:
        problems.append(f"pre_tokenizer {pre}")
    else:
        split, byte_level = steps
        if (split.get("type") != "Split" or split.get("behavior") != "Isolated" or split.get("invert")
                or (split.get("pattern") or {}).get("Regex") != QWEN_PATTERN):
            problems.append(f"split {split}")
        if byte_level.get("type") != "ByteLevel" or byte_level.get("add_prefix_space") or byte_level.get("use_regex"):
            problems.append(f"byte level {byte_level}")
    if (j.get("decoder") or {}).get("type") != "ByteLevel":
        problems.append(f"decoder {j.get('decoder')}")
    post = j.get("post_processor")
    if post is not None and post.get("type") not in ("ByteLevel", "TemplateProcessing", "Sequence"):
        problems.append(f"post_processor {post}")
    model = j["model"]
    if model.get("type") != "BPE" or model.get("byte_fallback") or model.get("dropout") or model.get("continuing_subword_prefix") \
            or model.get("end_of_word_suffix"):
        problems.append("model " + json.dumps({k: v for k, v in model.items() if k not in ("vocab", "merges")}))
    specials = {t["content"]: t for t in j.get("added_tokens", [])}
    for s in SPECIAL_TOKENS:
        if s not in specials or not specials[s].get("special"):
            problems.append(f"added token {s} missing or not special")
    if problems:
        raise SystemExit(f"{path}: outside what the C# TokenizerJson reader supports: " + "; ".join(problems))
