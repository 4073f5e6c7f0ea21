#!/usr/bin/env bash
# When content shows on a first load, with the server-rendered body and
# without it (the page carrying only its state), side by side in one run:
# /posts and /posts/1, loopback and an emulated slow network, medians of 5.
# Usage: bash scripts/bench-first-paint.sh (after `cargo xtask setup --test`).
# docs/benchmarks.md holds a recorded run.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo xtask build >/dev/null
DIST_DIR="$PWD/dist" CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  cargo test --quiet -p backend --test e2e first_paint_metrics -- --ignored --nocapture 2>/dev/null \
  | grep -E '^\|'
