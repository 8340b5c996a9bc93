//! `serve` with 50 rooms against the fake TikTok, in process, over real loopback sockets: some
//! offline at the start and going live later, some ending and coming back, some ending for
//! good; every pushed message delivered exactly once while its room is connected; rooms added
//! and removed through the API while running, and still so after a restart; `/metrics` scraped
//! and parsed.
//!
//! Every room plays one scripted feed; the test starts and ends streams through the fake's API
//! (an end sends TikTok's stream-end control message and closes the room's sockets; a new
//! stream has a new room id and new msg ids), so "exactly once" is checked per user against the
//! ids the fake says it delivered.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use serde_json::{Value, json};
use ttlive_eventbus::{EventBus, RoomState};
use ttlive_service::Service;
use ttlive_source_mock::UserState;

const ROOMS: usize = 50;
const T: Duration = Duration::from_secs(20);

fn live_now(seen: &Seen, user: &str) -> bool {
    seen.states(user)
        .last()
        .is_some_and(|(_, to, _)| *to == RoomState::Live)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_rooms_through_their_lifecycles_with_api_changes_metrics_and_a_restart() {
    // room0000..0029 live at the start, room0030..0049 offline, room0050 added by the API.
    let users: Vec<(String, UserState)> = (0..=ROOMS)
        .map(|i| {
            let state = if i < 30 || i == ROOMS {
                UserState::Live
            } else {
                UserState::Offline
            };
            (room_user(i), state)
        })
        .collect();
    let frames = feed(25, 40, false); // one second of chat; streams end through the API
    let fake = fake_with_rooms(&users, frames.clone()).await;
    let base = fake.base_url();
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(&base, &(0..ROOMS).map(room_user).collect::<Vec<_>>());
    cfg.state_file = Some(dir.path().join("ttlive.state.json"));

    let bus = EventBus::new();
    let (seen, recorder) = Seen::record(&bus);
    let service = Service::builder(cfg.clone())
        .bus(bus)
        .start()
        .await
        .unwrap();
    let api = format!("http://{}", service.local_addr());
    let http = http();

    // The first thirty connect.
    seen.wait(T, "the live rooms to connect", |_| {
        (0..30).all(|i| seen_to(&seen, &room_user(i), RoomState::Live))
    })
    .await;
    assert!((30..ROOMS).all(|i| service.room(&room_user(i)).unwrap().state == RoomState::Waiting));

    // 0..29 end their streams; 0..9 go live again at once (a new stream), 10..29 stay off.
    for i in 0..30 {
        fake.set_user_state(&room_user(i), UserState::Offline);
    }
    for i in 0..10 {
        fake.set_user_state(&room_user(i), UserState::Live);
    }
    // 30..49 go live.
    for i in 30..ROOMS {
        fake.set_user_state(&room_user(i), UserState::Live);
    }
    seen.wait(T, "rooms to end, come back and go live", |_| {
        (0..10).all(|i| came_back(&seen, &room_user(i)))
            && (10..30).all(|i| ended(&seen, &room_user(i)))
            && (30..ROOMS).all(|i| seen_to(&seen, &room_user(i), RoomState::Live))
    })
    .await;

    // The API while running: add a room, add it again, remove a waiting and a live room.
    let r = http
        .post(format!("{api}/api/rooms"))
        .json(&json!({"user": "@Room0050"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user"], "room0050");
    let r = http
        .post(format!("{api}/api/rooms"))
        .json(&json!({"user": "room0050"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    seen.wait(T, "the added room to go live", |_| {
        seen_to(&seen, "room0050", RoomState::Live)
    })
    .await;
    assert_eq!(
        service.room("room0015").unwrap().state,
        RoomState::Waiting,
        "room0015 ended for good"
    );
    for user in ["room0015", "room0001"] {
        let r = http
            .delete(format!("{api}/api/rooms/{user}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{user}");
        assert_eq!(r.json::<Value>().await.unwrap()["removed"], user);
        let last = seen.states(user).last().cloned().unwrap();
        assert_eq!((last.1, last.2.as_str()), (RoomState::Stopped, "removed"));
    }
    let sockets_of_removed = sockets_of(&fake, fake.room_id("room0001"));
    let list: Value = http
        .get(format!("{api}/api/rooms"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Vec<&str> = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["user"].as_str().unwrap())
        .collect();
    assert_eq!(listed.len(), ROOMS - 1);
    assert!(listed.contains(&"room0050") && !listed.contains(&"room0001"));
    let r0 = list["rooms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user"] == "room0000")
        .unwrap();
    assert_eq!(r0["room_id"], fake.room_id("room0000").to_string());
    assert!(r0["events"]["chat"].as_u64().unwrap() >= 1, "{r0}");
    assert!(r0["sessions"].as_u64().unwrap() >= 2, "{r0}");
    assert!(r0["last_event_time"].as_i64().unwrap() > 0);

    // Metrics, scraped and parsed. (Events counted before the scrape were counted by it.)
    let chats_seen = seen
        .events()
        .iter()
        .filter(|e| e.kind() == ttlive_eventbus::EventKind::Chat)
        .count() as f64;
    let text = http
        .get(format!("{api}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let m = parse_metrics(&text);
    let by_state: f64 = RoomState::ALL
        .iter()
        .map(|s| m[&format!("ttlive_rooms{{state=\"{s}\"}}")])
        .sum();
    assert_eq!(by_state, (ROOMS - 1) as f64, "{text}");
    assert!(m["ttlive_events_total{kind=\"chat\"}"] >= chats_seen);
    assert!(m["ttlive_connects_total"] >= 40.0);
    assert!(m["ttlive_event_latency_seconds_count"] >= chats_seen);
    assert_eq!(m["ttlive_zombie_rooms"], 0.0);
    assert!(
        m.keys()
            .any(|k| k.starts_with("ttlive_budget_tokens_total{"))
    );
    assert!(m.keys().any(|k| k.starts_with("ttlive_sign_calls_total{")));

    // Every stream ends; every room goes back to waiting.
    for i in 0..=ROOMS {
        fake.set_user_state(&room_user(i), UserState::Offline);
    }
    seen.wait(T, "every room to wait", |_| {
        service
            .rooms()
            .iter()
            .all(|r| r.state == RoomState::Waiting)
    })
    .await;
    assert_eq!(
        sockets_of(&fake, fake.room_id("room0001")),
        sockets_of_removed,
        "a removed room connected again"
    );
    let report = service.shutdown().await;
    assert!(report.is_clean(), "{report:?}");
    recorder.await.unwrap();

    // Exactly once: what each room's sockets were sent is what the bus got for that room.
    // room0001 was removed while live: its last socket was cut, so the frames in flight then
    // were pushed but never read; it must still have nothing twice and nothing unpushed.
    let mut delivered = seen.delivered();
    let names: Vec<String> = users.iter().map(|(u, _)| u.clone()).collect();
    let mut pushed = pushed(&fake, &names);
    let (d1, p1) = (
        delivered.remove("room0001").unwrap_or_default(),
        pushed.remove("room0001").unwrap_or_default(),
    );
    assert!(!d1.is_empty());
    let bad: Vec<_> = d1
        .iter()
        .filter(|(id, n)| **n != 1 || !p1.contains_key(id))
        .collect();
    assert!(
        bad.is_empty(),
        "room0001: {} delivered, {} pushed, bad {:?}",
        d1.len(),
        p1.len(),
        &bad[..bad.len().min(10)]
    );
    assert_eq!(delivered.len(), ROOMS, "rooms with events");
    for (user, want) in &pushed {
        let got = delivered.get(user).cloned().unwrap_or_default();
        assert_eq!(&got, want, "room {user}");
    }

    // A restart follows the same rooms: the API's changes were persisted.
    let bus = EventBus::new();
    let service = Service::builder(cfg).bus(bus).start().await.unwrap();
    let users: Vec<String> = service.rooms().into_iter().map(|r| r.user).collect();
    assert_eq!(users.len(), ROOMS - 1);
    assert!(users.contains(&"room0050".to_owned()));
    assert!(!users.contains(&"room0001".to_owned()) && !users.contains(&"room0015".to_owned()));
    // Known room ids were kept too.
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("ttlive.state.json")).unwrap())
            .unwrap();
    assert_eq!(
        state["rooms"]["room0000"]["room_id"],
        fake.room_id("room0000").to_string()
    );
    assert!(service.shutdown().await.is_clean());
}

fn seen_to(seen: &Seen, user: &str, state: RoomState) -> bool {
    seen.states(user).iter().any(|(_, to, _)| *to == state)
}

/// Live, stream ended, then live again.
fn came_back(seen: &Seen, user: &str) -> bool {
    let s = seen.states(user);
    s.iter()
        .position(|(_, to, why)| *to == RoomState::Waiting && why == "stream ended")
        .is_some_and(|i| s[i..].iter().any(|(_, to, _)| *to == RoomState::Live))
}

/// Waiting after its stream ended.
fn ended(seen: &Seen, user: &str) -> bool {
    seen.states(user)
        .last()
        .is_some_and(|(_, to, why)| *to == RoomState::Waiting && why == "stream ended")
        && !live_now(seen, user)
}

/// Sockets the fake opened for a room.
fn sockets_of(fake: &ttlive_source_mock::FakeServer, room: u64) -> usize {
    let entered: BTreeMap<u64, u64> = fake
        .client_log()
        .iter()
        .filter_map(|r| match r {
            ttlive_source_mock::ClientRecord::EnterRoom { conn, room_id, .. } => {
                Some((*conn, *room_id))
            }
            _ => None,
        })
        .collect();
    entered.values().filter(|r| **r == room).count()
}
