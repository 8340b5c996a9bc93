// The Node side of the decode comparison: tiktok-live-connector@2.5.0's own frame decoder on
// the push frames in DIR (written by `ttlive-decode-bench write DIR`).
//
//   node decode_compare.mjs DIR [SECS]
//
// * "shipped": what the library does when a WebSocket message arrives
//   (WebcastWebSocketClient.onMessage): `await deserializeWebSocketMessage(buf)` — push frame
//   decode, async `zlib.unzip` (libuv thread pool), ProtoMessageFetchResult decode and every
//   message with a schema decoded into its typed object (`deserializeMessage`). Frames are
//   decoded one after the other, as they arrive on one socket.
// * "sync": the same steps with `zlib.gunzipSync` instead of the async unzip: Node's best case.
//
// Each mode runs in passes over all frames for SECS seconds (default 5) after warm-up passes
// (V8 needs them to optimise); the fastest pass gives the rate (the least disturbed by other
// processes on a shared machine). Prints one JSON line per mode.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  deserializeWebSocketMessage,
  deserializeMessage,
  WebcastPushFrame,
} from 'tiktok-live-connector';

const dir = process.argv[2];
const secs = Number(process.argv[3] ?? 5);
if (!dir) {
  console.error('usage: node decode_compare.mjs DIR [SECS]');
  process.exit(2);
}
const frames = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bin'))
  .sort()
  .map((f) => fs.readFileSync(path.join(dir, f)));

function countTyped(result) {
  let n = 0;
  for (const m of result?.messages ?? []) if (m.decodedData) n++;
  return n;
}

async function shippedPass() {
  let n = 0;
  for (const f of frames) {
    const c = await deserializeWebSocketMessage(f);
    n += countTyped(c.protoMessageFetchResult);
  }
  return n;
}

// deserializeWebSocketMessage with the unzip made synchronous; everything else identical.
function syncDecode(binaryMessage) {
  const frame = WebcastPushFrame.decode(binaryMessage);
  let result;
  if (frame.payloadEncoding === 'pb' && frame.payload) {
    let binary = frame.payload;
    if (binary && binary.length > 2 && binary[0] === 31 && binary[1] === 139 && binary[2] === 8)
      frame.payload = zlib.gunzipSync(binary);
    result = deserializeMessage('ProtoMessageFetchResult', Buffer.from(frame.payload));
  }
  frame.protoMessageFetchResult = result;
  return frame;
}

function syncPass() {
  let n = 0;
  for (const f of frames) n += countTyped(syncDecode(f).protoMessageFetchResult);
  return n;
}

function gunzipPass() {
  let n = 0;
  for (const f of frames) {
    const frame = WebcastPushFrame.decode(f);
    n += zlib.gunzipSync(frame.payload).length;
  }
  return n;
}

async function measure(pass) {
  for (let i = 0; i < 5; i++) await pass(); // warm-up: let V8 optimise
  const times = [];
  let typed = 0;
  const start = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - start) / 1e9 < secs || times.length < 3) {
    const t = process.hrtime.bigint();
    typed = await pass();
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  return { pass: Math.min(...times), typed };
}

let messages = 0;
for (const f of frames) {
  const c = await deserializeWebSocketMessage(f);
  messages += c.protoMessageFetchResult?.messages?.length ?? 0;
}

const gz = await measure(gunzipPass);
for (const mode of ['shipped', 'sync']) {
  const r = await measure(mode === 'shipped' ? shippedPass : syncPass);
  const out = {
    impl: 'node',
    mode,
    frames: frames.length,
    messages,
    typed_messages: r.typed,
    frames_per_s: frames.length / r.pass,
    messages_per_s: messages / r.pass,
    gunzip_share: gz.pass / r.pass,
  };
  console.log(JSON.stringify(out));
}
