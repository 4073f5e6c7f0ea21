#!/usr/bin/env bash
# Benchmarks the release backend with wrk: a prerendered page, JSON API
# reads (and their 304 revalidations) and static assets, each at 1 connection and at 50 connections.
# Prints a markdown table (see docs/benchmarks.md). Takes ~2 min after the build.
#
#   bash scripts/bench-backend.sh
#
# Knobs (environment):
#   BENCH_DURATION   wrk duration per run            (default 10s)
#   BENCH_ENCODING   Accept-Encoding sent; empty = no header, i.e. uncompressed
#                                                    (default "br, gzip")
#   BENCH_BACKEND_ARGS  extra backend flags, e.g. "--workers 1" or
#                    "--precompress-assets false"           (default none)
#   BENCH_WASM       1 = also benchmark the .wasm    (default 1)
#   BENCH_LOG_DIR    where raw wrk output and server logs go (default: a temp dir)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DURATION=${BENCH_DURATION:-10s}
ENCODING=${BENCH_ENCODING-br, gzip}
read -r -a EXTRA <<<"${BENCH_BACKEND_ARGS:-}"
WASM=${BENCH_WASM:-1}

say() { printf '==> %s\n' "$*" >&2; }

if ! command -v wrk >/dev/null; then
    say "installing wrk"
    apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
fi
command -v curl >/dev/null || { echo "curl is required" >&2; exit 1; }

say "building the backend and the bare ceiling server (release)"
cargo build --release -p backend --bin backend --example bare_page >&2
if [[ ! -f dist/index.html ]]; then
    say "dist/index.html missing: cargo xtask build"
    cargo xtask build >&2
fi

TMP=$(mktemp -d)
LOG_DIR=${BENCH_LOG_DIR:-$TMP/logs}
mkdir -p "$LOG_DIR"
SERVER_PID=
cleanup() {
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Serve a snapshot of dist/, so a Trunk rebuild during the run changes nothing.
# Take it when the hashed JS and wasm that index.html names exist (not mid-build).
DIST=$TMP/dist
JS=
for _ in $(seq 1 60); do
    rm -rf "$DIST" && mkdir "$DIST" && cp -R dist/. "$DIST/" 2>/dev/null || true
    rm -rf "$DIST/.stage"
    JS=$(grep -o 'frontend-[0-9a-f]*\.js' "$DIST/index.html" 2>/dev/null | head -n1 || true)
    WASM_FILE=$(grep -o 'frontend-[0-9a-f]*_bg\.wasm' "$DIST/index.html" 2>/dev/null | head -n1 || true)
    if [[ -n $JS && -f $DIST/$JS && ( -z $WASM_FILE || -f $DIST/$WASM_FILE ) ]]; then break; fi
    JS=
    sleep 2
done
[[ -n $JS ]] || { echo "dist/index.html names no frontend-*.js that exists" >&2; exit 1; }

# Port 0: the server picks a free port and prints it as its first stdout line.
args=(--bind 127.0.0.1:0 --database-url "$TMP/db.sqlite" --dist "$DIST" --log-format pretty --writes-per-minute 0 --require-sessions false)
args+=("${EXTRA[@]}")
say "starting target/release/backend ${args[*]}"
RUST_LOG=warn target/release/backend "${args[@]}" >"$TMP/stdout" 2>"$LOG_DIR/server.log" &
SERVER_PID=$!

BASE=
for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "backend exited; its log:" >&2
        cat "$LOG_DIR/server.log" >&2
        exit 1
    fi
    line=$(head -n1 "$TMP/stdout" 2>/dev/null || true)
    if [[ $line == "Serving on "* ]]; then
        BASE=${line#Serving on }
        break
    fi
    sleep 0.1
done
[[ -n $BASE ]] || { echo "backend did not start in 30 s" >&2; exit 1; }
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$BASE/healthz" && break
    sleep 0.1
done
curl -fsS -o /dev/null "$BASE/healthz"
say "backend up at $BASE"
# The assets' brotli/gzip forms are made by a thread named "precompress";
# measure once it has finished.
for _ in $(seq 1 600); do
    grep -qx precompress /proc/"$SERVER_PID"/task/*/comm 2>/dev/null || break
    sleep 0.2
done

URLS=(/posts/1 /api/posts /api/users "/$JS")
if [[ $WASM == 1 && -n $WASM_FILE ]]; then URLS+=("/$WASM_FILE"); fi

HDR=()
CURL_HDR=()
if [[ -n $ENCODING ]]; then
    HDR=(-H "Accept-Encoding: $ENCODING")
    CURL_HDR=(-H "Accept-Encoding: $ENCODING")
fi

# wrk reports exact numbers through this; --latency still prints its own
# distribution into the raw logs.
cp scripts/wrk-report.lua "$TMP/report.lua"

# Check every URL answers 200 and note its size on the wire and uncompressed.
declare -A SIZE
for url in "${URLS[@]}"; do
    out=$(curl -sS "${CURL_HDR[@]}" -o /dev/null -w '%{http_code} %{size_download} %header{content-encoding}' "$BASE$url")
    read -r code wire enc <<<"$out"
    [[ $code == 200 ]] || { echo "GET $url answered $code" >&2; exit 1; }
    raw=$(curl -sS -o /dev/null -w '%{size_download}' "$BASE$url")
    SIZE[$url]="$wire ${enc:-identity} ($raw raw)"
done

say "warming up (2 s)"
wrk -t2 -c50 -d2s "${HDR[@]}" "$BASE/posts/1" >/dev/null

ms() { awk -v us="$1" 'BEGIN { printf (us < 10000 ? "%.2f ms" : "%.1f ms"), us / 1000 }'; }

ROWS=()
STALLS=()
# Runs wrk on one table row: measure LABEL CONNS SIZE EXPECTED [wrk args...],
# EXPECTED being "2xx" (other statuses are errors) or "304" (wrk counts a
# 304 as non-2xx: only socket errors and timeouts are).
measure() {
    local label=$1 conns=$2 size=$3 expected=$4
    shift 4
    local threads=$((conns == 1 ? 1 : 2))
    local name
    name=$(printf '%s_c%s' "$(printf '%s' "$label" | tr -c 'A-Za-z0-9' _)" "$conns")
    say "wrk -t$threads -c$conns -d$DURATION --latency $label"
    wrk -t"$threads" -c"$conns" -d"$DURATION" --latency "${HDR[@]}" "$@" >"$LOG_DIR/wrk$name.txt"
    read -r _ reqs dur p50 p99 status sock timeouts < <(grep '^BENCH ' "$LOG_DIR/wrk$name.txt")
    local rps note=
    rps=$(awk -v r="$reqs" -v d="$dur" 'BEGIN { printf "%.0f", r / (d / 1e6) }')
    if [[ $expected == 304 ]]; then status=0; fi
    if (( status + sock + timeouts > 0 )); then
        note=" (errors: $status non-2xx, $sock socket, $timeouts timeouts)"
    fi
    ROWS+=("| $label | $conns | $rps$note | $(ms "$p50") | $(ms "$p99") | $size |")
    if (( conns == 1 && p50 >= 30000 )); then STALLS+=("$label"); fi
}

for url in "${URLS[@]}"; do
    for conns in 1 50; do
        measure "\`$url\`" "$conns" "${SIZE[$url]}" 2xx -s "$TMP/report.lua" "$BASE$url"
    done
done

# The ceiling for a kept page: the same brotli bytes from memory, served by a
# bare actix-web server (no middleware, no routing; examples/bare_page.rs).
CEILING=
if [[ $ENCODING == *br* ]]; then
    curl -sS -H "Accept-Encoding: br" -o "$TMP/page.br" "$BASE/posts/1"
    target/release/examples/bare_page "$TMP/page.br" >"$TMP/bare.stdout" 2>"$LOG_DIR/bare.log" &
    BARE_PID=$!
    BARE=
    for _ in $(seq 1 100); do
        line=$(head -n1 "$TMP/bare.stdout" 2>/dev/null || true)
        if [[ $line == "Serving on "* ]]; then BARE=${line#Serving on }; break; fi
        sleep 0.1
    done
    [[ -n $BARE ]] || { echo "the bare server did not start" >&2; exit 1; }
    wrk -t2 -c50 -d2s "${HDR[@]}" "$BARE/" >/dev/null
    for conns in 1 50; do
        measure "\`/posts/1\`'s bytes from a bare actix-web server (ceiling)" "$conns" \
            "$(stat -c %s "$TMP/page.br") br" 2xx -s "$TMP/report.lua" "$BARE/"
    done
    kill "$BARE_PID" 2>/dev/null || true
    wait "$BARE_PID" 2>/dev/null || true
    # Rows: /posts/1 at 1 and 50 connections come first; the ceiling's last two.
    page_rps=$(printf '%s\n' "${ROWS[1]}" | awk -F'|' '{ print $4 + 0 }')
    bare_rps=$(printf '%s\n' "${ROWS[-1]}" | awk -F'|' '{ print $4 + 0 }')
    CEILING=$(awk -v p="$page_rps" -v b="$bare_rps" \
        'BEGIN { printf "Kept page at 50 connections: %.0f req/s, %.2fx the bare server'"'"'s %.0f req/s.", p, p / b, b }')
fi

# Revalidations: the same reads with a matching If-None-Match (304, no body).
for url in /posts/1 /api/posts /api/users; do
    etag=$(curl -sS "${CURL_HDR[@]}" -o /dev/null -D - "$BASE$url" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
    [[ -n $etag ]] || { echo "GET $url has no ETag" >&2; exit 1; }
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$BASE$url")
    if [[ $code != 304 ]]; then
        # A page rendered per request (--reuse-responses false) embeds its
        # render time: each answer is new bytes, so nothing is revalidated.
        ROWS+=("| \`$url\` (If-None-Match) | - | answered $code: rendered anew each time | | | |")
        continue
    fi
    for conns in 1 50; do
        measure "\`$url\` (If-None-Match: 304)" "$conns" "0 (no body)" 304 \
            -s "$TMP/report.lua" -H "If-None-Match: $etag" "$BASE$url"
    done
done

# A mixed load: 90% reads of /api/posts, 10% renames of a user (each write
# makes the next read of every kept answer read afresh).
cat >"$TMP/mixed.lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  if n % 10 == 0 then
    local body = string.format('{"name":"Mixed %d"}', math.random(1, 1000000000))
    return wrk.format("PATCH", "/api/users/3", {["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/api/posts")
end
LUA
cat "$TMP/report.lua" >>"$TMP/mixed.lua"
for conns in 1 50; do
    measure "90% \`GET /api/posts\`, 10% \`PATCH /api/users/3\`" "$conns" "" 2xx \
        -s "$TMP/mixed.lua" "$BASE/"
done

echo
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n1));" \
    "$(wrk -v 2>&1 | head -n1 | cut -d' ' -f1-2); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "Accept-Encoding: ${ENCODING:-(none)}; backend flags: ${BENCH_BACKEND_ARGS:-(defaults)}; duration ${DURATION} per row"
echo
echo "| URL | connections | req/s | p50 | p99 | bytes per response |"
echo "|---|---:|---:|---:|---:|---|"
printf '%s\n' "${ROWS[@]}"
if [[ -n $CEILING ]]; then
    echo
    echo "$CEILING"
fi
if (( ${#STALLS[@]} > 0 )); then
    echo
    echo "WARNING: one keep-alive connection waits >= 30 ms per request on ${STALLS[*]}:" \
        "that is Nagle + delayed ACK (TCP_NODELAY off), not work."
fi
if [[ -n ${BENCH_LOG_DIR:-} ]]; then
    echo
    echo "Raw wrk output and the server log: $LOG_DIR"
fi
