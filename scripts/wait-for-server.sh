#!/usr/bin/env bash
# Wait until an OpenAI-compatible server on 127.0.0.1:PORT completes a one-token chat request;
# print its base URL. /v1/models alone is not enough: a server built with instructions the CPU
# refuses lists its model and then dies (SIGILL) on its first completion.
#   wait-for-server.sh PORT LOG [PID]   LOG is shown when it fails; PID, if given, is watched so a
#                                        server that exits fails at once. Waits up to
#                                        $EXTRACTOR_SERVER_WAIT seconds (120).
set -euo pipefail
PORT=$1 LOG=$2 PID=${3:-}
URL="http://127.0.0.1:$PORT/v1"
BODY='{"model":"smollm2-135m","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}'
fail() {
  echo "$1; the end of $LOG:" >&2
  tail -n 15 "$LOG" >&2 || true
  echo "If it died on its first completion (SIGILL), delete its build and run the script again." >&2
  exit 1
}
for _ in $(seq 1 "${EXTRACTOR_SERVER_WAIT:-120}"); do
  if curl -sf -m 30 "$URL/chat/completions" -H 'Content-Type: application/json' -d "$BODY" \
    >/dev/null 2>&1; then
    echo "$URL"
    exit 0
  fi
  if [[ -n $PID ]] && ! kill -0 "$PID" 2>/dev/null; then
    fail "the server on port $PORT exited"
  fi
  sleep 1
done
fail "no server completed a request on port $PORT"
