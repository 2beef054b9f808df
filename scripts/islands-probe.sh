#!/usr/bin/env bash
# How much WebAssembly an islands front end starts from: builds
# bench/islands-probe (the Dashboard's kinds of interactive parts as three
# islands; the rest of a page would stay server-rendered HTML) the way the
# shipped front end is built — the same profile, flags, wasm-bindgen and
# wasm-opt — and prints its size beside the shipped main module's (if
# target/site holds a release build) and the 250 KB first-load budget.
# With `app`, it also builds the product's own front end in islands mode,
# once for each bench/islands-probe/app-*.patch applied to a copy of HEAD
# (each patch says which parts of the Dashboard become islands), and prints
# what each would load for the first Dashboard view.
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
# wasm-bindgen and wasm-opt as cargo-leptos runs them for the shipped build.
bindgen() { # WASM OUT NAME
  rm -rf "$2" && mkdir -p "$2"
  wasm-bindgen --target web --out-dir "$2" --out-name "$3" "$1"
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$2/$3_bg.wasm" -o "$2/$3.wasm"
}
# Prints "LABEL: wasm … KB raw, … KB brotli; js … KB brotli; first load … KB brotli".
measure() { # LABEL WASM JS
  node - "$@" <<'JS'
const fs = require("fs"), z = require("zlib");
const br = (f) => z.brotliCompressSync(fs.readFileSync(f), { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
// KB as check-wasm-deps.sh counts them (1 024 bytes), so that the figures compare.
const kb = (n) => (n / 1024).toFixed(1);
const [label, wasm, js] = process.argv.slice(2);
console.log(`${label}: wasm ${kb(fs.statSync(wasm).size)} KB raw, ${kb(br(wasm))} KB brotli; js ${kb(br(js))} KB brotli; ` +
  `first load ${kb(br(wasm) + br(js))} KB brotli (budget 250 KB)`);
JS
}
bindgen "$TARGET/wasm32-unknown-unknown/wasm-release/islands_probe.wasm" "$OUT" probe
measure "islands probe" "$OUT/probe.wasm" "$OUT/probe.js"
SHIPPED="$ROOT/target/site/pkg/leitstand.wasm"
# Only a precompressing release build is what users get.
if [ -f "$SHIPPED.br" ]; then
  measure "shipped main module (shell and Dashboard)" "$SHIPPED" "$ROOT/target/site/pkg/leitstand.js"
fi

[ "${1:-}" = app ] || exit 0
for patch in "$PROBE"/app-*.patch; do
  variant="$(basename "$patch" .patch)"
  SRC="$TARGET/$variant"
  rm -rf "$SRC" && mkdir -p "$SRC"
  git -C "$ROOT" archive HEAD | tar -x -C "$SRC"
  # A repository of its own: inside the project's tree, `git apply` would
  # take the paths as the project's and skip them.
  (cd "$SRC" && git init -q && git apply "$patch") || {
    echo "$patch does not apply to HEAD: the front end changed since it was written" >&2; exit 1; }
  # One target directory for the variants: they share every dependency.
  RUSTFLAGS="--cfg erase_components" CARGO_TARGET_DIR="$TARGET/app" \
    cargo build --locked --quiet --manifest-path "$SRC/Cargo.toml" -p frontend --lib \
    --target wasm32-unknown-unknown --profile wasm-release
  bindgen "$TARGET/app/wasm32-unknown-unknown/wasm-release/frontend.wasm" "$OUT/$variant" islands
  measure "$variant (the product in islands mode, $(git -C "$ROOT" rev-parse --short HEAD))" \
    "$OUT/$variant/islands.wasm" "$OUT/$variant/islands.js"
done
