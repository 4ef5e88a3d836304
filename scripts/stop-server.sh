#!/usr/bin/env bash
# Stop the server whose process id is in PIDFILE (written by local-llm.sh or llama-server.sh).
#   stop-server.sh PIDFILE [PATTERN]   -> says what it stopped; does nothing when nothing runs.
# With PATTERN, a process whose command line does not contain it (the id was reused after the
# server ended) is left alone.
set -euo pipefail
PIDFILE=$1 PATTERN=${2:-}
if [[ -f $PIDFILE ]]; then
  pid=$(cat "$PIDFILE")
  if kill -0 "$pid" 2>/dev/null && [[ $(ps -p "$pid" -o args= 2>/dev/null) == *"$PATTERN"* ]]; then
    kill "$pid"
    for _ in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    echo "stopped the server (process $pid)"
  fi
  rm -f "$PIDFILE"
fi
