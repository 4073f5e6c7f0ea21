#!/usr/bin/env bash
# Benchmarks of the query engine: natively, and in wasm in headless Chromium.
# Usage: bash scripts/bench-querent.sh   (after `cargo xtask setup --test`)
# Prints two markdown tables; docs/benchmarks.md holds a recorded run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== native (release)"
cargo run --quiet --release -p querent --example bench --features test-util

echo
echo "== wasm in headless Chromium (release)"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
cargo test --release -p querent --target wasm32-unknown-unknown \
  --features web,browser-bench --test bench_web -- --nocapture 2>&1 \
  | grep -E '^\|' || { echo "the browser benchmark printed no table" >&2; exit 1; }
