#!/usr/bin/env bash
# First-load cost of the app: transfer size of wasm + JS + CSS (raw and
# brotli, as the backend serves them), and the timings of five cold loads of
# /posts in headless Chromium. Usage: bash scripts/bench-app.sh
# (after `cargo xtask setup --test`). docs/benchmarks.md holds a recorded run.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo xtask build >/dev/null
echo "| file | raw bytes | brotli bytes (quality 11) |"
echo "|---|---:|---:|"
node -e '
const fs = require("fs"), zlib = require("zlib");
let raw = 0, br = 0;
for (const f of fs.readdirSync("dist").filter(f => /\.(wasm|js|css)$/.test(f) && f !== "sw.js").sort()) {
  const data = fs.readFileSync("dist/" + f);
  const b = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += data.length; br += b;
  console.log(`| ${f.replace(/-[0-9a-f]{16}/, "-<hash>")} | ${data.length} | ${b} |`);
}
console.log(`| **total** | ${raw} | ${br} |`);
'
echo
DIST_DIR="$PWD/dist" CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}" \
  CHROMIUM="${CHROMIUM:-/usr/bin/chromium}" \
  cargo test --quiet -p backend --test e2e first_load_metrics -- --ignored --nocapture 2>/dev/null \
  | grep -E '^(\||- |requests|$)'
