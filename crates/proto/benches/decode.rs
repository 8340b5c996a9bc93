//! Decode throughput on frames built from the real captured messages.
//!
//! At start-up the real inner messages (`$TTLIVE_FIXTURES` or
//! `<workspace>/../shared/fixtures/tiktok-webcast-real`) are shuffled deterministically,
//! grouped 3-8 per `ProtoMessageFetchResult` and wrapped into gzip'd `msg` push frames with
//! the `compress_type=gzip` header, as TikTok sends them. Nothing derived from the fixtures
//! is written to disk.
//!
//! * `envelope_gzip`: push frame + gunzip + `ProtoMessageFetchResult` (no inner decode);
//! * `envelope_raw`: the same frames without compression (isolates the gunzip cost);
//! * `full_gzip`: `envelope_gzip` + prost-decoding every inner message into its type.
//! * `events_gzip`: the library's path, `envelope_gzip` + `ttlive_proto::decode_events` (every
//!   message into its typed `Event`).

use std::hint::black_box;
use std::path::PathBuf;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use prost::Message;
use ttlive_proto::webcast::{self, BaseProtoMessage, ProtoMessageFetchResult};
use ttlive_proto::{FrameLimits, decode_msg_frame_bytes, msg_frame};

const LABELS: &[&str] = &[
    "WebcastChatMessage",
    "WebcastGiftMessage",
    "WebcastMemberMessage",
    "WebcastLikeMessage",
    "WebcastSocialMessage",
    "WebcastRoomUserSeqMessage",
    "WebcastControlMessage",
    "WebcastQuestionNewMessage",
    "WebcastLinkMicBattle",
    "WebcastLinkMicArmies",
    "WebcastEmoteChatMessage",
    "WebcastSubNotifyMessage",
    "WebcastEnvelopeMessage",
    "WebcastRoomMessage",
    "WebcastLiveIntroMessage",
    "WebcastBarrageMessage",
    "WebcastRoomPinMessage",
    "WebcastGoalUpdateMessage",
    "WebcastPollMessage",
    "WebcastRankUpdateMessage",
    "WebcastCaptionMessage",
    "WebcastImDeleteMessage",
    "WebcastLinkMicMethod",
    "WebcastLinkMicFanTicketMethod",
    "WebcastUnauthorizedMemberMessage",
    "WebcastInRoomBannerMessage",
];

fn fixtures_dir() -> PathBuf {
    std::env::var_os("TTLIVE_FIXTURES").map_or_else(
        || {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/fixtures/tiktok-webcast-real")
        },
        PathBuf::from,
    )
}

/// Tiny deterministic generator (xorshift64*), so every run benchmarks the same frames.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Frames {
    gzip: Vec<Bytes>,
    raw: Vec<Bytes>,
    messages: usize,
}

fn load_frames() -> Option<Frames> {
    let dir = fixtures_dir();
    if !dir.join("messages").is_dir() {
        return None;
    }
    let mut messages = Vec::new();
    for label in LABELS {
        let Ok(entries) = std::fs::read_dir(dir.join("messages").join(label)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if let Ok(bytes) = std::fs::read(&path) {
                messages.push(BaseProtoMessage {
                    method: (*label).to_owned(),
                    payload: Bytes::from(bytes),
                    ..Default::default()
                });
            }
        }
    }
    if messages.is_empty() {
        return None;
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in (1..messages.len()).rev() {
        let j = rng.below(i + 1);
        messages.swap(i, j);
    }
    let total = messages.len();
    let (mut gzip, mut raw) = (Vec::new(), Vec::new());
    let mut rest = messages.as_slice();
    let mut log_id = 7_400_000_000_000_000_000u64;
    while !rest.is_empty() {
        let n = (3 + rng.below(6)).min(rest.len());
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        log_id += 1;
        let result = ProtoMessageFetchResult {
            messages: batch.to_vec(),
            cursor: format!("t-{log_id}_r-1"),
            fetch_interval: 1000,
            now: 1_700_000_000_000,
            internal_ext: format!("fetch_time:1700000000000|seq:{log_id}"),
            need_ack: true,
            ..Default::default()
        };
        gzip.push(Bytes::from(msg_frame(log_id, &result, true)));
        raw.push(Bytes::from(msg_frame(log_id, &result, false)));
    }
    Some(Frames {
        gzip,
        raw,
        messages: total,
    })
}

fn decode_inner(m: &BaseProtoMessage) -> bool {
    macro_rules! by_method {
        ($($ty:ident),* $(,)?) => {
            match m.method.as_str() {
                $(stringify!($ty) => webcast::$ty::decode(m.payload.clone()).map(|v| {
                    black_box(v);
                }).is_ok(),)*
                _ => false,
            }
        };
    }
    by_method!(
        WebcastChatMessage,
        WebcastGiftMessage,
        WebcastMemberMessage,
        WebcastLikeMessage,
        WebcastSocialMessage,
        WebcastRoomUserSeqMessage,
        WebcastControlMessage,
        WebcastQuestionNewMessage,
        WebcastLinkMicBattle,
        WebcastLinkMicArmies,
        WebcastEmoteChatMessage,
        WebcastSubNotifyMessage,
        WebcastEnvelopeMessage,
        WebcastRoomMessage,
        WebcastLiveIntroMessage,
        WebcastBarrageMessage,
        WebcastRoomPinMessage,
        WebcastGoalUpdateMessage,
        WebcastPollMessage,
        WebcastRankUpdateMessage,
        WebcastCaptionMessage,
        WebcastImDeleteMessage,
        WebcastLinkMicMethod,
        WebcastLinkMicFanTicketMethod,
        WebcastUnauthorizedMemberMessage,
        WebcastInRoomBannerMessage,
    )
}

fn envelope(frames: &[Bytes], limits: &FrameLimits) -> usize {
    let mut n = 0;
    for f in frames {
        let decoded = decode_msg_frame_bytes(f.clone(), limits).expect("valid frame");
        n += decoded.result.map_or(0, |r| r.messages.len());
    }
    n
}

fn full(frames: &[Bytes], limits: &FrameLimits) -> usize {
    let mut n = 0;
    for f in frames {
        let decoded = decode_msg_frame_bytes(f.clone(), limits).expect("valid frame");
        if let Some(result) = decoded.result {
            n += result.messages.iter().filter(|m| decode_inner(m)).count();
        }
    }
    n
}

/// The library's whole path: frame → gunzip → fetch result → every message into its `Event`.
fn events(frames: &[Bytes], limits: &FrameLimits) -> usize {
    let mut n = 0;
    for f in frames {
        let decoded = decode_msg_frame_bytes(f.clone(), limits).expect("valid frame");
        if let Some(result) = decoded.result {
            n += ttlive_proto::decode_events(&result)
                .filter(Result::is_ok)
                .count();
        }
    }
    n
}

fn main() {
    let Some(frames) = load_frames() else {
        println!(
            "real fixtures not found at {}, skipping benches",
            fixtures_dir().display()
        );
        return;
    };
    let limits = FrameLimits::default();
    let gz_bytes: usize = frames.gzip.iter().map(Bytes::len).sum();
    let raw_bytes: usize = frames.raw.iter().map(Bytes::len).sum();
    println!(
        "{} frames, {} messages, {} bytes gzip'd / {} bytes raw",
        frames.gzip.len(),
        frames.messages,
        gz_bytes,
        raw_bytes
    );
    assert_eq!(full(&frames.gzip, &limits), frames.messages);

    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Elements(frames.gzip.len() as u64));
    group.bench_function("envelope_gzip", |b| {
        b.iter(|| black_box(envelope(&frames.gzip, &limits)));
    });
    group.bench_function("envelope_raw", |b| {
        b.iter(|| black_box(envelope(&frames.raw, &limits)));
    });
    group.bench_function("full_gzip", |b| {
        b.iter(|| black_box(full(&frames.gzip, &limits)));
    });
    group.bench_function("events_gzip", |b| {
        b.iter(|| black_box(events(&frames.gzip, &limits)));
    });
    group.finish();
    c.final_summary();
}
