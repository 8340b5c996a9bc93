//! The live feed over real sockets: WebSocket clients with filters, pings and the close codes;
//! SSE clients with heartbeats, reconnects and `Last-Event-ID` resumes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use ttlive_eventbus::{ChatEvent, Event, EventBus, EventKind};
use ttlive_outputs::feed::ws::{
    CLOSE_BAD_OPTIONS, CLOSE_PING_TIMEOUT, CLOSE_TOO_MANY, CLOSE_TOO_SLOW,
};
use ttlive_outputs::{FeedConfig, FeedHub};
use ttlive_source_mock::{Pace, ReplaySource, demo_recording};

const LIMIT: Duration = Duration::from_secs(30);
const ROOM: u64 = ttlive_source_mock::DEMO_ROOM_ID;

fn roomy() -> FeedConfig {
    let mut cfg = FeedConfig::default();
    // An instant replay publishes far faster than any live room: give clients room for all
    // of it, so this test checks content, not the slow-client rule (tested on its own).
    cfg.client_buffer = 100_000;
    cfg.ring = 100_000;
    cfg
}

#[tokio::test]
async fn websocket_clients_get_exactly_the_events_their_filters_ask_for() {
    let bus = EventBus::new();
    let hub = FeedHub::start(&bus, roomy());
    let addr = serve(hub.router()).await;
    let mut all = ws_connect(addr, "/ws").await;
    let mut chat_gift = ws_connect(addr, "/ws?rooms=@FakeUser&types=chat,gift").await;
    let mut by_id = ws_connect(
        addr,
        &format!("/ws?rooms={}&types=like", ttlive_source_mock::DEMO_ROOM_ID),
    )
    .await;
    let mut other_room = ws_connect(addr, "/ws?rooms=123,@nobody").await;
    wait_until(LIMIT, "four clients", || hub.clients() == 4).await;

    let truth = truth(&bus);
    let source = bus
        .attach(ReplaySource::new(demo_recording()).pace(Pace::Instant))
        .unwrap();
    source.join().await;
    bus.close().await;
    let published = drain(truth).await;
    assert!(
        published.len() > 300,
        "the demo has hundreds of events, got {}",
        published.len()
    );

    let want = |kinds: &[EventKind]| -> Vec<String> {
        published
            .iter()
            .filter(|e| kinds.is_empty() || kinds.contains(&e.kind()))
            .map(|e| json(e))
            .collect()
    };
    let got = ws_read_all(&mut all, LIMIT).await;
    assert_same(
        &got.texts,
        &want(&[]),
        "every event, in order, as watch --json prints it",
    );
    assert_eq!(got.close, Some((1001, "going away".into())));
    let got = ws_read_all(&mut chat_gift, LIMIT).await;
    assert_same(
        &got.texts,
        &want(&[EventKind::Chat, EventKind::Gift]),
        "chat and gift",
    );
    assert!(got.texts.iter().any(|t| t.contains(r#""type":"gift""#)));
    let got = ws_read_all(&mut by_id, LIMIT).await;
    assert_same(&got.texts, &want(&[EventKind::Like]), "likes by room id");
    assert!(!got.texts.is_empty());
    let got = ws_read_all(&mut other_room, LIMIT).await;
    assert!(got.texts.is_empty(), "{:?}", &got.texts[..1]);
    assert_eq!(got.close.map(|c| c.0), Some(1001));
}

#[tokio::test]
async fn websocket_bad_options_and_too_many_clients_get_their_close_codes() {
    let bus = EventBus::new();
    let mut cfg = FeedConfig::default();
    cfg.max_clients = 1;
    let hub = FeedHub::start(&bus, cfg);
    let addr = serve(hub.router()).await;

    let mut bad = ws_connect(addr, "/ws?types=chat,nonsense").await;
    let got = ws_read_all(&mut bad, LIMIT).await;
    let (code, reason) = got.close.unwrap();
    assert_eq!(code, CLOSE_BAD_OPTIONS);
    assert!(reason.contains("nonsense"), "{reason}");
    let mut bad_room = ws_connect(addr, "/ws?rooms=no%20spaces").await;
    assert_eq!(
        ws_read_all(&mut bad_room, LIMIT).await.close.unwrap().0,
        CLOSE_BAD_OPTIONS
    );

    let _first = ws_connect(addr, "/ws").await;
    wait_until(LIMIT, "one client", || hub.clients() == 1).await;
    let mut second = ws_connect(addr, "/ws").await;
    let got = ws_read_all(&mut second, LIMIT).await;
    assert_eq!(got.close.unwrap().0, CLOSE_TOO_MANY);
    bus.close().await;
}

#[tokio::test]
async fn websocket_server_pings_and_closes_a_client_that_never_answers() {
    let bus = EventBus::new();
    let mut cfg = FeedConfig::default();
    cfg.ping_interval_ms = 100;
    let hub = FeedHub::start(&bus, cfg);
    let addr = serve(hub.router()).await;
    let mut lively = ws_connect(addr, "/ws").await;
    let mut silent = ws_connect(addr, "/ws").await;

    // The lively client reads (its library answers each ping with a pong) for 8 intervals.
    let mut pings = 0;
    let until = tokio::time::Instant::now() + Duration::from_millis(800);
    while let Ok(Some(msg)) =
        tokio::time::timeout_at(until, futures_util::StreamExt::next(&mut lively)).await
    {
        match msg.unwrap() {
            tokio_tungstenite::tungstenite::Message::Ping(_) => pings += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 5, "saw {pings} pings");

    // The silent one read nothing, so it never answered: it is closed with 4408.
    let got = ws_read_all(&mut silent, LIMIT).await;
    assert_eq!(got.close.unwrap().0, CLOSE_PING_TIMEOUT);
    assert!(got.pings >= 1);
    wait_until(LIMIT, "the silent client's slot", || hub.clients() == 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(hub.clients(), 1, "the lively client is still connected");
    bus.close().await;
}

#[tokio::test]
async fn websocket_client_that_falls_behind_is_closed_as_too_slow_without_slowing_others() {
    let bus = EventBus::new();
    let mut cfg = FeedConfig::default();
    cfg.client_buffer = 16;
    let hub = FeedHub::start(&bus, cfg);
    let addr = serve(hub.router()).await;
    let mut slow = ws_connect(addr, "/ws").await;
    wait_until(LIMIT, "the client", || hub.clients() == 1).await;
    let truth = tokio::spawn(drain(truth(&bus)));

    // 48 MiB of chat: far more than loopback socket buffers hold while nobody reads.
    let big = "x".repeat(16 * 1024);
    for n in 1..=3000u64 {
        let mut chat = ChatEvent::default();
        chat.meta.msg_id = n;
        chat.comment = big.clone();
        bus.publish(Event::from(chat)).await.unwrap();
    }
    let got = ws_read_all(&mut slow, LIMIT).await;
    let (code, reason) = got.close.unwrap();
    assert_eq!(code, CLOSE_TOO_SLOW, "{reason}");
    assert!(got.texts.len() < 3000, "it got {} of 3000", got.texts.len());
    bus.close().await;
    assert_eq!(
        truth.await.unwrap().len(),
        3000,
        "the bus itself lost nothing"
    );
}

#[tokio::test]
async fn sse_sends_events_with_ids_types_and_heartbeats_and_refuses_bad_filters() {
    let bus = EventBus::new();
    let mut cfg = roomy();
    cfg.heartbeat_ms = 100;
    let hub = FeedHub::start(&bus, cfg);
    let addr = serve(hub.router()).await;

    let err = SseClient::connect(addr, "/events?types=bogus", None)
        .await
        .err()
        .unwrap();
    assert_eq!(err.0, 400);
    let body: serde_json::Value = serde_json::from_str(&err.1).unwrap();
    assert!(body["error"].as_str().unwrap().contains("bogus"));
    let err = SseClient::connect(addr, "/events", Some("abc"))
        .await
        .err()
        .unwrap();
    assert_eq!(err.0, 400);

    let mut client = SseClient::connect(addr, "/events?types=chat", None)
        .await
        .unwrap();
    let first = client.next(LIMIT).await.unwrap();
    assert_eq!(first.retry.as_deref(), Some("1000"));
    let mut beats = 0;
    while beats < 3 {
        let m = client.next(LIMIT).await.unwrap();
        assert_eq!(m.comment.as_deref(), Some("heartbeat"));
        beats += 1;
    }
    let mut chat = ChatEvent::default();
    chat.meta.msg_id = 77;
    chat.comment = "two\nlines".into();
    bus.publish(Event::from(chat.clone())).await.unwrap();
    let m = client.next_event(LIMIT).await.unwrap();
    assert_eq!(m.event.as_deref(), Some("chat"));
    assert!(m.id.unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(m.data, json(&Event::from(chat)));
    bus.close().await;
    while client.next(LIMIT).await.is_some() {}
}

/// The live source against the fake TikTok; an SSE client reads part of the stream, drops,
/// and reconnects with `Last-Event-ID`: it gets every chat exactly once, in order. (The room
/// is named by id: the live source sends the history batch before `connected`, so a handle
/// learnt from `connected` would match only from there on.)
#[tokio::test]
async fn sse_client_reconnecting_with_last_event_id_resumes_from_the_ring() {
    let tiktok = fake_tiktok(Pace::Instant).await;
    let bus = EventBus::new();
    let hub = FeedHub::start(&bus, roomy());
    let addr = serve(hub.router()).await;
    let truth = truth(&bus);

    let mut first = SseClient::connect(addr, &format!("/events?rooms={ROOM}&types=chat"), None)
        .await
        .unwrap();
    let source = bus.attach(live_source(&tiktok)).unwrap();
    let mut got: Vec<String> = Vec::new();
    let mut last_id = String::new();
    while got.len() < 25 {
        let m = first.next_event(LIMIT).await.unwrap();
        last_id = m.id.unwrap();
        got.push(m.data);
    }
    drop(first);

    source.join().await;
    let path = format!("/events?rooms={ROOM}&types=chat");
    let mut second = SseClient::connect(addr, &path, Some(&last_id))
        .await
        .unwrap();
    bus.close().await;
    let mut ids = vec![last_id.parse::<u64>().unwrap()];
    while let Some(m) = second.next_event(LIMIT).await {
        ids.push(m.id.unwrap().parse().unwrap());
        got.push(m.data);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase");
    let chats: Vec<String> = drain(truth)
        .await
        .iter()
        .filter(|e| e.kind() == EventKind::Chat)
        .map(|e| json(e))
        .collect();
    assert!(chats.len() > 50);
    assert_same(&got, &chats, "every chat exactly once, in order");
    tiktok.shutdown().await;
}

#[tokio::test]
async fn sse_resume_from_before_the_ring_without_an_archive_reports_a_gap() {
    let bus = EventBus::new();
    let mut cfg = FeedConfig::default();
    cfg.ring = 10;
    let hub = FeedHub::start(&bus, cfg);
    let addr = serve(hub.router()).await;
    let mut first = SseClient::connect(addr, "/events", None).await.unwrap();
    for n in 1..=50u64 {
        let mut chat = ChatEvent::default();
        chat.meta.msg_id = n;
        bus.publish(Event::from(chat)).await.unwrap();
    }
    let m = first.next_event(LIMIT).await.unwrap();
    let early = m.id.unwrap();
    drop(first);

    let mut again = SseClient::connect(addr, "/events", Some(&early))
        .await
        .unwrap();
    let gap = again.next_event(LIMIT).await.unwrap();
    assert_eq!(gap.event.as_deref(), Some("gap"));
    assert!(gap.id.is_none());
    let v: serde_json::Value = serde_json::from_str(&gap.data).unwrap();
    assert_eq!(v["type"], "gap");
    assert!(v["reason"].as_str().unwrap().contains("missed"));
    let mut ids = Vec::new();
    for _ in 0..10 {
        let m = again.next_event(LIMIT).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&m.data).unwrap();
        ids.push(v["msg_id"].as_str().unwrap().parse::<u64>().unwrap());
    }
    assert_eq!(
        ids,
        (41..=50).collect::<Vec<_>>(),
        "then the ring, oldest first"
    );
    bus.close().await;
    let _ = Arc::new(());
}
