#!/usr/bin/env bash
# How much WebAssembly an islands front end starts from: builds
# bench/islands-probe (the Dashboard's kinds of interactive parts as three
# islands; the rest of a page would stay server-rendered HTML) the way the
# shipped front end is built — the same profile, flags, wasm-bindgen and
# wasm-opt — and prints its size beside the shipped main module's (if
# target/site holds a release build) and the 250 KB first-load budget.
# Appends nothing: a probe for a decision, not a benchmark of the product.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/tools/node_modules/.bin:$PATH"
"$ROOT/scripts/ensure-tools.sh" build >/dev/null
PROBE="$ROOT/bench/islands-probe"
TARGET="$ROOT/target/islands-probe"
OUT="$TARGET/out"
RUSTFLAGS="--cfg erase_components" CARGO_TARGET_DIR="$TARGET" \
  cargo build --locked --quiet --manifest-path "$PROBE/Cargo.toml" --lib \
  --target wasm32-unknown-unknown --profile wasm-release
rm -rf "$OUT" && mkdir -p "$OUT"
wasm-bindgen --target web --out-dir "$OUT" --out-name probe \
  "$TARGET/wasm32-unknown-unknown/wasm-release/islands_probe.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$OUT/probe_bg.wasm" -o "$OUT/probe.wasm"
node - "$OUT/probe.wasm" "$OUT/probe.js" "$ROOT/target/site/pkg/leitstand.wasm" <<'JS'
const fs = require("fs"), z = require("zlib");
const br = (f) => z.brotliCompressSync(fs.readFileSync(f), { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
// KB as check-wasm-deps.sh counts them (1 024 bytes), so that the figures compare.
const kb = (n) => (n / 1024).toFixed(1);
const [wasm, js, shipped] = process.argv.slice(2);
const total = br(wasm) + br(js);
console.log(`islands probe: wasm ${kb(fs.statSync(wasm).size)} KB raw, ${kb(br(wasm))} KB brotli; js ${kb(br(js))} KB brotli; ` +
  `first load ${kb(total)} KB brotli (budget 250 KB)`);
// Only a precompressing release build is what users get.
if (fs.existsSync(shipped + ".br")) {
  console.log(`shipped main module (shell and Dashboard): ${kb(fs.statSync(shipped).size)} KB raw, ${kb(br(shipped))} KB brotli`);
}
JS
