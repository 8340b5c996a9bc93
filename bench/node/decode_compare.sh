#!/usr/bin/env bash
# Side-by-side decode throughput on one core: the Node tiktok-live-connector@2.5.0's own frame
# decoder (its shipped async path and a synchronous-gunzip best case) against ttlive-proto, on
# the same push frames built from the real fixtures.
#
#   bash bench/node/decode_compare.sh [SECS]     (from the workspace root; default 5 s per mode)
#
# Installs tiktok-live-connector@2.5.0 from npm into bench/node/node_modules (git-ignored) when
# missing. The frames are written once to a temporary directory (removed at exit), and both
# sides read them. Both sides are pinned to one CPU with taskset when it is available.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SECS="${1:-5}"
CPU="${BENCH_CPU:-1}"

if [ ! -d "$HERE/node_modules/tiktok-live-connector" ]; then
  echo "installing tiktok-live-connector@2.5.0 into $HERE/node_modules ..." >&2
  (cd "$HERE" && npm install --silent --no-save --no-package-lock --no-audit --no-fund \
     tiktok-live-connector@2.5.0 >&2)
fi

(cd "$ROOT" && cargo build --release -q -p ttlive-bench --bin ttlive-decode-bench)
BIN="$ROOT/target/release/ttlive-decode-bench"

FRAMES="$(mktemp -d "${TMPDIR:-/tmp}/ttlive-frames.XXXXXX")"
trap 'rm -rf "$FRAMES"' EXIT
"$BIN" write "$FRAMES" >&2

PIN=()
if command -v taskset >/dev/null; then PIN=(taskset -c "$CPU"); fi
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

# Two rounds, alternating, so that a burst of load from elsewhere hits both sides alike; each
# side's best round is kept.
ROWS=""
for round in 1 2; do
  ROWS+="$(cd "$HERE" && "${PIN[@]}" node decode_compare.mjs "$FRAMES" "$SECS")"$'\n'
  RUST_OUT="$("${PIN[@]}" "$BIN" run "$FRAMES" "$SECS")"
  echo "round $round: $(echo "$RUST_OUT" | grep 'full path')" >&2
  ROWS+="$(echo "$RUST_OUT" | grep '^{')"$'\n'
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

printf '%s' "$ROWS" | node -e '
const all = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
const best = new Map();
for (const r of all) {
  const k = r.impl + "/" + r.mode;
  if (!best.has(k) || best.get(k).frames_per_s < r.frames_per_s) best.set(k, r);
}
const rows = [...best.values()];
const rust = rows.find((r) => r.impl === "rust");
const fmt = (n) => Math.round(n).toLocaleString("en-US");
console.log(`\n${rust.frames} frames, ${rust.messages} messages (real fixtures, 3-8 per frame, gzip)\n`);
console.log("decoder                              frames/s   messages/s   gunzip share   Rust is");
for (const r of rows) {
  const name = r.impl === "rust" ? "ttlive-proto (Rust)" : `tiktok-live-connector ${r.mode}`;
  const ratio = r.impl === "rust" ? "" : `${(rust.frames_per_s / r.frames_per_s).toFixed(2)}x faster`;
  console.log(`${name.padEnd(36)} ${fmt(r.frames_per_s).padStart(9)} ${fmt(r.messages_per_s).padStart(12)} ${(100 * r.gunzip_share).toFixed(0).padStart(12)}%   ${ratio}`);
}
console.log(`\nRust: gunzip ${(100 * rust.gunzip_share).toFixed(0)}%, protobuf parsing ${(100 * rust.protobuf_share).toFixed(0)}%, conversion to events ${(100 * (1 - rust.gunzip_share - rust.protobuf_share)).toFixed(0)}%`);
for (const r of rows.filter((r) => r.impl === "node")) console.log(`node ${r.mode}: ${r.typed_messages} of ${r.messages} messages had a schema and were decoded`);
'
