#!/usr/bin/env bash
# A connection flood against one release backend with its default limits:
# one client opens FLOOD_CONNECTIONS connections asking for the live event
# stream (GET /api/events) and holds them without reading, while another
# loads pages and the API and writes. Prints a Markdown table: what the
# flood got (streams, 503s, connections the server refused or cut), the
# other client's p50 / p99 / max and failures, the backend's RSS before,
# during and after, and the lines it logged at ERROR.
#
#   bash scripts/flood.sh
#   FLOOD_CONNECTIONS=5000 bash scripts/flood.sh
#
# Knobs: FLOOD_CONNECTIONS (25000; split over processes of at most 12,000
# descriptors each), FLOOD_HOLD (30 s the flood is held), FLOOD_REQUESTS
# (400 of the other client's requests during it), FLOOD_BACKEND_ARGS,
# FLOOD_BACKEND_ENV (e.g. "MALLOC_ARENA_MAX=2").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

read -r -a EXTRA_ARGS <<<"${FLOOD_BACKEND_ARGS:-}"
read -r -a EXTRA_ENV <<<"${FLOOD_BACKEND_ENV:-}"
CONNECTIONS=${FLOOD_CONNECTIONS:-25000}
HOLD=${FLOOD_HOLD:-30}
REQUESTS=${FLOOD_REQUESTS:-400}
say() { printf '==> %s\n' "$*" >&2; }

say "building the backend (release)"
cargo build --release -p backend --bin backend >&2
[[ -f dist/index.html ]] || cargo xtask build >&2
ulimit -n "$(ulimit -Hn)"

# shellcheck source=scripts/release-backend.sh
source scripts/release-backend.sh
start_backend "${EXTRA_ENV[@]}" -- "${EXTRA_ARGS[@]}"

rss() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER_PID/status"; }

cat >"$TMP/flood.py" <<'PY'
import asyncio, json, sys
host, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
counts = {"200": 0, "503": 0, "other": 0, "refused": 0, "cut": 0}
held = []
async def one():
    try:
        r, w = await asyncio.open_connection(host, port)
    except OSError:
        counts["refused"] += 1
        return
    w.write(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
    try:
        line = await asyncio.wait_for(r.readline(), 20)
    except (asyncio.TimeoutError, OSError):
        counts["other"] += 1
        held.append(w)
        return
    if not line:
        counts["cut"] += 1
    elif b" 200 " in line:
        counts["200"] += 1
    elif b" 503 " in line:
        counts["503"] += 1
    else:
        counts["other"] += 1
    held.append(w)  # held open, never read again
async def main():
    batch = 500
    for i in range(0, n, batch):
        await asyncio.gather(*(one() for _ in range(min(batch, n - i))))
    print(json.dumps(counts), flush=True)
    await asyncio.sleep(hold)
    for w in held:
        w.close()
asyncio.run(main())
PY

cat >"$TMP/other.py" <<'PY'
import json, sys, time, urllib.request
base, n = sys.argv[1], int(sys.argv[2])
paths = ["/posts/1", "/posts", "/api/posts", "/api/users", "/users/2"]
times, failures = [], 0
for i in range(n):
    start = time.monotonic()
    try:
        if i % 20 == 19:
            req = urllib.request.Request(base + "/api/users/3", method="PATCH",
                data=json.dumps({"name": f"Flood {i}"}).encode(),
                headers={"Content-Type": "application/json"})
        else:
            req = urllib.request.Request(base + paths[i % len(paths)])
        with urllib.request.urlopen(req, timeout=10) as res:
            res.read()
            if res.status >= 400:
                failures += 1
    except Exception:
        failures += 1
    times.append((time.monotonic() - start) * 1000)
times.sort()
pick = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(json.dumps({"n": n, "failures": failures, "p50": pick(0.5), "p99": pick(0.99), "max": times[-1]}))
PY

HOSTPORT=${BASE#http://}
HOST=${HOSTPORT%:*}
PORT=${HOSTPORT##*:}
RSS_BEFORE=$(rss)
say "baseline: $REQUESTS requests from the other client"
BASELINE=$(python3 "$TMP/other.py" "$BASE" "$REQUESTS")

say "flooding with $CONNECTIONS connections"
PER=12000
PIDS=()
: >"$TMP/flood.out"
left=$CONNECTIONS
while (( left > 0 )); do
    take=$(( left < PER ? left : PER ))
    python3 "$TMP/flood.py" "$HOST" "$PORT" "$take" "$HOLD" >>"$TMP/flood.out" &
    PIDS+=($!)
    left=$(( left - take ))
done
# Until every flooder has reported what it got (connections held).
until (( $(wc -l <"$TMP/flood.out") == ${#PIDS[@]} )); do sleep 1; done
RSS_DURING=$(rss)
say "the other client during the flood"
DURING=$(python3 "$TMP/other.py" "$BASE" "$REQUESTS")
RSS_DURING=$(( $(rss) > RSS_DURING ? $(rss) : RSS_DURING ))
wait "${PIDS[@]}"
sleep 10
RSS_AFTER=$(rss)
ERRORS=$(grep -c ' ERROR ' "$TMP/server.log" || true)

FLOOD=$(python3 - "$TMP/flood.out" <<'PY'
import json, sys
total = {}
for line in open(sys.argv[1]):
    for k, v in json.loads(line).items():
        total[k] = total.get(k, 0) + v
print(json.dumps(total))
PY
)
field() { python3 -c "import json,sys; print(round(json.loads(sys.argv[1])[sys.argv[2]], 1))" "$1" "$2"; }

echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) cores; commit $(git rev-parse --short HEAD); flood, client and server on the same machine; descriptor hard limit $(ulimit -Hn)"
echo "Backend: default limits (16 streams per client, 4096 in all); flags ${FLOOD_BACKEND_ARGS:-(none)}; environment ${FLOOD_BACKEND_ENV:-(none)}"
echo
echo "| | value |"
echo "|---|---|"
echo "| flood connections | $CONNECTIONS, held ${HOLD} s |"
echo "| streams granted | $(field "$FLOOD" 200) |"
echo "| refused with 503 \`too_many_streams\` | $(field "$FLOOD" 503) |"
echo "| not answered within 20 s / refused at connect / closed by the server | $(field "$FLOOD" other) / $(field "$FLOOD" refused) / $(field "$FLOOD" cut) |"
echo "| other client before: p50 / p99 / max (ms), failures | $(field "$BASELINE" p50) / $(field "$BASELINE" p99) / $(field "$BASELINE" max), $(field "$BASELINE" failures) of $REQUESTS |"
echo "| other client during: p50 / p99 / max (ms), failures | $(field "$DURING" p50) / $(field "$DURING" p99) / $(field "$DURING" max), $(field "$DURING" failures) of $REQUESTS |"
echo "| backend RSS before / during / 10 s after (MiB) | $RSS_BEFORE / $RSS_DURING / $RSS_AFTER |"
echo "| lines logged at ERROR | $ERRORS |"
