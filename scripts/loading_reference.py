#!/usr/bin/env python3
"""Reference outputs from transformers / safetensors for tests/Loading.Tests (run on the GPU machine).

Usage (from the repo root):
    python3 scripts/loading_reference.py tests/Loading.Tests/Fixtures

Writes, under <fixtures>/reference/:
  <fixture>.json              for every <fixtures>/<fixture>/config.json: the config as transformers reads it
                              (typed fields, standardised RoPE dict), inv_freq of the model's rotary embedding as
                              float32 bit patterns (CPU, and CUDA when available), and generation_config fields.
  python_written.safetensors  tensors written by safetensors.torch.save_file (BF16, F16, F32) ...
  python_written.json         ... and their values as torch reads them back.
  tiny-llama/, tiny-qwen3/    tiny random models saved by save_pretrained (sharded, bf16), plus
  tiny-*.json                 each tensor's shape, dtype and float64 sum, and the config as transformers reads it.
Needs: torch, transformers, safetensors. Takes a few seconds; the outputs are ~1 MB.
"""
import json
import os
import struct
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoConfig, GenerationConfig


def bits(t):
    return ["0x%08x" % struct.unpack("<I", struct.pack("<f", float(v)))[0] for v in t.detach().to("cpu", torch.float32).tolist()]


def rotary_class(model_type):
    if model_type == "llama":
        from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding as cls
    elif model_type == "qwen2":
        from transformers.models.qwen2.modeling_qwen2 import Qwen2RotaryEmbedding as cls
    elif model_type == "qwen3":
        from transformers.models.qwen3.modeling_qwen3 import Qwen3RotaryEmbedding as cls
    else:
        raise SystemExit(f"no rotary embedding class known for model_type {model_type}")
    return cls


def as_list(x):
    if x is None:
        return []
    return list(x) if isinstance(x, (list, tuple)) else [x]


def config_view(config):
    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    rope = getattr(config, "rope_parameters", None) or getattr(config, "rope_scaling", None) or {}
    rope = dict(rope)
    if "rope_theta" not in rope and getattr(config, "rope_theta", None) is not None:
        rope["rope_theta"] = config.rope_theta
    return {
        "model_type": config.model_type,
        "architectures": as_list(getattr(config, "architectures", None)),
        "hidden_size": config.hidden_size,
        "intermediate_size": config.intermediate_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "num_key_value_heads": config.num_key_value_heads,
        "head_dim": getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads,
        "vocab_size": config.vocab_size,
        "rms_norm_eps": config.rms_norm_eps,
        "max_position_embeddings": config.max_position_embeddings,
        "tie_word_embeddings": bool(config.tie_word_embeddings),
        "attention_bias": getattr(config, "attention_bias", None),
        "bos_token_id": getattr(config, "bos_token_id", None),
        "eos_token_ids": as_list(getattr(config, "eos_token_id", None)),
        "pad_token_id": getattr(config, "pad_token_id", None),
        "dtype": str(dtype) if dtype is not None else None,
        "rope": {k: v for k, v in rope.items() if isinstance(v, (int, float, str))},
    }


def inv_freq(config, device):
    cls = rotary_class(config.model_type)
    module = cls(config=config, device=device)
    return bits(module.inv_freq)


def fixture_reference(directory):
    config = AutoConfig.from_pretrained(directory)
    out = {"transformers_version": transformers.__version__, "torch_version": torch.__version__, "config": config_view(config)}
    out["inv_freq_bits_cpu"] = inv_freq(config, "cpu")
    if torch.cuda.is_available():
        out["inv_freq_bits_cuda"] = inv_freq(config, "cuda")
    if os.path.exists(os.path.join(directory, "generation_config.json")):
        with open(os.path.join(directory, "generation_config.json")) as f:
            raw = json.load(f)
        g = GenerationConfig.from_pretrained(directory)
        out["generation"] = {k: getattr(g, k) for k in raw if not k.startswith("_") and k != "transformers_version"}
    return out


def python_written(ref_dir):
    torch.manual_seed(0)
    tensors = {
        "a.bf16": (torch.randn(3, 5) * 3).to(torch.bfloat16),
        "b.f16": (torch.randn(4) * 100).to(torch.float16),
        "c.f32": torch.randn(2, 2, 2),
        "d.scalar": torch.tensor(1.5, dtype=torch.float32),
    }
    save_file(tensors, os.path.join(ref_dir, "python_written.safetensors"), metadata={"format": "pt"})
    listing = {name: {"dtype": str(t.dtype), "shape": list(t.shape), "values": t.float().flatten().tolist()} for name, t in tensors.items()}
    with open(os.path.join(ref_dir, "python_written.json"), "w") as f:
        json.dump(listing, f, indent=1)


def tiny_model(ref_dir, name, config):
    torch.manual_seed(1)
    model = transformers.AutoModelForCausalLM.from_config(config).to(torch.bfloat16)
    out_dir = os.path.join(ref_dir, name)
    model.save_pretrained(out_dir, max_shard_size="64KB")
    from safetensors import safe_open
    listing = {}
    for file in sorted(os.listdir(out_dir)):
        if file.endswith(".safetensors"):
            with safe_open(os.path.join(out_dir, file), "pt") as f:
                for key in f.keys():
                    t = f.get_tensor(key)
                    listing[key] = {"file": file, "dtype": str(t.dtype), "shape": list(t.shape), "sum": float(t.double().sum())}
    reread = AutoConfig.from_pretrained(out_dir)
    with open(os.path.join(ref_dir, name + ".json"), "w") as f:
        json.dump({"tensors": listing, "config": config_view(reread), "inv_freq_bits_cpu": inv_freq(reread, "cpu")}, f, indent=1)


def make_config(cls, small, rope, theta, **extra):
    """transformers 5 takes rope_parameters (theta inside); 4.x takes rope_scaling + rope_theta."""
    try:
        config = cls(**small, rope_parameters=dict(rope, rope_theta=theta), **extra)
        if getattr(config, "rope_parameters", None):
            return config
    except TypeError:
        pass
    return cls(**small, rope_scaling=None if rope["rope_type"] == "default" else rope, rope_theta=theta, **extra)


def main():
    fixtures = sys.argv[1] if len(sys.argv) > 1 else "tests/Loading.Tests/Fixtures"
    ref_dir = os.path.join(fixtures, "reference")
    os.makedirs(ref_dir, exist_ok=True)
    for name in sorted(os.listdir(fixtures)):
        directory = os.path.join(fixtures, name)
        if name != "reference" and os.path.exists(os.path.join(directory, "config.json")):
            with open(os.path.join(ref_dir, name + ".json"), "w") as f:
                json.dump(fixture_reference(directory), f, indent=1)
            print("wrote", name)
    python_written(ref_dir)
    small = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                 vocab_size=256, max_position_embeddings=512)
    llama3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
              "original_max_position_embeddings": 128}
    tiny_model(ref_dir, "tiny-llama", make_config(transformers.LlamaConfig, small, llama3, 500000.0,
                                                  tie_word_embeddings=False, bos_token_id=1, eos_token_id=[2, 3]))
    tiny_model(ref_dir, "tiny-qwen3", make_config(transformers.Qwen3Config, small, {"rope_type": "default"}, 1000000.0,
                                                  head_dim=32, tie_word_embeddings=True))
    print("wrote python_written, tiny-llama, tiny-qwen3 in", ref_dir)


if __name__ == "__main__":
    main()
