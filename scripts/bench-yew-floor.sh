#!/usr/bin/env bash
# The first-load size floor of the stack: bench/yew-floor built like the app
# (opt-level z, fat LTO, one codegen unit, panic=abort; wasm-bindgen; wasm-opt
# -Oz), once as Yew alone and once with yew-router + serde_json + gloo-net.
# Prints raw and brotli-11 bytes of the wasm and the JS loader of each.
# Usage: bash scripts/bench-yew-floor.sh (after `cargo xtask setup`).
# docs/benchmarks.md holds a recorded run.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
out="$root/target/yew-floor"
wasm_opt="$root/target/tools/binaryen/node_modules/.bin/wasm-opt"
[ -x "$wasm_opt" ] || { echo "wasm-opt missing: run cargo xtask setup" >&2; exit 1; }

echo "| build | file | raw bytes | brotli bytes (quality 11) |"
echo "|---|---|---:|---:|"
for variant in counter router; do
  features=()
  [ "$variant" = router ] && features=(--features router)
  (cd bench/yew-floor && cargo build --quiet --locked --release \
    --target wasm32-unknown-unknown --target-dir "$out/cargo" "${features[@]}")
  rm -rf "$out/$variant" && mkdir -p "$out/$variant"
  wasm-bindgen --target web --out-dir "$out/$variant" \
    "$out/cargo/wasm32-unknown-unknown/release/yew-floor.wasm"
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types \
    "$out/$variant/yew-floor_bg.wasm" -o "$out/$variant/yew-floor_bg.wasm"
  node -e '
const fs = require("fs"), zlib = require("zlib");
const [dir, variant] = process.argv.slice(1);
let raw = 0, br = 0;
for (const f of ["yew-floor_bg.wasm", "yew-floor.js"]) {
  const data = fs.readFileSync(dir + "/" + f);
  const b = zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  raw += data.length; br += b;
  console.log(`| ${variant} | ${f} | ${data.length} | ${b} |`);
}
console.log(`| ${variant} | **total** | ${raw} | ${br} |`);
' "$out/$variant" "$variant"
done
