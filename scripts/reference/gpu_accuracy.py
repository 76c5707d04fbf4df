#!/usr/bin/env python3
"""Checks the CUDA engine against Hugging Face transformers on random weights of a real model shape.

Usage (GPU machine, repo root):
    python3 scripts/reference/gpu_accuracy.py models/configs/qwen3-0.6b/config.json /tmp/acc \
        bash .device/run.sh dotnet .device/Host/Host.dll

1. Builds the model from the config with GPT-2-style init (linear std 0.02, o_proj/down_proj std
   0.02/sqrt(2*layers), embeddings std 0.02, norm weights 1) and saves it in bf16 to OUT/model.
2. Scores 512 teacher-forced positions of 513 random tokens (seed 0): log p(token[i+1] | tokens[..i]) with
   transformers in fp32 (the bf16 weights upcast) as the reference, and with transformers in bf16. Both are loaded
   afresh from the saved checkpoint, as a user would: casting one model object bf16 -> fp32 would also round the
   rotary inv_freq buffer to bf16 and back, which moves the "fp32" reference by 0.03 mean |d| on the Llama-3.1 shape.
3. Runs the engine's `generate --return-logprob` on the same tokens and compares it with the fp32 reference the
   same way. Random deep networks amplify bf16 rounding, so the bar is relative to transformers' own bf16 run:
   the engine's mean |delta| must be <= 1.5x bf16-transformers', its top-1 agreement no more than 3 points lower.
"""
import json
import math
import os
import subprocess
import sys

import torch
from transformers import AutoConfig, AutoModelForCausalLM

POSITIONS = 512


def build(config_path, out_dir):
    config = AutoConfig.from_pretrained(os.path.dirname(os.path.abspath(config_path)))
    torch.manual_seed(0)
    with torch.device("cuda"):
        model = AutoModelForCausalLM.from_config(config, torch_dtype=torch.float32)
    layers = config.num_hidden_layers
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.fill_(1.0)
            elif name.endswith("bias"):
                p.zero_()
            elif "o_proj" in name or "down_proj" in name:
                p.normal_(0.0, 0.02 / math.sqrt(2 * layers))
            else:
                p.normal_(0.0, 0.02)
    model.to(torch.bfloat16).save_pretrained(out_dir, safe_serialization=True)


def load(model_dir, dtype):
    return AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype).to("cuda").eval()


def score(model, ids):
    with torch.no_grad():
        logits = model(torch.tensor([ids], device="cuda")).logits[0, :-1].float()
    logprobs = torch.log_softmax(logits, dim=-1)
    target = torch.tensor(ids[1:], device="cuda")
    return logprobs.gather(1, target[:, None])[:, 0].cpu(), logprobs.argmax(dim=-1).cpu()


def compare(name, lp, top1, ref_lp, ref_top1):
    delta = (lp - ref_lp).abs().mean().item()
    agree = (top1 == ref_top1).float().mean().item() * 100
    print(f"{name:<22} mean |d logprob| vs fp32 = {delta:.5f}   top-1 agreement = {agree:.2f} %")
    return delta, agree


def main():
    config_path, out, engine = sys.argv[1], sys.argv[2], sys.argv[3:]
    model_dir = os.path.join(out, "model")
    if not os.path.exists(os.path.join(model_dir, "config.json")):
        build(config_path, model_dir)
        torch.cuda.empty_cache()
    vocab = AutoConfig.from_pretrained(model_dir).vocab_size
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, vocab, (POSITIONS + 1,), generator=generator).tolist()

    scores = {}
    for dtype in (torch.float32, torch.bfloat16):
        model = load(model_dir, dtype)
        scores[dtype] = score(model, ids)
        del model
        torch.cuda.empty_cache()
    ref_lp, ref_top1 = scores[torch.float32]
    bf16_lp, bf16_top1 = scores[torch.bfloat16]

    device = os.environ.get("ENGINE_DEVICE", "cuda")
    command = engine + ["generate", "--device", device, "--model-path", model_dir, "--input-ids", json.dumps(ids), "--max-new-tokens", "1", "--return-logprob"]
    run = subprocess.run(command, capture_output=True, text=True)
    if run.returncode != 0:
        print(run.stdout[-4000:], run.stderr[-4000:])
        sys.exit(f"engine failed with exit code {run.returncode}")
    result = json.loads(run.stdout.strip().splitlines()[-1])
    ours_lp = torch.tensor(result["input_token_logprobs"])
    ours_top1 = torch.tensor(result["input_top1_ids"])

    print(f"{os.path.basename(os.path.dirname(os.path.abspath(config_path)))}: {POSITIONS} teacher-forced positions")
    bf16 = compare("transformers bf16", bf16_lp, bf16_top1, ref_lp, ref_top1)
    ours = compare(f"engine ({device})", ours_lp, ours_top1, ref_lp, ref_top1)
    ok = ours[0] <= 1.5 * bf16[0] and ours[1] >= bf16[1] - 3
    print(f"bar: mean |d| <= {1.5 * bf16[0]:.5f} and top-1 >= {bf16[1] - 3:.2f} %: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
