//! The request budget, measured on the fake TikTok's request log: with 1,000 rooms followed and
//! none live, the requests to TikTok stay within the configured budget (a small budget and short
//! intervals, so demand is far above it and the test is quick); and a recently live room is
//! checked more often than one that was not.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use ttlive_eventbus::{EventBus, RoomState};
use ttlive_service::Service;
use ttlive_source_mock::{ClientRecord, UserState};

fn lookups(fake: &ttlive_source_mock::FakeServer) -> usize {
    fake.client_log()
        .iter()
        .filter_map(ClientRecord::as_http)
        .filter(|h| {
            (h.path.starts_with("/@") && h.path.ends_with("/live"))
                || h.path.starts_with("/api-live/user/room")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_offline_rooms_stay_within_the_request_budget() {
    const N: usize = 1000;
    let users: Vec<(String, UserState)> =
        (0..N).map(|i| (room_user(i), UserState::Offline)).collect();
    let fake = fake_with_rooms(&users, feed(1, 10, false)).await;
    let base = fake.base_url();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    // 300 rooms were live a minute ago: their room ids are worth live checks.
    let recent = now_ms() - 60_000;
    let known: serde_json::Map<String, serde_json::Value> = (0..300)
        .map(|i| {
            (
                room_user(i),
                json!({"room_id": fake.room_id(&room_user(i)).to_string(), "last_live_ms": recent}),
            )
        })
        .collect();
    std::fs::write(&state, json!({"version": 1, "rooms": known}).to_string()).unwrap();

    let mut cfg = config(&base, &(0..N).map(room_user).collect::<Vec<_>>());
    cfg.state_file = Some(state);
    // Demand far above the budget: every room wants a check or a lookup every 50 ms.
    cfg.detect.check_interval = Duration::from_millis(50);
    cfg.detect.lookup_interval = Duration::from_millis(50);
    cfg.detect.recent_lookup_interval = Duration::from_millis(50);
    cfg.detect.lookup_max_interval = Duration::from_millis(50);
    // The budget: 10 lookups/s (burst 5), 2 live checks/s (burst 2).
    cfg.limits.lookups_per_minute = 600;
    cfg.limits.lookup_burst = 5;
    cfg.limits.live_checks_per_minute = 120;
    cfg.limits.live_check_burst = 2;

    let started = Instant::now();
    let service = Service::builder(cfg)
        .bus(EventBus::new())
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let looked_up = lookups(&fake);
    let checked = requests(&fake, "/webcast/room/check_alive");
    let other: Vec<String> = fake
        .client_log()
        .iter()
        .filter_map(ClientRecord::as_http)
        .filter(|h| {
            !(h.path.starts_with("/@")
                || h.path.starts_with("/api-live/user/room")
                || h.path.starts_with("/webcast/room/check_alive"))
        })
        .map(|h| h.path.clone())
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let report = service.shutdown().await;
    assert!(report.is_clean(), "{report:?}");

    // At most burst + rate × time, since the buckets were made (after `started`).
    let lookup_cap = 5.0 + 10.0 * elapsed;
    let check_cap = 2.0 + 2.0 * elapsed;
    eprintln!(
        "{elapsed:.2} s: {looked_up} lookups (budget {lookup_cap:.1}), {checked} live checks \
         (budget {check_cap:.1})"
    );
    assert!(
        looked_up as f64 <= lookup_cap,
        "{looked_up} lookups > {lookup_cap}"
    );
    assert!(
        checked as f64 <= check_cap,
        "{checked} live checks > {check_cap}"
    );
    // The budget was used, not just respected (demand is far above it).
    assert!(
        looked_up as f64 >= 0.6 * 10.0 * 3.0,
        "only {looked_up} lookups"
    );
    assert!(
        checked as f64 >= 0.6 * 2.0 * 3.0,
        "only {checked} live checks"
    );
    // Nothing else went to TikTok or the sign server: nobody is live.
    assert!(other.is_empty(), "unexpected requests: {other:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recently_live_room_is_checked_more_often_and_found_by_a_live_check() {
    let users = vec![
        ("fresh".to_owned(), UserState::Offline),
        ("stale".to_owned(), UserState::Offline),
    ];
    let fake = fake_with_rooms(&users, feed(5, 40, false)).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(
        &state,
        json!({"version": 1, "rooms": {
            "fresh": {"room_id": fake.room_id("fresh").to_string(), "last_live_ms": now_ms() - 5_000},
            "stale": {"room_id": fake.room_id("stale").to_string(), "last_live_ms": now_ms() - 86_400_000},
        }})
        .to_string(),
    )
    .unwrap();
    let mut cfg = config(&fake.base_url(), &["fresh".to_owned(), "stale".to_owned()]);
    cfg.state_file = Some(state);
    cfg.detect.check_interval = Duration::from_millis(100);
    cfg.detect.recent_lookup_interval = Duration::from_millis(200);
    cfg.detect.lookup_interval = Duration::from_millis(400);
    cfg.detect.lookup_max_interval = Duration::from_secs(5);
    let bus = EventBus::new();
    let (seen, _rec) = Seen::record(&bus);
    let service = Service::builder(cfg).bus(bus).start().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let log = fake.client_log();
    let http: Vec<_> = log.iter().filter_map(ClientRecord::as_http).collect();
    let page = |u: &str| {
        http.iter()
            .filter(|h| h.path == format!("/@{u}/live"))
            .count()
    };
    let checks_of = |room: u64| {
        http.iter()
            .filter(|h| h.path.starts_with("/webcast/room/check_alive"))
            .filter(|h| {
                h.query_param("room_ids")
                    .unwrap_or_default()
                    .split(',')
                    .any(|r| r == room.to_string())
            })
            .count()
    };
    let (fresh_checks, stale_checks) = (
        checks_of(fake.room_id("fresh")),
        checks_of(fake.room_id("stale")),
    );
    let (fresh_lookups, stale_lookups) = (page("fresh"), page("stale"));
    eprintln!(
        "fresh: {fresh_checks} checks, {fresh_lookups} lookups; stale: {stale_checks} checks, \
         {stale_lookups} lookups"
    );
    // The stale room's old id is not worth checking; its lookups slow down (400, 800 ms…).
    assert!(fresh_checks >= 8, "{fresh_checks}");
    assert_eq!(stale_checks, 0);
    assert!(
        fresh_lookups > stale_lookups,
        "{fresh_lookups} vs {stale_lookups}"
    );
    assert!(stale_lookups <= 3, "{stale_lookups}");

    // The stream resumes in the same room: a live check finds it.
    fake.set_user_state("fresh", UserState::Live);
    seen.wait(Duration::from_secs(10), "fresh to go live", |_| {
        seen.states("fresh")
            .iter()
            .any(|(_, to, _)| *to == RoomState::Live)
    })
    .await;
    assert!(service.shutdown().await.is_clean());
}
