#!/usr/bin/env bash
# Page rate for signed-out and signed-in visitors, side by side with an
# earlier build of the backend (issue 27: rendering pages per viewer must
# leave the signed-out page rate where it was). Both release binaries serve
# the same dist/ and a copy of the same seeded database; wrk asks each in
# turn, several rounds, so both see the same machine. Prints a markdown
# table (see docs/benchmarks.md).
#
#   bash scripts/bench-viewer-pages.sh OLD_REV
#
#   OLD_REV          the build to compare with (e.g. e1a35de)
#   BENCH_DURATION   wrk duration per run   (default 8s)
#   BENCH_ROUNDS     rounds                 (default 3)
#   BENCH_FIRST      which side runs first in a round, old or new (default old)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

OLD_REV=${1:?usage: bench-viewer-pages.sh OLD_REV}
DURATION=${BENCH_DURATION:-8s}
ROUNDS=${BENCH_ROUNDS:-3}
ORDER=(old new)
[[ ${BENCH_FIRST:-old} == new ]] && ORDER=(new old)
say() { printf '==> %s\n' "$*" >&2; }

command -v wrk >/dev/null || { apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }; }
[[ -f dist/index.html ]] || cargo xtask build >&2

TMP=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    git worktree remove --force "$TMP/old" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

say "building the current backend (release)"
cargo build --release -p backend --bin backend >&2
cp target/release/backend "$TMP/backend-new"
say "building $OLD_REV (release, in target/bench-old: cargo would take the two builds' workspace crates for one another in one target dir)"
git worktree add --detach "$TMP/old" "$OLD_REV" >&2
(cd "$TMP/old" && CARGO_TARGET_DIR="$OLDPWD/target/bench-old" cargo build --release -p backend --bin backend >&2)
cp target/bench-old/release/backend "$TMP/backend-old"

# Starts a binary on its own copy of a fresh database; prints its URL.
start() {
    local bin=$1 name=$2
    mkdir -p "$TMP/$name"
    RUST_LOG=warn "$bin" --bind 127.0.0.1:0 --database-url "$TMP/$name/db.sqlite" \
        --dist dist --log-format pretty >"$TMP/$name/stdout" 2>"$TMP/$name/log" &
    PIDS+=($!)
    for _ in $(seq 1 300); do
        line=$(head -n1 "$TMP/$name/stdout" 2>/dev/null || true)
        if [[ $line == "Serving on "* ]]; then
            echo "${line#Serving on }"
            return
        fi
        sleep 0.1
    done
    echo "$name did not start" >&2
    exit 1
}
OLD=$(start "$TMP/backend-old" old)
NEW=$(start "$TMP/backend-new" new)
for url in "$OLD" "$NEW"; do
    for _ in $(seq 1 100); do curl -fsS -o /dev/null "$url/healthz" && break; sleep 0.1; done
done
# The precompress threads finish first.
sleep 5

# A session cookie of the new build (the old one renders the same page for
# everyone).
cookie=$(curl -sS -D - -o /dev/null -H "Origin: $NEW" -H 'content-type: application/json' \
    -d '{"email":"bret@example.com","password":"querent-demo"}' "$NEW/api/session" |
    tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: \(session=[^;]*\).*/\1/p')
[[ -n $cookie ]] || { echo "no session cookie" >&2; exit 1; }

rate() { # URL [header...]: requests/s at 50 connections
    local url=$1
    shift
    wrk -t2 -c50 -d"$DURATION" -H 'Accept-Encoding: br, gzip' "$@" "$url" |
        awk '/Requests\/sec/ { printf "%d", $2 }'
}

declare -A SUM
for round in $(seq 1 "$ROUNDS"); do
    say "round $round/$ROUNDS"
    for side in "${ORDER[@]}"; do
        base=$OLD
        [[ $side == new ]] && base=$NEW
        r=$(rate "$base/posts/1")
        SUM[$side-out]+="$r "
        say "  $side signed out: $r req/s"
    done
    r=$(rate "$NEW/posts/1" -H "Cookie: $cookie")
    SUM[new-in]+="$r "
    say "  new signed in: $r req/s"
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
old_out=$(median "${SUM[old-out]}")
new_out=$(median "${SUM[new-out]}")
new_in=$(median "${SUM[new-in]}")
echo
echo "| \`GET /posts/1\`, 50 connections, brotli | $OLD_REV | this build | ratio |"
echo "|---|---|---|---|"
echo "| signed out (the kept page) | $old_out req/s | $new_out req/s | $(awk -v a="$new_out" -v b="$old_out" 'BEGIN { printf "%.2f", a / b }') |"
echo "| signed in (rendered for the viewer) | (no sessions in pages) | $new_in req/s | $(awk -v a="$new_in" -v b="$old_out" 'BEGIN { printf "%.2f", a / b }') of signed out before |"
echo
echo "Medians of $ROUNDS rounds of $DURATION each, old and new in turn (runs: old ${SUM[old-out]}/ new ${SUM[new-out]}/ signed in ${SUM[new-in]})."
