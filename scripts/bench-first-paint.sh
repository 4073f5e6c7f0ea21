#!/usr/bin/env bash
# When content shows and when the app is interactive on a first load, medians
# of 5, loopback and an emulated slow network (150 ms round trip,
# 1.6 Mbit/s down, 750 kbit/s up), headless Chromium, fresh profile, cache
# off, service workers bypassed.
#
#   bash scripts/bench-first-paint.sh
#       /posts and /posts/1 with the server-rendered body and without it (the
#       page carrying only its state), beside a bare static page.
#   bash scripts/bench-first-paint.sh http://127.0.0.1:3100
#       side by side with a second site loaded alternately with ours (e.g. the
#       TanStack Start example built locally, see docs/benchmarks.md), also
#       with the CPU 4x slower.
#
# Run after `cargo xtask setup --test`. docs/benchmarks.md holds recorded runs.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "==> building the app (production, no devtools)" >&2
cargo xtask build >/dev/null
export DIST_DIR="$PWD/dist" CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ $# -gt 0 ]]; then
  curl -fsS -o /dev/null "$1/posts/1" || { echo "$1/posts/1 does not answer" >&2; exit 1; }
  echo "==> side by side with $1 (~10 min)" >&2
  COMPARE_URL="$1" cargo test --quiet -p backend --test e2e side_by_side_metrics -- --ignored --nocapture 2>/dev/null \
    | grep -E '^\|'
else
  cargo test --quiet -p backend --test e2e first_paint_metrics -- --ignored --nocapture 2>/dev/null \
    | grep -E '^\|'
fi
