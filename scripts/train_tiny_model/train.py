#!/usr/bin/env python3
"""Trains the small Qwen3-architecture chat model that ships in assets/models/ (see README.md next to this file).

  python3 scripts/train_tiny_model/train.py --text corpus.txt --out OUTDIR [--minutes 6] [--steps N]

Steps: BPE tokenizer (4096 ids) on the training split -> token streams of plain text and ChatML examples (loss on
assistant turns only) -> Qwen3ForCausalLM trained from scratch (bf16 autocast, AdamW, warmup + cosine) for as many
steps as fit in --minutes of wall time (or exactly --steps, for a reproducible rerun), keeping the weights with the
best held-out loss -> save_pretrained in bfloat16 with tokenizer and generation_config -> reference files for the
C# tests and sample generations, from the saved checkpoint reloaded in float32.
"""
import argparse
import hashlib
import json
import math
import os
import random
import sys
import time

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS; must precede CUDA init
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from chat_data import build_chat_examples, render_chatml, split_held_out  # noqa: E402
from corpus import read_corpus  # noqa: E402
from reference_outputs import write_model_card, write_references_and_samples  # noqa: E402
from tokenizer_build import save_tokenizer, train_tokenizer  # noqa: E402

RESERVE_SECONDS = 45  # saving, reloading, references and sample generations after the loop


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--text", required=True, help="corpus file written by fetch_text.sh")
    ap.add_argument("--out", required=True, help="output model directory")
    ap.add_argument("--minutes", type=float, default=6.0, help="wall-clock budget of the whole run")
    ap.add_argument("--steps", type=int, default=None, help="exact number of optimizer steps (overrides --minutes)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--vocab", type=int, default=4096)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--intermediate", type=int, default=768)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=2)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--context", type=int, default=1024, help="max_position_embeddings and training window")
    ap.add_argument("--batch", type=int, default=32, help="windows per step")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (costs compile time)")
    ap.add_argument("--references-only", action="store_true",
                    help="skip training: rewrite OUT/reference/ from the model already saved in --out")
    return ap.parse_args()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cuda.matmul.allow_tf32 = True  # training only; the references turn it off again


def encode_documents(tok, docs, eot):
    """Plain documents: every token is a target."""
    texts = ["\n\n".join(d) for d in docs]
    ids, mask = [], []
    for enc in tok.encode_batch(texts, add_special_tokens=False):
        ids.append(np.array(enc.ids + [eot], dtype=np.int32))
        mask.append(np.ones(len(enc.ids) + 1, dtype=bool))
    return ids, mask


def encode_chats(tok, examples, eot, im_end):
    """Chat examples: only the assistant turn (through its <|im_end|>) is a target."""
    full = tok.encode_batch([render_chatml(m) for m in examples], add_special_tokens=False)
    prefix = tok.encode_batch([render_chatml(m[:-1], add_generation_prompt=True) for m in examples],
                              add_special_tokens=False)
    ids, mask = [], []
    for f, p in zip(full, prefix):
        n = len(p.ids)
        if f.ids[:n] != p.ids:
            raise SystemExit(f"chat prompt does not tokenize as a prefix of the full chat: {f.tokens[:n + 4]}")
        end = len(f.ids) - 1 - f.ids[::-1].index(im_end)  # the last <|im_end|>
        m = np.zeros(len(f.ids) + 1, dtype=bool)
        m[n:end + 1] = True
        ids.append(np.array(f.ids + [eot], dtype=np.int32))
        mask.append(m)
    return ids, mask


def to_stream(ids, mask, seed, device):
    order = list(range(len(ids)))
    random.Random(seed).shuffle(order)
    x = torch.from_numpy(np.concatenate([ids[i] for i in order]).astype(np.int64)).to(device)
    m = torch.from_numpy(np.concatenate([mask[i] for i in order])).to(device)
    return x, m


def fixed_windows(stream, mask, length, limit):
    """Non-overlapping evaluation windows (inputs, targets, target mask)."""
    n = min(limit, (stream.numel() - 1) // length)
    starts = torch.arange(n, device=stream.device) * length
    idx = starts[:, None] + torch.arange(length + 1, device=stream.device)
    return stream[idx[:, :-1]], stream[idx[:, 1:]], mask[idx[:, 1:]]


def masked_loss(model, x, y, m):
    with torch.autocast("cuda", dtype=torch.bfloat16):
        logits = model(input_ids=x, use_cache=False).logits
    losses = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none")
    w = m.reshape(-1).float()
    return (losses * w).sum() / w.sum().clamp(min=1.0)


@torch.no_grad()
def evaluate(model, windows, batch):
    model.eval()
    x, y, m = windows
    total, count = 0.0, 0.0
    for i in range(0, x.shape[0], batch):
        xs, ys, ms = x[i:i + batch], y[i:i + batch], m[i:i + batch]
        n = ms.sum().item()
        total += masked_loss(model, xs, ys, ms).item() * n
        count += n
    model.train()
    return total / max(count, 1.0)


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def main():
    args = parse_args()
    t0 = time.time()
    deadline = t0 + args.minutes * 60 - RESERVE_SECONDS
    if not torch.cuda.is_available():
        raise SystemExit("train.py needs a CUDA GPU (bf16 autocast); none is visible to PyTorch.")
    seed_everything(args.seed)
    device = torch.device("cuda")
    os.makedirs(args.out, exist_ok=True)
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen3Config

    print(f"torch {torch.__version__}, transformers {transformers.__version__}, {torch.cuda.get_device_name()}")
    with open(args.text, "rb") as f:
        corpus_sha = hashlib.sha256(f.read()).hexdigest()
    docs = read_corpus(args.text)
    train_docs, held_docs = split_held_out(docs)
    if args.references_only:
        write_references_and_samples(args.out, held_docs, args.seed)
        return
    print(f"corpus {args.text} (sha256 {corpus_sha[:16]}): {len(train_docs)} training / {len(held_docs)} held-out documents")

    tok = train_tokenizer(("\n\n".join(d) for d in train_docs), args.vocab)
    save_tokenizer(tok, args.out, args.context)
    hf_tok = AutoTokenizer.from_pretrained(args.out)
    eot, im_start, im_end = (tok.token_to_id(t) for t in ("<|endoftext|>", "<|im_start|>", "<|im_end|>"))
    print(f"tokenizer: {tok.get_vocab_size()} ids, specials {eot} {im_start} {im_end}, eos {hf_tok.eos_token_id}")

    chats = build_chat_examples(train_docs, args.seed)
    held_chats = build_chat_examples(held_docs, args.seed + 1)
    for messages in chats[:50]:  # the template and the hand-rendered strings the data is built from agree
        rendered = hf_tok.apply_chat_template(messages, tokenize=False)
        if rendered != render_chatml(messages):
            raise SystemExit(f"chat template renders {rendered!r}, training data uses {render_chatml(messages)!r}")
    text_ids, text_mask = encode_documents(tok, train_docs, eot)
    chat_ids, chat_mask = encode_chats(tok, chats, eot, im_end)
    train_x, train_m = to_stream(text_ids + chat_ids, text_mask + chat_mask, args.seed, device)
    n_text, n_chat = sum(len(a) for a in text_ids), sum(len(a) for a in chat_ids)
    print(f"training stream: {train_x.numel():,} tokens ({n_text:,} text, {n_chat:,} in {len(chats):,} chats; "
          f"{train_m.float().mean().item():.0%} are targets)")
    held_text = fixed_windows(*to_stream(*encode_documents(tok, held_docs, eot), args.seed, device), args.context, 128)
    held_chat = fixed_windows(*to_stream(*encode_chats(tok, held_chats, eot, im_end), args.seed, device), args.context, 64)

    config = Qwen3Config(
        vocab_size=args.vocab, hidden_size=args.hidden, intermediate_size=args.intermediate,
        num_hidden_layers=args.layers, num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
        head_dim=args.head_dim, max_position_embeddings=args.context, rms_norm_eps=1e-6, rope_theta=10000.0,
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=im_end, pad_token_id=eot,
        attention_dropout=0.0, use_sliding_window=False)
    model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa", dtype=torch.float32).to(device)
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params / 1e6:.2f} M parameters (tied embeddings)")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, betas=(0.9, 0.95), fused=True)
    step_model = torch.compile(model) if args.compile else model

    gen = torch.Generator(device=device).manual_seed(args.seed)
    span = torch.arange(args.context + 1, device=device)
    total = args.steps or 10**9  # fixed after timing the first steps when --steps is not given
    warmup = 200
    curve, evals = [], []
    best = (float("inf"), -1, None)
    eval_every, timed_from, step = max(100, (args.steps or 5000) // 20), None, 0
    running, seen = 0.0, 0
    print(f"setup took {time.time() - t0:.0f} s; training")
    while step < total:
        if args.steps is None and time.time() > deadline:
            print(f"time budget reached at step {step}")
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total, args.lr, warmup)
        starts = torch.randint(0, train_x.numel() - args.context - 1, (args.batch,), device=device, generator=gen)
        idx = starts[:, None] + span
        loss = masked_loss(step_model, train_x[idx[:, :-1]], train_x[idx[:, 1:]], train_m[idx[:, 1:]])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        running += loss.item() if step % 10 == 0 else 0.0
        seen += 1 if step % 10 == 0 else 0
        if step == 10:
            torch.cuda.synchronize()
            timed_from = time.time()
        if step == 60 and args.steps is None:
            torch.cuda.synchronize()
            per_step = (time.time() - timed_from) / 50
            total = 60 + int((deadline - time.time()) / (per_step * 1.04))  # 4% for evaluations
            eval_every = max(100, total // 20)
            print(f"{per_step * 1000:.1f} ms/step -> {total} steps ({total * args.batch * args.context / 1e6:.0f} M tokens); "
                  f"rerun with --steps {total} to reproduce")
        if step % 50 == 0:
            curve.append({"step": step, "loss": running / max(seen, 1), "lr": opt.param_groups[0]["lr"],
                          "seconds": round(time.time() - t0, 1)})
            running, seen = 0.0, 0
        if step % eval_every == 0 or step == total:
            val_text, val_chat = evaluate(model, held_text, args.batch), evaluate(model, held_chat, args.batch)
            evals.append({"step": step, "text_loss": val_text, "chat_loss": val_chat})
            last = curve[-1]["loss"] if curve else float("nan")
            print(f"step {step:6d}  train {last:.3f}  held-out text {val_text:.3f} (ppl {math.exp(val_text):.1f})  "
                  f"chat {val_chat:.3f} (ppl {math.exp(val_chat):.1f})  lr {opt.param_groups[0]['lr']:.2e}  "
                  f"{time.time() - t0:.0f} s", flush=True)
            if val_text < best[0]:
                best = (val_text, step, {k: v.detach().clone() for k, v in model.state_dict().items()})
    train_seconds = time.time() - t0
    if best[2] is not None:
        model.load_state_dict(best[2])
    val_text, val_chat = evaluate(model, held_text, args.batch), evaluate(model, held_chat, args.batch)
    print(f"kept step {best[1]}: held-out text loss {val_text:.3f} (perplexity {math.exp(val_text):.2f}), "
          f"chat loss {val_chat:.3f} (perplexity {math.exp(val_chat):.2f})")

    model.to(torch.bfloat16)
    model.config.dtype = torch.bfloat16
    model.generation_config = transformers.GenerationConfig(
        do_sample=True, temperature=0.7, top_p=0.9, top_k=40, repetition_penalty=1.1, max_new_tokens=256,
        eos_token_id=[im_end, eot], pad_token_id=eot, bos_token_id=None)
    model.save_pretrained(args.out)
    summary = {
        "corpus_sha256": corpus_sha, "args": vars(args), "parameters": params, "steps": step, "kept_step": best[1],
        "train_seconds": round(train_seconds, 1), "tokens_seen": step * args.batch * args.context,
        "train_stream_tokens": train_x.numel(), "held_out_text_loss": val_text, "held_out_text_perplexity": math.exp(val_text),
        "held_out_chat_loss": val_chat, "held_out_chat_perplexity": math.exp(val_chat), "curve": curve, "evals": evals,
        "torch": torch.__version__, "transformers": transformers.__version__, "gpu": torch.cuda.get_device_name(),
    }
    with open(os.path.join(args.out, "training_log.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    samples = write_references_and_samples(args.out, held_docs, args.seed)
    write_model_card(args.out, summary, samples)
    print(f"done in {time.time() - t0:.0f} s: {args.out}")


if __name__ == "__main__":
    main()
