//! Helpers shared by the service's tests: a fake TikTok with many users and a scripted feed,
//! a configuration pointed at it, and checks on what the fake pushed against what the bus got.
//!
//! The feed is the same for every socket today (each room's events still carry that room's id,
//! because the scripted messages leave `room_id` unset and the source fills it in). When the
//! fake server serves many rooms of its own (`serve-fake --rooms N`), `fake_with_rooms` is the
//! one place to switch.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prost::Message as _;
use ttlive_eventbus::{Event, EventBus, Filter, RoomState};
use ttlive_proto::webcast as pb;
use ttlive_service::ServiceConfig;
use ttlive_source_mock::{ClientRecord, FakeServer, Pace, ScriptFrame, UserState};

/// Users `room0000`, `room0001`, … as the multi-room fake names them.
pub fn room_user(i: usize) -> String {
    format!("room{i:04}")
}

pub fn chat(id: i64, text: &str) -> pb::BaseProtoMessage {
    let m = pb::WebcastChatMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastChatMessage".into(),
            msg_id: id,
            // Left unset: the source stamps its own room id, so rooms sharing the feed differ.
            room_id: 0,
            create_time: now_ms(),
            ..Default::default()
        }),
        user: Some(pb::User {
            id: 6_900_000_000_000_000_000 + id,
            nickname: format!("Viewer {id}"),
            display_id: format!("viewer_{id}"),
            ..Default::default()
        }),
        content: text.into(),
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastChatMessage".into(),
        payload: m.encode_to_vec().into(),
        msg_id: id,
        ..Default::default()
    }
}

pub fn stream_end(id: i64) -> pb::BaseProtoMessage {
    let m = pb::WebcastControlMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastControlMessage".into(),
            msg_id: id,
            create_time: now_ms(),
            ..Default::default()
        }),
        action: 3,
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastControlMessage".into(),
        payload: m.encode_to_vec().into(),
        msg_id: id,
        ..Default::default()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A feed of `frames` frames `every_ms` apart, two chats each; with `end`, a stream end after.
pub fn feed(frames: usize, every_ms: u64, end: bool) -> Vec<ScriptFrame> {
    let mut out: Vec<ScriptFrame> = (0..frames)
        .map(|i| {
            let id = 1_000 + 2 * i as i64;
            ScriptFrame::new(
                i as u64 * every_ms,
                vec![
                    chat(id, &format!("chat {i}a")),
                    chat(id + 1, &format!("chat {i}b")),
                ],
            )
        })
        .collect();
    if end {
        out.push(ScriptFrame::new(
            frames as u64 * every_ms,
            vec![stream_end(999_999)],
        ));
    }
    out
}

/// A fake TikTok knowing `users` (each with its own room id), playing `frames` to every socket.
pub async fn fake_with_rooms(
    users: &[(String, UserState)],
    frames: Vec<ScriptFrame>,
) -> FakeServer {
    let mut b = FakeServer::builder()
        .script(Vec::new(), frames)
        .history(false)
        .recorded_end_ends_stream(true)
        .pace(Pace::RealTime);
    for (i, (name, state)) in users.iter().enumerate() {
        b = b.user_with_room(name.clone(), *state, 7_460_000_000_000_000_000 + i as u64);
    }
    b.start().await.unwrap()
}

/// A configuration for the fake at `base`: quick detection, a generous budget, short timers.
pub fn config(base: &str, rooms: &[String]) -> ServiceConfig {
    let mut c = ServiceConfig::default();
    c.rooms = rooms.to_vec();
    c.listen = "127.0.0.1:0".parse().unwrap();
    let conn = &mut c.connection;
    conn.web_url = base.to_owned();
    conn.webcast_url = base.to_owned();
    conn.sign_url = Some(base.to_owned());
    conn.mode = ttlive_signer::SignerMode::Euler;
    conn.stall_timeout = Duration::from_secs(60);
    conn.backoff_initial = Duration::from_millis(50);
    conn.backoff_max = Duration::from_millis(500);
    conn.http_timeout = Duration::from_secs(5);
    conn.connect_timeout = Duration::from_secs(5);
    let d = &mut c.detect;
    d.check_interval = Duration::from_millis(100);
    d.lookup_interval = Duration::from_millis(150);
    d.lookup_max_interval = Duration::from_millis(600);
    d.recent_lookup_interval = Duration::from_millis(300);
    d.failure_delay = Duration::from_millis(100);
    let l = &mut c.limits;
    l.lookups_per_minute = 60_000;
    l.lookup_burst = 100;
    l.live_checks_per_minute = 60_000;
    l.live_check_burst = 100;
    l.sign_per_minute = 60_000;
    l.sign_burst = 100;
    l.connects_per_minute = 60_000;
    l.connect_burst = 100;
    c.shutdown.grace = Duration::from_secs(10);
    c
}

/// Everything a lossless subscriber saw, kept for assertions.
#[derive(Clone, Default)]
pub struct Seen(pub Arc<Mutex<Vec<Arc<Event>>>>);

impl Seen {
    /// Starts recording every event of `bus`.
    pub fn record(bus: &EventBus) -> (Seen, tokio::task::JoinHandle<()>) {
        let seen = Seen::default();
        let mut sub = bus.subscribe_lossless(Filter::all());
        let s = seen.clone();
        let task = tokio::spawn(async move {
            while let Some(item) = sub.recv().await {
                if let Ok(ev) = item {
                    s.0.lock().unwrap().push(ev);
                }
            }
        });
        (seen, task)
    }

    pub fn events(&self) -> Vec<Arc<Event>> {
        self.0.lock().unwrap().clone()
    }

    /// The room-state transitions of `user`: (from, to, reason).
    pub fn states(&self, user: &str) -> Vec<(Option<RoomState>, RoomState, String)> {
        self.events()
            .iter()
            .filter_map(|e| match &**e {
                Event::RoomState(s) if s.user == user => Some((s.from, s.to, s.reason.clone())),
                _ => None,
            })
            .collect()
    }

    /// Waits until `pred` holds on the events seen, up to `limit`.
    pub async fn wait(
        &self,
        limit: Duration,
        what: &str,
        mut pred: impl FnMut(&[Arc<Event>]) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if pred(&self.events()) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out after {limit:?} waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Webcast events (not lifecycle) per user: msg id → times delivered. A room id is
    /// attributed to the user its `connected` event names (the service fills the handle in).
    pub fn delivered(&self) -> HashMap<String, BTreeMap<u64, u32>> {
        let events = self.events();
        let user_of: HashMap<u64, String> = events
            .iter()
            .filter_map(|e| match &**e {
                Event::Connected(c) => Some((c.meta.room_id, c.unique_id.clone())),
                _ => None,
            })
            .collect();
        let mut out: HashMap<String, BTreeMap<u64, u32>> = HashMap::new();
        for e in &events {
            if e.kind().is_lifecycle() {
                continue;
            }
            let user = user_of
                .get(&e.room_id())
                .cloned()
                .unwrap_or_else(|| format!("room id {}", e.room_id()));
            *out.entry(user).or_default().entry(e.msg_id()).or_default() += 1;
        }
        out
    }
}

/// What the fake delivered, per user: every msg id its push sockets, sign histories and polls
/// carried, once each (the fake gives every stream its own ids, so a follower without a gap
/// must see exactly these, each once). Users that pushed nothing are left out.
pub fn pushed(server: &FakeServer, users: &[String]) -> HashMap<String, BTreeMap<u64, u32>> {
    users
        .iter()
        .map(|u| {
            let ids: BTreeMap<u64, u32> = server
                .pushed_msg_ids(u)
                .into_iter()
                .map(|id| (id, 1))
                .collect();
            (u.clone(), ids)
        })
        .filter(|(_, ids)| !ids.is_empty())
        .collect()
}

/// HTTP requests the fake got on `path` (a prefix), by time order.
pub fn requests(server: &FakeServer, prefix: &str) -> usize {
    server
        .client_log()
        .iter()
        .filter_map(ClientRecord::as_http)
        .filter(|h| h.path.starts_with(prefix) && h.header("upgrade").is_none())
        .count()
}

/// A plain-http client (the workspace's reqwest needs a crypto provider installed first).
pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Parses Prometheus text: `name{labels}` → value.
pub fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("not a sample line: {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number in {line:?}"));
        out.insert(series.to_owned(), value);
    }
    out
}
