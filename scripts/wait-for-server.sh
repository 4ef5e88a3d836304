#!/usr/bin/env bash
# Wait up to a minute for an OpenAI-compatible server on 127.0.0.1:$1; print its base URL.
#   wait-for-server.sh PORT LOG   (LOG is named in the failure message)
set -euo pipefail
for _ in $(seq 1 60); do
  if curl -sf "http://127.0.0.1:$1/v1/models" >/dev/null; then
    echo "http://127.0.0.1:$1/v1"
    exit 0
  fi
  sleep 1
done
echo "no server answered on port $1; see $2" >&2
exit 1
