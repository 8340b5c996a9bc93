#!/usr/bin/env bash
# Proof of fidelity: the real peer clients (npm tiktok-live-connector 2.5.0 and PyPI TikTokLive
# 7.0.1, driven by the scripts in ../shared/peers) connect to the project's fake TikTok server
# on 127.0.0.1 and receive its chats.
#
# usage: scripts/peer-check.sh            (env: PORT, PACE, PEERS, SHARED)
#
# The server runs with --no-history, so the sign-fetch result carries no messages and every
# chat a peer sees came through the push WebSocket (gzip'd msg frames, enter room, acks).
# Only 127.0.0.1 is bound or contacted. Prints "PEER CHECK: PASS" or "PEER CHECK: FAIL".
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
PEERS="${PEERS:-/tmp/peers}"
PORT="${PORT:-18090}"
PACE="${PACE:-2}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LOG="${LOG:-/tmp/ttlive-peer-check-server.log}"

# Install the peers if missing (as ../shared/peers/run_all.sh does).
if [ ! -x "$PEERS/py/bin/python" ]; then
  python3 -m venv "$PEERS/py" && "$PEERS/py/bin/pip" install -q "TikTokLive==7.0.1" || exit 2
fi
if [ ! -d "$PEERS/node/node_modules/tiktok-live-connector" ]; then
  mkdir -p "$PEERS/node" && (cd "$PEERS/node" && npm init -y >/dev/null && npm install -s tiktok-live-connector@2.5.0) || exit 2
fi
cp "$SHARED/peers/drive_node.mjs" "$PEERS/node/drive_node.mjs"

# Build and start the fake server.
(cd "$ROOT" && cargo build -q -p ttlive-cli) || exit 2
"$TARGET/debug/tiktok-live" serve-fake --port "$PORT" --pace "$PACE" --no-history > "$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null' EXIT
for _ in $(seq 100); do grep -q '^http://127.0.0.1:' "$LOG" 2>/dev/null && break; sleep 0.1; done
BASE="$(grep -m1 '^http://127.0.0.1:' "$LOG")" || { echo "server did not start"; cat "$LOG"; exit 2; }
echo "fake server: $BASE (pid $SERVER_PID, pace $PACE, log $LOG)"

fail=0
echo "--- python TikTokLive"
timeout 60 "$PEERS/py/bin/python" "$SHARED/peers/drive_py.py" "$PORT" '*' || fail=1
echo "--- node tiktok-live-connector (plain)"
(cd "$PEERS/node" && EXPECT_TEXT='*' SIGN_API_URL="http://127.0.0.1:$PORT" \
   timeout 60 node drive_node.mjs plain "$PORT") || fail=1

[ "$fail" = 0 ] && echo "PEER CHECK: PASS" || { echo "PEER CHECK: FAIL (server log: $LOG)"; tail -20 "$LOG"; }
exit "$fail"
