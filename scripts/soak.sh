#!/usr/bin/env bash
# Soak: the release backend on a fresh SQLite file under a steady mixed load
# (wrk, 50 connections: 90% reads of pages and API answers, 10% writes),
# in one-minute slices. Prints a row per slice: rate, p50, p99, errors, and
# the server's resident memory (VmRSS) and its peak (VmHWM).
#
#   bash scripts/soak.sh            # 10 slices of 60 s
#   SOAK_SLICES=3 bash scripts/soak.sh
#
# Knobs: SOAK_SLICES (10), SOAK_SLICE (60s), SOAK_CONNECTIONS (50),
# SOAK_GROW (1; 0: the writes are renames only, so the data does not grow),
# SOAK_BACKEND_ARGS (extra backend flags), SOAK_BACKEND_ENV (extra
# environment for the backend, e.g. "MALLOC_ARENA_MAX=2").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SLICES=${SOAK_SLICES:-10}
SLICE=${SOAK_SLICE:-60s}
CONNS=${SOAK_CONNECTIONS:-50}
GROW=${SOAK_GROW:-1}
read -r -a EXTRA_ARGS <<<"${SOAK_BACKEND_ARGS:-}"
read -r -a EXTRA_ENV <<<"${SOAK_BACKEND_ENV:-}"
say() { printf '==> %s\n' "$*" >&2; }

command -v wrk >/dev/null || { apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }; }
say "building the backend (release)"
cargo build --release -p backend >&2
[[ -f dist/index.html ]] || cargo xtask build >&2

# shellcheck source=scripts/release-backend.sh
source scripts/release-backend.sh
# wrk writes from one address far past the per-client write rate.
start_backend "${EXTRA_ENV[@]}" -- --writes-per-minute 0 --require-sessions false "${EXTRA_ARGS[@]}"

cat >"$TMP/mixed.lua" <<LUA
local grow = $GROW
LUA
cat >>"$TMP/mixed.lua" <<'LUA'
local reads = { "/posts/1", "/api/posts", "/api/users", "/api/posts/3", "/posts", "/api/posts/3/comments" }
local n = 0
request = function()
  n = n + 1
  if n % 20 == 0 then
    local body = string.format('{"name":"Soak %d"}', math.random(1, 1000000000))
    return wrk.format("PATCH", "/api/users/" .. math.random(1, 10), {["Content-Type"] = "application/json"}, body)
  elseif n % 20 == 10 and grow == 1 then
    local body = string.format('{"name":"s","email":"s@example.com","body":"soak %d"}', math.random(1, 1000000000))
    return wrk.format("POST", "/api/posts/" .. math.random(1, 100) .. "/comments", {["Content-Type"] = "application/json"}, body)
  elseif n % 20 == 10 then
    local body = string.format('{"name":"Soak %d"}', math.random(1, 1000000000))
    return wrk.format("PATCH", "/api/users/" .. math.random(1, 10), {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", reads[(n % #reads) + 1])
end
LUA
cat scripts/wrk-report.lua >>"$TMP/mixed.lua"

kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
rss() { awk -v key="$1:" '$1 == key { print $2 }' "/proc/$SERVER_PID/status"; }
ms() { awk -v us="$1" 'BEGIN { printf (us < 10000 ? "%.2f ms" : "%.1f ms"), us / 1000 }'; }

echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; commit $(git rev-parse --short HEAD); $CONNS connections, $SLICES slices of $SLICE"
if [[ $GROW == 1 ]]; then
    echo "Load: 90% GET (/posts/1, /posts, /api/posts, /api/users, /api/posts/3, its comments), 5% PATCH /api/users/N, 5% POST comments"
else
    echo "Load: 90% GET (/posts/1, /posts, /api/posts, /api/users, /api/posts/3, its comments), 10% PATCH /api/users/N (the data does not grow)"
fi
echo "Backend: flags ${SOAK_BACKEND_ARGS:-(defaults)}; environment ${SOAK_BACKEND_ENV:-(none)}"
echo
echo "| minute | req/s | p50 | p99 | errors | RSS | peak RSS |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
echo "| 0 (idle, after start) | | | | | $(kib "$(rss VmRSS)") | $(kib "$(rss VmHWM)") |"
for slice in $(seq 1 "$SLICES"); do
    say "slice $slice/$SLICES"
    wrk -t2 -c"$CONNS" -d"$SLICE" --latency -H "Accept-Encoding: br, gzip" -s "$TMP/mixed.lua" "$BASE/" >"$TMP/wrk.txt"
    read -r _ reqs dur p50 p99 status sock timeouts < <(grep '^BENCH ' "$TMP/wrk.txt")
    rps=$(awk -v r="$reqs" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
    echo "| $slice | $rps | $(ms "$p50") | $(ms "$p99") | $((status + sock + timeouts)) | $(kib "$(rss VmRSS)") | $(kib "$(rss VmHWM)") |"
done
if grep -qi "error" "$TMP/server.log"; then
    echo
    echo "The server logged errors:"
    grep -i "error" "$TMP/server.log" | head -n 5
fi
