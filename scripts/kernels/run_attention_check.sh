#!/usr/bin/env bash
# Builds and runs the attention kernel check for every head configuration (run on the GPU machine from anywhere).
#   bash scripts/kernels/run_attention_check.sh [--quick]
# Writes build/attention_check_* binaries and scripts/kernels/results/attention_check.log; exits non-zero on any
# compile error or mismatch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kernels="$repo/runtime/Compiler.Runtime/Kernels"
build="$here/build"
results="$here/results"
mkdir -p "$build" "$results"
log="$results/attention_check.log"
: > "$log"
NVCC="${NVCC:-nvcc}"
ARCH="${ARCH:-sm_90}"
"$NVCC" --version | tail -n 2 | tee -a "$log"

# name NUM_HEADS NUM_KV_HEADS HEAD_DIM timing
configs=(
  "qwen3_0_6b 16 8 128 timing"
  "llama3_8b 32 8 128 timing"
  "tiny_d16 4 2 16 no"
  "tiny_d32 4 2 32 no"
  "mha_d64 4 4 64 no"
  "gqa8_d64 8 1 64 no"
  "d256 8 4 256 no"
)
status=0
for cfg in "${configs[@]}"; do
  read -r name nh nkv hd timing <<<"$cfg"
  bin="$build/attention_check_$name"
  echo "=== $name: NUM_HEADS=$nh NUM_KV_HEADS=$nkv HEAD_DIM=$hd" | tee -a "$log"
  # -Xptxas -v prints registers / spills of both kernels for this specialisation.
  if ! "$NVCC" -std=c++17 -O3 -arch="$ARCH" -lineinfo -Xptxas -v \
      -DNUM_HEADS="$nh" -DNUM_KV_HEADS="$nkv" -DHEAD_DIM="$hd" \
      -I "$kernels" -o "$bin" "$here/attention_check.cu" > "$build/nvcc_$name.txt" 2>&1; then
    cat "$build/nvcc_$name.txt" | tee -a "$log"
    echo "BUILD FAILED: $name" | tee -a "$log"
    status=1
    continue
  fi
  grep -E "warning|registers|spill|Compiling entry" "$build/nvcc_$name.txt" | grep -v fill_bf16 | tee -a "$log" || true
  args=("$@")
  [ "$timing" = "timing" ] || args+=("--no-timing")
  if ! "$bin" "${args[@]}" 2>&1 | tee -a "$log"; then status=1; fi
done
if [ "$status" -ne 0 ]; then echo "ATTENTION CHECK FAILED (see $log)" | tee -a "$log"; else echo "ATTENTION CHECK PASSED" | tee -a "$log"; fi
exit "$status"
