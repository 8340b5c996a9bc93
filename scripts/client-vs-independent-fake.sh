#!/usr/bin/env bash
# Our client against a fake TikTok it did not write: ../shared/peers/fake_tiktok.py (written with
# the Python TikTokLive library's own message classes). Checks that `tiktok-live watch` delivers
# its chat "hello from fake tiktok" for room 7400000000000000001, and that the server saw
# im_enter_room, heartbeats and acks from us.
#
# usage: scripts/client-vs-independent-fake.sh      (env: PORT, PEERS, SHARED)
# Needs the Python peer (installed into $PEERS/py from PyPI when missing). Only 127.0.0.1 is used.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
PEERS="${PEERS:-/tmp/peers}"
PORT="${PORT:-18091}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d)"
trap 'kill "$SERVER_PID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT

if [ ! -x "$PEERS/py/bin/python" ]; then
  python3 -m venv "$PEERS/py" && "$PEERS/py/bin/pip" install -q "TikTokLive==7.0.1" || exit 2
fi
(cd "$ROOT" && cargo build -q -p ttlive-cli) || exit 2

"$PEERS/py/bin/python" "$SHARED/peers/fake_tiktok.py" --port "$PORT" --need-ack \
  --log "$WORK/server.jsonl" > "$WORK/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

BASE="http://127.0.0.1:$PORT"
# The independent fake never ends its stream: watch for a few seconds, then stop.
timeout -s INT 12 "$TARGET/debug/tiktok-live" watch fakeuser --json \
  --web-url "$BASE" --webcast-url "$BASE" --sign-url "$BASE" --max-attempts 2 \
  > "$WORK/events.jsonl" 2> "$WORK/watch.err"

fail=0
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi; }
check "chat 'hello from fake tiktok' delivered" \
  "grep -q '\"type\":\"chat\".*hello from fake tiktok' '$WORK/events.jsonl'"
check "room id 7400000000000000001" "grep -q '\"room_id\":\"7400000000000000001\"' '$WORK/events.jsonl'"
check "connected over websocket" "grep -q '\"type\":\"connected\".*websocket' '$WORK/events.jsonl'"
check "server saw im_enter_room" "grep -q 'im_enter_room' '$WORK/server.jsonl'"
check "server saw heartbeats" "grep -q '\"hb\"' '$WORK/server.jsonl'"
check "server saw acks" "grep -q '\"ack\"' '$WORK/server.jsonl'"
if [ "$fail" = 0 ]; then
  echo "CLIENT VS INDEPENDENT FAKE: PASS"
else
  echo "CLIENT VS INDEPENDENT FAKE: FAIL"
  echo "--- events"; head -c 2000 "$WORK/events.jsonl"
  echo "--- watch stderr"; tail -20 "$WORK/watch.err"
  echo "--- server log"; tail -20 "$WORK/server.jsonl"; tail -20 "$WORK/server.out"
fi
exit "$fail"
