#!/usr/bin/env python3
"""Tiny random checkpoints + transformers reference outputs for tests/Execution.Tests/Cpu (run on the GPU machine).

Usage (from the repo root):
    python3 scripts/reference/make_tiny_models.py [out_dir]      # default out_dir: tests/Execution.Tests/Models

Writes, for each of tiny-qwen3 (Qwen3ForCausalLM, tied embeddings, head_dim 32 != hidden/heads),
tiny-qwen2 (Qwen2ForCausalLM, q/k/v biases) and tiny-llama (LlamaForCausalLM, Llama 3 RoPE scaling with a small
original_max_position_embeddings so all three llama3 frequency bands occur, untied lm_head):
  <out_dir>/<name>/config.json, generation_config.json, model.safetensors   (save_pretrained, fp32)
  <out_dir>/<name>/reference.json
      prompts[]: input_ids            random token ids (lengths 1, 7, 33)
                 logits[pos][vocab]   one full forward in fp32 with eager attention, every position
                 prompt_logprobs[]    log_softmax(logits[t-1])[input_ids[t]] for t = 1..n-1
                 greedy[32]           generate(do_sample=False, max_new_tokens=32), new tokens only
                 greedy_matches_manual_loop   the same 32 tokens from an argmax loop over full forwards
Everything runs on the CPU in float32 (deterministic); takes a few seconds. Each model dir is well under 2 MB.
Needs: torch, transformers (5.x), safetensors.
"""
import json
import math
import os
import sys

import torch
import transformers
from transformers import AutoModelForCausalLM, GenerationConfig, LlamaConfig, Qwen2Config, Qwen3Config

SEED = 1234
PROMPT_LENGTHS = (1, 7, 33)
NEW_TOKENS = 32
VOCAB = 512


def configs():
    common = dict(
        hidden_size=64,
        intermediate_size=128,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=VOCAB,
        max_position_embeddings=256,
        rms_norm_eps=1e-6,
        # No special tokens: generation must run the full 32 tokens and never stop on a random eos.
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=None,
    )
    qwen3 = Qwen3Config(
        **common,
        num_hidden_layers=3,
        head_dim=32,  # q is 4*32 = 128 wide while hidden is 64: catches HEADS*HEAD_DIM vs HIDDEN mix-ups
        tie_word_embeddings=True,
        rope_theta=1000000.0,
    )
    qwen2 = Qwen2Config(
        **common,
        num_hidden_layers=2,
        tie_word_embeddings=False,
        rope_theta=10000.0,
    )
    # head_dim 16, theta 10000: wavelengths 2*pi*10000^(i/8) = 6.3, 19.9, 62.8, ... With original_max 32,
    # low 1, high 4 the bands are < 8 (kept), 8..32 (smoothed), > 32 (divided by factor): all three occur.
    llama = LlamaConfig(
        **common,
        num_hidden_layers=2,
        head_dim=16,
        tie_word_embeddings=False,
        attention_bias=False,
        mlp_bias=False,
        rope_theta=10000.0,
        rope_scaling={
            "rope_type": "llama3",
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 32,
        },
    )
    return [("tiny-qwen3", qwen3), ("tiny-qwen2", qwen2), ("tiny-llama", llama)]


def randomize(model, config, gen):
    """GPT-2 style init (std 0.02; residual-output projections 0.02/sqrt(2*layers)), norm weights around 1, random
    biases, so that every parameter visibly changes the logits."""
    layers = config.num_hidden_layers
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.copy_(1.0 + 0.25 * torch.randn(p.shape, generator=gen))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))
            elif name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                p.copy_(torch.randn(p.shape, generator=gen) * (0.02 / math.sqrt(2 * layers)))
            else:
                p.copy_(torch.randn(p.shape, generator=gen) * 0.02)


def f32(values):
    # 9 significant digits round-trip a float32 exactly; shorter than Python's float64 repr.
    return [float("%.9g" % v) for v in values]


def reference(model, gen):
    prompts = []
    for n in PROMPT_LENGTHS:
        ids = torch.randint(0, VOCAB, (1, n), generator=gen)
        with torch.no_grad():
            logits = model(input_ids=ids).logits[0].float()  # [n, vocab]
            logprobs = torch.log_softmax(logits, dim=-1)
            prompt_logprobs = [logprobs[t - 1, ids[0, t]].item() for t in range(1, n)]

            gen_config = GenerationConfig(do_sample=False, max_new_tokens=NEW_TOKENS, eos_token_id=None, pad_token_id=0, bos_token_id=None)
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=gen_config)
            greedy = out[0, n:].tolist()

            seq = ids
            manual = []
            for _ in range(NEW_TOKENS):
                nxt = model(input_ids=seq).logits[0, -1].argmax().item()
                manual.append(nxt)
                seq = torch.cat([seq, torch.tensor([[nxt]])], dim=1)
        if greedy != manual:
            print(f"  WARNING: generate() and the manual argmax loop differ for prompt length {n}", file=sys.stderr)
        prompts.append({
            "input_ids": ids[0].tolist(),
            "logits": [f32(row) for row in logits.tolist()],
            "prompt_logprobs": f32(prompt_logprobs),
            "greedy": greedy,
            "greedy_matches_manual_loop": greedy == manual,
        })
    return prompts


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "Execution.Tests", "Models")
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    for index, (name, config) in enumerate(configs()):
        gen = torch.Generator().manual_seed(SEED + index)
        model = AutoModelForCausalLM.from_config(config, attn_implementation="eager", dtype=torch.float32)
        model = model.float().eval()
        randomize(model, config, gen)
        rope = getattr(model.config, "rope_parameters", None) or getattr(model.config, "rope_scaling", None) or {}
        rope_type = rope.get("rope_type", rope.get("type", "default"))
        expected_rope = "llama3" if name == "tiny-llama" else "default"
        assert rope_type == expected_rope, f"{name}: rope type {rope_type}, expected {expected_rope} ({rope})"
        if config.tie_word_embeddings:
            assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr(), "lm_head not tied"

        target = os.path.join(out_dir, name)
        os.makedirs(target, exist_ok=True)
        model.save_pretrained(target)
        prompts = reference(model, gen)
        doc = {
            "model": name,
            "architecture": type(model).__name__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
            "seed": SEED + index,
            "attn_implementation": "eager",
            "dtype": "float32",
            "prompts": prompts,
        }
        with open(os.path.join(target, "reference.json"), "w") as f:
            json.dump(doc, f, separators=(",", ":"))
        size = sum(os.path.getsize(os.path.join(target, x)) for x in os.listdir(target))
        print(f"{name}: {type(model).__name__}, {sum(p.numel() for p in model.parameters())} parameters, "
              f"{size / 1e6:.2f} MB in {target}; greedy == manual loop: {[p['greedy_matches_manual_loop'] for p in prompts]}")


if __name__ == "__main__":
    main()
