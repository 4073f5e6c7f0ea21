#!/usr/bin/env bash
# The querent benchmark's rows in instructions (valgrind's callgrind), at a
# base commit and at the working tree, in one run: repeatable whatever else
# the machine is doing, so a change of a few percent shows.
# Usage: bash scripts/bench-querent-callgrind.sh [BASE_COMMIT]   (default: HEAD~1)
# Needs valgrind (on this project's machines) and a release build of each side.
set -euo pipefail
cd "$(dirname "$0")/.."
base="${1:-HEAD~1}"
work="$(mktemp -d)"
trap 'git worktree remove --force "$work/base" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "== building the benchmark at $base and at the working tree (release)" >&2
git worktree add --detach "$work/base" "$base" >/dev/null
(cd "$work/base" && CARGO_TARGET_DIR="$work/target" cargo build --quiet --release \
  -p querent --example bench --features test-util)
cp "$work/target/release/examples/bench" "$work/bench-base"
cargo build --quiet --release -p querent --example bench --features test-util
cp target/release/examples/bench "$work/bench-head"
rows=(
  "write 10,000 queries|querent::client::QueryClient::set_query_data "
  "10,000 lookups|querent::query_cache::QueryCache::data "
  "invalidate a prefix of 10,000|::invalidate_queries"
  "hydrate 1.24 MB|querent::hydration::hydrate "
  "persist 1.24 MB|querent::persist::Writer::write "
  "restore 1.24 MB|querent::persist::restore "
)
for side in base head; do
  echo "== callgrind: $side" >&2
  valgrind --tool=callgrind --callgrind-out-file="$work/$side.out" "$work/bench-$side" \
    >/dev/null 2>"$work/$side.err"
  callgrind_annotate --inclusive=yes "$work/$side.out" >"$work/$side.txt" 2>/dev/null
done
count() { # the inclusive instructions of the first function matching $2 in $1
  grep -F -- "$2" "$1" | head -1 | awk '{gsub(",", "", $1); print $1}'
}
echo "| row (7 runs each) | $base (instructions) | working tree | ratio |"
echo "|---|---:|---:|---:|"
for row in "${rows[@]}"; do
  name="${row%%|*}"
  pattern="${row#*|}"
  a="$(count "$work/base.txt" "$pattern")"
  b="$(count "$work/head.txt" "$pattern")"
  printf '| %s | %s | %s | %s |\n' "$name" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
done
total() { grep -o 'Collected : [0-9]*' "$1" | awk '{print $3}'; }
a="$(total "$work/base.err")"
b="$(total "$work/head.err")"
printf '| whole benchmark | %s | %s | %s |\n' "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
