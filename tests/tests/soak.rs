//! Soak (issue 9): the real TikTok source against the fake server playing a long generated
//! stream while random faults hit it, proving that every message the server sent comes out
//! exactly once, in order, with no gap reported (the server never loses continuity here: it
//! always resumes from the client's cursor), and that memory stays flat.
//!
//! The stream is generated: `SOAK_SECS` seconds of frames at `SOAK_FPS` frames per second,
//! four messages per frame (chat, like, member, chat), each with a unique, increasing msg id,
//! then a stream end. The server plays it in real time. Before each WebSocket opens, the test
//! arms the faults that hit it and the reconnect after it, drawn from a seeded RNG:
//!
//! * what ends the socket: a drop without a close after N frames (N random, mean
//!   `SOAK_FPS / SOAK_FAULT_RATE`, i.e. `SOAK_FAULT_RATE` disruptions per second of stream),
//!   or a stall (no frames: the client's stall timer must replace the zombie);
//! * hazards on the socket: a garbage frame, a gzip bomb (inflates past the 8 MiB cap);
//! * hazards on the way back: the sign server answers 429 (`Retry-After` 0 or 1 s) or 500,
//!   the upgrade is refused (HTTP 200 + `Handshake-Msg`).
//!
//! Environment: `SOAK_SECS` (stream length, default 8), `SOAK_FAULT_RATE` (disruptions per
//! second, default 1.0), `SOAK_SEED` (default 9), `SOAK_FPS` (default 25), `SOAK_SAMPLE_SECS`
//! (RSS sampling period, default 1), `SOAK_RSS_BOUND_MB` (allowed RSS growth after warm-up,
//! default 48).
//!
//! The short version runs in CI (`cargo test -p ttlive-tests --test soak`, ~15 s in debug).
//! The long one:
//!
//! ```sh
//! SOAK_SECS=600 SOAK_FAULT_RATE=0.5 SOAK_SAMPLE_SECS=10 \
//!   cargo test -p ttlive-tests --release --test soak -- --ignored --nocapture soak_long
//! ```
//!
//! Everything runs on one current-thread runtime, so the fault arming that follows each
//! `WsOpen` in the server's client log happens before the server can accept the next socket.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prost::Message as _;
use ttlive_eventbus::{Event, EventKind, EventSource, SourceEnd, SourceErrorKind, SourceItem};
use ttlive_proto::webcast as pb;
use ttlive_signer::EulerSigner;
use ttlive_source_mock::{
    ClientRecord, FakeServer, Fault, HttpRecord, Pace, ScriptFrame, Trigger, UserState,
};
use ttlive_source_tiktok::TikTokSource;

const ROOM: u64 = 7_460_000_000_000_777_001;
const MSG_BASE: u64 = 7_460_100_000_000_000_000;
const PER_FRAME: usize = 4;
const HISTORY: usize = 6;
const MIB: u64 = 1024 * 1024;

/// splitmix64: a small seeded RNG, so a failing seed can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Clone)]
struct Config {
    secs: u64,
    fault_rate: f64,
    seed: u64,
    fps: u64,
    sample: Duration,
    rss_bound_mb: u64,
}

impl Config {
    fn from_env(default_secs: u64, default_sample_secs: f64) -> Self {
        Config {
            secs: env("SOAK_SECS", default_secs).max(1),
            fault_rate: env("SOAK_FAULT_RATE", 1.0_f64).max(0.0),
            seed: env("SOAK_SEED", 9),
            fps: env("SOAK_FPS", 25_u64).clamp(1, 500),
            sample: Duration::from_secs_f64(env("SOAK_SAMPLE_SECS", default_sample_secs).max(0.1)),
            rss_bound_mb: env("SOAK_RSS_BOUND_MB", 48),
        }
    }
}

fn common(method: &str, id: u64, t_ms: u64) -> pb::CommonMessageData {
    pb::CommonMessageData {
        method: method.to_owned(),
        msg_id: id as i64,
        room_id: ROOM as i64,
        create_time: 1_767_290_400_000 + t_ms as i64,
        ..Default::default()
    }
}

fn base(method: &str, id: u64, payload: Vec<u8>) -> pb::BaseProtoMessage {
    pb::BaseProtoMessage {
        method: method.to_owned(),
        payload: payload.into(),
        msg_id: id as i64,
        ..Default::default()
    }
}

/// Message number `i` of the stream (msg id `MSG_BASE + i`).
fn message(i: u64, t_ms: u64) -> pb::BaseProtoMessage {
    let id = MSG_BASE + i;
    let user = pb::User {
        id: 6_900_000_000_000_000_000 + (i % 97) as i64,
        nickname: format!("soaker {}", i % 97),
        display_id: format!("soaker_{}", i % 97),
        ..Default::default()
    };
    match i % 4 {
        1 => {
            let m = pb::WebcastLikeMessage {
                common: Some(common("WebcastLikeMessage", id, t_ms)),
                count: 1 + (i % 7) as i32,
                total: i as i64,
                user: Some(user),
                ..Default::default()
            };
            base("WebcastLikeMessage", id, m.encode_to_vec())
        }
        2 => {
            let m = pb::WebcastMemberMessage {
                common: Some(common("WebcastMemberMessage", id, t_ms)),
                user: Some(user),
                member_count: i as i32,
                action: 1,
                ..Default::default()
            };
            base("WebcastMemberMessage", id, m.encode_to_vec())
        }
        _ => {
            let m = pb::WebcastChatMessage {
                common: Some(common("WebcastChatMessage", id, t_ms)),
                user: Some(user),
                content: format!("message number {i} 🎉"),
                ..Default::default()
            };
            base("WebcastChatMessage", id, m.encode_to_vec())
        }
    }
}

/// The history, the frames, and how many messages there are in all (the last is a stream
/// end).
fn script(cfg: &Config) -> (Vec<pb::BaseProtoMessage>, Vec<ScriptFrame>, u64) {
    let history: Vec<_> = (0..HISTORY as u64).map(|i| message(i, 0)).collect();
    let frames_n = cfg.secs * cfg.fps;
    let mut next = HISTORY as u64;
    let mut frames = Vec::with_capacity(frames_n as usize + 1);
    for f in 0..frames_n {
        let t_ms = f * 1000 / cfg.fps;
        let msgs = (0..PER_FRAME as u64)
            .map(|k| message(next + k, t_ms))
            .collect();
        next += PER_FRAME as u64;
        frames.push(ScriptFrame::new(t_ms, msgs));
    }
    let end_id = MSG_BASE + next;
    let end = pb::WebcastControlMessage {
        common: Some(common("WebcastControlMessage", end_id, cfg.secs * 1000)),
        action: 3,
        tips: "The LIVE has ended".to_owned(),
        ..Default::default()
    };
    frames.push(ScriptFrame::new(
        cfg.secs * 1000,
        vec![base("WebcastControlMessage", end_id, end.encode_to_vec())],
    ));
    (history, frames, next + 1)
}

/// Resident set size of this process, from `/proc/self/status` (0 where there is none).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// What the fault driver saw and did.
#[derive(Debug, Default)]
struct Driver {
    sockets: u64,
    refused_upgrades: u64,
    sign_requests: u64,
    armed: Vec<(&'static str, u64)>,
    rss: Vec<(f64, u64)>,
    cookie_header_seen: bool,
}

impl Driver {
    fn count(&mut self, name: &'static str) {
        match self.armed.iter_mut().find(|(n, _)| *n == name) {
            Some((_, c)) => *c += 1,
            None => self.armed.push((name, 1)),
        }
    }
}

/// Arms what hits the next WebSocket and the reconnect after it.
fn arm(srv: &FakeServer, rng: &mut Rng, cfg: &Config, d: &mut Driver) {
    srv.clear_faults();
    if cfg.fault_rate <= 0.0 {
        return;
    }
    // The sign/upgrade hazards fire on the reconnect that follows this socket's end.
    if rng.chance(0.15) {
        let retry_after_secs = if rng.chance(0.3) { 1 } else { 0 };
        srv.inject(Fault::SignRateLimited { retry_after_secs }, Trigger::Once);
        d.count("sign 429");
    }
    if rng.chance(0.15) {
        srv.inject(Fault::SignServerError, Trigger::Once);
        d.count("sign 500");
    }
    if rng.chance(0.15) {
        srv.inject(Fault::RejectUpgrade("SOAK_REFUSED".into()), Trigger::Once);
        d.count("upgrade refused");
    }
    // Socket hazards: sent before the first frame of the next socket.
    if rng.chance(0.2) {
        srv.inject(Fault::MalformedFrame, Trigger::Once);
        d.count("malformed frame");
    }
    if rng.chance(0.1) {
        srv.inject(
            Fault::OversizedGzip {
                inflated_bytes: 12 * MIB as usize,
            },
            Trigger::Once,
        );
        d.count("gzip bomb");
    }
    // What ends the next socket.
    if rng.chance(0.15) {
        srv.inject(Fault::Stall, Trigger::Once);
        d.count("stall");
    } else {
        let mean = (cfg.fps as f64 / cfg.fault_rate).max(1.0);
        let n = 1 + rng.below((2.0 * mean) as u64) as usize;
        srv.inject(Fault::DropAfterFrames(n), Trigger::Once);
        d.count("drop");
    }
}

fn is_sign(h: &HttpRecord) -> bool {
    h.path.ends_with("/connect") || h.path.starts_with("/webcast/fetch")
}

/// Watches the server's client log (and clears it, so it does not grow), re-arms faults at
/// each new socket, samples RSS.
async fn drive(srv: Arc<FakeServer>, cfg: Config, driver: Arc<Mutex<Driver>>) {
    let mut rng = Rng(cfg.seed);
    let started = Instant::now();
    if let Ok(mut d) = driver.lock() {
        arm(&srv, &mut rng, &cfg, &mut d);
    }
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut next_sample = Instant::now();
    loop {
        tick.tick().await;
        // No await between reading and clearing: nothing else runs on this thread meanwhile.
        let log = srv.client_log();
        srv.clear_client_log();
        let Ok(mut d) = driver.lock() else { return };
        for rec in log {
            match rec {
                ClientRecord::WsOpen { .. } => {
                    d.sockets += 1;
                    arm(&srv, &mut rng, &cfg, &mut d);
                }
                ClientRecord::WsRefused { .. } => d.refused_upgrades += 1,
                ClientRecord::Http(h) => {
                    if is_sign(&h) {
                        d.sign_requests += 1;
                    }
                    if h.headers.iter().any(|(k, _)| k == "x-cookie-header") {
                        d.cookie_header_seen = true;
                    }
                }
                _ => {}
            }
        }
        if Instant::now() >= next_sample {
            next_sample += cfg.sample;
            d.rss.push((started.elapsed().as_secs_f64(), rss_bytes()));
        }
    }
}

#[derive(Debug, Default)]
struct Tally {
    /// Index (msg id − MSG_BASE) of the next message expected.
    next: u64,
    received: u64,
    duplicates: u64,
    lost: u64,
    wrong_room: u64,
    gaps: u64,
    connected: u64,
    disconnected: u64,
    reconnecting: u64,
    errors: Vec<(SourceErrorKind, u64)>,
    error_samples: Vec<String>,
    end: Option<SourceEnd>,
}

impl Tally {
    /// Exactly once, in order, checked as a stream: ids are `MSG_BASE + index`, so nothing
    /// per message needs to be kept (memory stays flat however long the soak).
    fn message(&mut self, ev: &Event) {
        self.received += 1;
        if ev.room_id() != ROOM {
            self.wrong_room += 1;
        }
        let idx = ev.msg_id().wrapping_sub(MSG_BASE);
        match idx.cmp(&self.next) {
            std::cmp::Ordering::Equal => self.next += 1,
            std::cmp::Ordering::Less => self.duplicates += 1,
            std::cmp::Ordering::Greater => {
                self.lost += idx - self.next;
                self.next = idx + 1;
            }
        }
    }

    fn error(&mut self, kind: SourceErrorKind, text: String) {
        match self.errors.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, c)) => *c += 1,
            None => self.errors.push((kind, 1)),
        }
        if self.error_samples.len() < 8 {
            self.error_samples.push(text);
        }
    }
}

async fn soak(cfg: Config) {
    let (history, frames, total) = script(&cfg);
    let frame_count = frames.len();
    let srv = FakeServer::builder()
        .user_with_room("fakeuser", UserState::Live, ROOM)
        .script(history, frames)
        .pace(Pace::RealTime)
        .enter_room_timeout(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let base_url = srv.base_url();
    let srv = Arc::new(srv);
    let driver = Arc::new(Mutex::new(Driver::default()));
    let drive_task = tokio::spawn(drive(srv.clone(), cfg.clone(), driver.clone()));

    let signer = Arc::new(
        EulerSigner::builder()
            .base_url(&base_url)
            .use_env(false)
            .no_proxy()
            .build()
            .unwrap(),
    );
    let mut source = TikTokSource::builder("fakeuser")
        .signer(signer)
        .web_url(&base_url)
        .webcast_url(&base_url)
        .backoff(Duration::from_millis(20), Duration::from_millis(250))
        .stall_timeout(Duration::from_millis(400))
        .timeouts(Duration::from_secs(5), Duration::from_secs(5))
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
        .max_attempts(None)
        .start()
        .unwrap();

    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(cfg.secs * 4 + 60);
    let mut t = Tally::default();
    loop {
        let item = match tokio::time::timeout_at(deadline, source.next()).await {
            Ok(item) => item,
            Err(_) => {
                let d = driver.lock().unwrap();
                panic!("soak did not finish in time: {t:?}\n{d:?}");
            }
        };
        match item {
            SourceItem::Event(ev) => match ev.kind() {
                EventKind::Connected => t.connected += 1,
                EventKind::Disconnected => t.disconnected += 1,
                EventKind::Reconnecting => t.reconnecting += 1,
                EventKind::Gap => t.gaps += 1,
                k if k.is_lifecycle() => {}
                _ => t.message(&ev),
            },
            SourceItem::Error(e) => t.error(e.kind(), e.to_string()),
            SourceItem::End(end) => {
                t.end = Some(end);
                break;
            }
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    drive_task.abort();
    let _ = drive_task.await;
    let d = std::mem::take(&mut *driver.lock().unwrap());

    // The report.
    eprintln!(
        "soak: seed {} | stream {} s at {} fps ({} frames, {} messages) | fault rate {}/s | \
         wall {:.1} s",
        cfg.seed,
        cfg.secs,
        cfg.fps,
        frame_count,
        total,
        cfg.fault_rate,
        elapsed.as_secs_f64()
    );
    eprintln!(
        "soak: sent {total} received {} duplicates {} lost {} wrong-room {} gaps {} | \
         connected {} disconnected {} reconnecting {} | sockets {} refused upgrades {} sign \
         requests {}",
        t.received,
        t.duplicates,
        t.lost,
        t.wrong_room,
        t.gaps,
        t.connected,
        t.disconnected,
        t.reconnecting,
        d.sockets,
        d.refused_upgrades,
        d.sign_requests
    );
    eprintln!("soak: faults armed: {:?}", d.armed);
    eprintln!("soak: errors by kind: {:?}", t.errors);
    eprintln!("soak: error samples: {:#?}", t.error_samples);
    let rss_mb: Vec<String> = d
        .rss
        .iter()
        .map(|(s, b)| format!("{s:.0}s:{:.1}", *b as f64 / MIB as f64))
        .collect();
    eprintln!("soak: RSS MiB over time: {}", rss_mb.join(" "));

    // Exactly once, in order, nothing lost, no false gap, and the right end.
    assert_eq!(t.end, Some(SourceEnd::StreamEnded), "{t:?}");
    assert_eq!(t.duplicates, 0, "duplicates: {t:?}");
    assert_eq!(t.lost, 0, "lost or reordered: {t:?}");
    assert_eq!(t.next, total, "not every message arrived: {t:?}");
    assert_eq!(t.received, total, "{t:?}");
    assert_eq!(t.wrong_room, 0);
    assert_eq!(
        t.gaps, 0,
        "a gap was reported though the server resumed every cursor"
    );
    assert!(!d.cookie_header_seen, "a session cookie went to the signer");
    // Every error is of a kind the faults explain, and every socket after the first was a
    // reconnect.
    for (kind, _) in &t.errors {
        assert!(
            matches!(
                kind,
                SourceErrorKind::Network
                    | SourceErrorKind::Timeout
                    | SourceErrorKind::Decode
                    | SourceErrorKind::Protocol
                    | SourceErrorKind::RateLimited { .. }
                    // A refused upgrade (HTTP 200 + Handshake-Msg) is reported as `Auth`
                    // (TikTok refusing this client) though the source retries it.
                    | SourceErrorKind::Auth
            ),
            "unexpected error kind {kind:?}: {:?}",
            t.error_samples
        );
    }
    assert_eq!(t.connected, d.sockets, "{t:?} {d:?}");
    if cfg.fault_rate > 0.0 && cfg.secs * cfg.fps > 20 {
        assert!(t.reconnecting >= 2, "the faults never hit: {t:?} {d:?}");
    }

    // Memory: after a warm-up (the first quarter, at least two samples), RSS stays within the
    // bound of where it was.
    let warm = (d.rss.len() / 4).max(2);
    if d.rss.len() > warm + 1 {
        let at_warm = d.rss[warm - 1].1;
        let peak = d.rss[warm..]
            .iter()
            .map(|(_, b)| *b)
            .max()
            .unwrap_or(at_warm);
        let growth = peak.saturating_sub(at_warm);
        eprintln!(
            "soak: RSS after warm-up {:.1} MiB, peak after {:.1} MiB, growth {:.1} MiB (bound {} \
             MiB)",
            at_warm as f64 / MIB as f64,
            peak as f64 / MIB as f64,
            growth as f64 / MIB as f64,
            cfg.rss_bound_mb
        );
        assert!(
            growth <= cfg.rss_bound_mb * MIB,
            "RSS grew by {growth} bytes after warm-up: {rss_mb:?}"
        );
    }
    match Arc::try_unwrap(srv) {
        Ok(srv) => srv.shutdown().await,
        Err(srv) => drop(srv),
    }
}

/// The CI version: a few seconds of stream under about one disruption per second.
#[tokio::test(flavor = "current_thread")]
async fn soak_short() {
    soak(Config::from_env(8, 1.0)).await;
}

/// The long version (see the module docs for the command).
#[tokio::test(flavor = "current_thread")]
#[ignore = "long: SOAK_SECS=600 cargo test -p ttlive-tests --release --test soak -- --ignored"]
async fn soak_long() {
    soak(Config::from_env(300, 10.0)).await;
}

/// Without faults the same stream arrives whole on one socket.
#[tokio::test(flavor = "current_thread")]
async fn soak_without_faults_is_one_connection() {
    let mut cfg = Config::from_env(2, 1.0);
    cfg.secs = 2;
    cfg.fault_rate = 0.0;
    let (history, frames, total) = script(&cfg);
    let srv = FakeServer::builder()
        .user_with_room("fakeuser", UserState::Live, ROOM)
        .script(history, frames)
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap();
    let base_url = srv.base_url();
    let signer = Arc::new(
        EulerSigner::builder()
            .base_url(&base_url)
            .use_env(false)
            .no_proxy()
            .build()
            .unwrap(),
    );
    let mut source = TikTokSource::builder("fakeuser")
        .signer(signer)
        .web_url(&base_url)
        .webcast_url(&base_url)
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
        .start()
        .unwrap();
    let mut t = Tally::default();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match tokio::time::timeout_at(deadline, source.next())
            .await
            .expect("in time")
        {
            SourceItem::Event(ev) if ev.kind() == EventKind::Reconnecting => t.reconnecting += 1,
            SourceItem::Event(ev) if !ev.kind().is_lifecycle() => t.message(&ev),
            SourceItem::End(end) => {
                t.end = Some(end);
                break;
            }
            _ => {}
        }
    }
    assert_eq!(t.end, Some(SourceEnd::StreamEnded));
    assert_eq!(
        (t.received, t.next, t.duplicates, t.lost),
        (total, total, 0, 0)
    );
    assert_eq!(t.reconnecting, 0);
    srv.shutdown().await;
}
