#!/usr/bin/env bash
# Fan-out: thousands of live subscribers (SSE and WebSocket) on one release
# backend, then a thousand stalled ones (connected, never reading) under a
# flood of writes. Prints a Markdown table (backend/examples/fanout.rs says
# what each row measures).
#
#   bash scripts/fanout.sh
#   FANOUT_SSE=1000 FANOUT_WS=1000 FANOUT_STALLED=200 bash scripts/fanout.sh
#
# Knobs: FANOUT_SSE (2500), FANOUT_WS (2500), FANOUT_STALLED (1000),
# FANOUT_WRITES (20 timed writes per round), FANOUT_FLOOD (20 writes of
# 9 KB), FANOUT_CUT_WAIT (45 s to wait for the server to cut stalled ones),
# FANOUT_BACKEND_ARGS (extra backend flags), FANOUT_BACKEND_ENV (extra
# environment for the backend, e.g. "MALLOC_ARENA_MAX=2").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

read -r -a EXTRA_ARGS <<<"${FANOUT_BACKEND_ARGS:-}"
read -r -a EXTRA_ENV <<<"${FANOUT_BACKEND_ENV:-}"
say() { printf '==> %s\n' "$*" >&2; }

say "building the backend and the fan-out client (release)"
cargo build --release -p backend --bin backend --example fanout >&2
[[ -f dist/index.html ]] || cargo xtask build >&2
# Each subscriber is a file descriptor on both sides.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

# shellcheck source=scripts/release-backend.sh
source scripts/release-backend.sh
# Every subscriber comes from this one address: lift the per-client and
# total stream caps (--max-streams-per-client, --max-streams) for the run.
start_backend "${EXTRA_ENV[@]}" -- --max-streams-per-client 100000 --max-streams 100000 --writes-per-minute 0 --require-sessions false "${EXTRA_ARGS[@]}"

echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; commit $(git rev-parse --short HEAD); client and server on the same cores"
echo "Backend: flags ${FANOUT_BACKEND_ARGS:-(defaults)}; environment ${FANOUT_BACKEND_ENV:-(none)}"
echo
target/release/examples/fanout "$BASE" "$SERVER_PID" \
    "${FANOUT_SSE:-2500}" "${FANOUT_WS:-2500}" "${FANOUT_STALLED:-1000}" \
    "${FANOUT_WRITES:-20}" "${FANOUT_FLOOD:-20}" "${FANOUT_CUT_WAIT:-45}"
