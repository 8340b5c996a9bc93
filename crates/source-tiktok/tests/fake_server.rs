//! The live source against the project's fake TikTok server, over real sockets on 127.0.0.1:
//! the happy path, every fault mode, and the conformance suite. Each test checks that no event
//! was lost or doubled (by msg id, in order) and that the right lifecycle events came out.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use ttlive_eventbus::conformance::Conformance;
use ttlive_eventbus::{
    Event, EventKind, EventSource, SocialAction, SourceEnd, SourceErrorKind, SourceItem,
};
use ttlive_signer::{EulerSigner, Signer};
use ttlive_source_mock::{
    ClientRecord, FakeServer, Fault, Pace, ReplaySource, Trigger, UserState, demo_recording,
};
use ttlive_source_tiktok::{TikTokSource, TikTokSourceBuilder};

fn signer(base: &str) -> Arc<dyn Signer> {
    Arc::new(
        EulerSigner::builder()
            .base_url(base)
            .use_env(false)
            .no_proxy()
            .build()
            .unwrap(),
    )
}

/// A source pointed at the fake server, with short timers so faults resolve quickly.
fn source(base: &str, user: &str) -> TikTokSourceBuilder {
    TikTokSource::builder(user)
        .signer(signer(base))
        .web_url(base)
        .webcast_url(base)
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .stall_timeout(Duration::from_millis(800))
        .timeouts(Duration::from_secs(5), Duration::from_secs(5))
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
}

async fn server(pace: Pace, faults: &[(Fault, Trigger)]) -> FakeServer {
    let mut b = FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .user("sleepy", UserState::Offline)
        .recording(demo_recording())
        .pace(pace);
    for (f, t) in faults {
        b = b.fault(f.clone(), *t);
    }
    b.start().await.unwrap()
}

/// Everything a run produced.
#[derive(Default)]
struct Run {
    events: Vec<Event>,
    errors: Vec<SourceErrorKind>,
    error_texts: Vec<String>,
    end: Option<SourceEnd>,
}

impl Run {
    fn kinds(&self) -> Vec<EventKind> {
        self.events.iter().map(Event::kind).collect()
    }

    fn count(&self, kind: EventKind) -> usize {
        self.events.iter().filter(|e| e.kind() == kind).count()
    }

    /// Message ids of the webcast events, in order.
    fn msg_ids(&self) -> Vec<u64> {
        self.events
            .iter()
            .filter(|e| !e.kind().is_lifecycle())
            .map(Event::msg_id)
            .collect()
    }
}

async fn drain(mut src: impl EventSource, limit: Duration) -> Run {
    let mut run = Run::default();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let item = tokio::time::timeout_at(deadline, src.next())
            .await
            .expect("the source did not end in time");
        match item {
            SourceItem::Event(e) => run.events.push(e),
            SourceItem::Error(e) => {
                run.errors.push(e.kind());
                run.error_texts.push(e.to_string());
            }
            SourceItem::End(end) => {
                run.end = Some(end);
                return run;
            }
            _ => {}
        }
    }
}

/// What the recording holds: every webcast message id once, in order (history first).
async fn expected_ids() -> Vec<u64> {
    let run = drain(
        ReplaySource::new(demo_recording()).pace(Pace::Instant),
        Duration::from_secs(30),
    )
    .await;
    let mut seen = HashSet::new();
    run.msg_ids()
        .into_iter()
        .filter(|id| seen.insert(*id))
        .collect()
}

fn assert_exactly_once(run: &Run, expected: &[u64]) {
    let ids = run.msg_ids();
    let mut seen = HashSet::new();
    let dups: Vec<u64> = ids.iter().copied().filter(|id| !seen.insert(*id)).collect();
    assert!(
        dups.is_empty(),
        "{} duplicated events: {dups:?}",
        dups.len()
    );
    let missing: Vec<u64> = expected
        .iter()
        .copied()
        .filter(|id| !seen.contains(id))
        .collect();
    let extra: Vec<String> = run
        .events
        .iter()
        .filter(|e| !e.kind().is_lifecycle() && !expected.contains(&e.msg_id()))
        .map(|e| format!("{} {} {}", e.name(), e.msg_id(), e.meta().is_history))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}; unexpected {extra:?}"
    );
    assert_eq!(
        ids.len(),
        expected.len(),
        "delivered {} webcast events, the server sent {}",
        ids.len(),
        expected.len()
    );
    assert_eq!(ids, expected, "order or content differs");
}

#[tokio::test]
async fn happy_path_delivers_every_kind_once_then_ends() {
    let srv = server(Pace::Instant, &[]).await;
    let run = drain(
        source(&srv.base_url(), "@fakeuser").start().unwrap(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(run.end, Some(SourceEnd::StreamEnded));
    assert!(run.errors.is_empty(), "errors: {:?}", run.error_texts);
    assert_exactly_once(&run, &expected_ids().await);
    for kind in [
        EventKind::Connected,
        EventKind::Chat,
        EventKind::Gift,
        EventKind::Member,
        EventKind::Like,
        EventKind::Social,
        EventKind::RoomUser,
        EventKind::QuestionNew,
        EventKind::LinkMicBattle,
        EventKind::LinkMicArmies,
        EventKind::Emote,
        EventKind::StreamEnd,
    ] {
        assert!(run.count(kind) > 0, "no {kind} event");
    }
    assert_eq!(run.count(EventKind::Connected), 1);
    assert_eq!(run.count(EventKind::Reconnecting), 0);
    assert_eq!(run.kinds().last(), Some(&EventKind::StreamEnd));
    let socials: HashSet<SocialAction> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Social(s) => Some(s.action),
            _ => None,
        })
        .collect();
    assert!(socials.contains(&SocialAction::Follow) && socials.contains(&SocialAction::Share));
    // A finished streak counts once; streak steps are marked in progress.
    let gifts: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Gift(g) => Some(g),
            _ => None,
        })
        .collect();
    assert!(gifts.iter().any(|g| g.streaking));
    assert!(
        gifts
            .iter()
            .all(|g| g.streaking != (g.repeat_end || !g.gift.is_streakable()))
    );
    assert!(
        gifts
            .iter()
            .all(|g| g.diamonds == u64::from(g.repeat_count) * u64::from(g.gift.diamond_count))
    );
    assert!(
        run.events
            .iter()
            .all(|e| e.room_id() == srv.room_id("fakeuser"))
    );

    // What the client sent: enter room for the right room, and acks for acked frames.
    let log = srv.client_log();
    let room = srv.room_id("fakeuser");
    assert!(log.iter().any(
        |r| matches!(r, ClientRecord::EnterRoom { room_id, enter_unique_id, .. } if *room_id == room && *enter_unique_id != 0)
    ));
    let acks = log
        .iter()
        .filter(|r| matches!(r, ClientRecord::Ack { payload, log_id, .. } if !payload.is_empty() && *log_id != 0))
        .count();
    assert!(acks > 10, "only {acks} acks");
    assert!(
        log.iter()
            .any(|r| matches!(r, ClientRecord::WsOpen { gzip: true, .. }))
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn heartbeats_go_out_on_time_with_a_growing_sequence() {
    let srv = server(Pace::Speed(40.0), &[]).await;
    let src = source(&srv.base_url(), "fakeuser")
        .heartbeat(Duration::from_millis(100))
        .start()
        .unwrap();
    let run = drain(src, Duration::from_secs(30)).await;
    assert_eq!(run.end, Some(SourceEnd::StreamEnded));
    let room = srv.room_id("fakeuser");
    let seqs: Vec<u64> = srv
        .client_log()
        .iter()
        .filter_map(|r| match r {
            ClientRecord::Heartbeat { room_id, seq, .. } if *room_id == room => Some(*seq),
            _ => None,
        })
        .collect();
    assert!(
        seqs.len() >= 10,
        "only {} heartbeats; log: {:?}",
        seqs.len(),
        srv.client_log()
            .iter()
            .map(|r| format!("{r:?}").chars().take(60).collect::<String>())
            .collect::<Vec<_>>()
    );
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    assert_eq!(seqs[0], 1);
    // im_enter_room comes before the first heartbeat.
    let log = srv.client_log();
    let enter = log
        .iter()
        .position(|r| matches!(r, ClientRecord::EnterRoom { .. }))
        .unwrap();
    let first_hb = log
        .iter()
        .position(|r| matches!(r, ClientRecord::Heartbeat { .. }))
        .unwrap();
    assert!(enter < first_hb);
    srv.shutdown().await;
}

/// Runs the demo through one fault and checks: everything exactly once, in order, the stream
/// end reached, and the lifecycle events of one reconnect.
async fn survives(fault: Fault, pace: Pace) -> Run {
    let srv = server(pace, &[(fault.clone(), Trigger::Once)]).await;
    let run = drain(
        source(&srv.base_url(), "fakeuser").start().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        run.end,
        Some(SourceEnd::StreamEnded),
        "{fault:?}: {:?}",
        run.error_texts
    );
    assert_exactly_once(&run, &expected_ids().await);
    srv.shutdown().await;
    run
}

fn assert_one_reconnect(run: &Run, connected_before: bool) {
    assert_eq!(
        run.count(EventKind::Reconnecting),
        1,
        "{:?}",
        run.error_texts
    );
    assert_eq!(
        run.count(EventKind::Connected),
        if connected_before { 2 } else { 1 }
    );
    assert_eq!(
        run.count(EventKind::Disconnected),
        usize::from(connected_before)
    );
    assert_eq!(
        run.count(EventKind::Gap),
        0,
        "cursor resume must not report a gap"
    );
    // The order: disconnected (if connected) → reconnecting → connected.
    let k = run.kinds();
    let r = k
        .iter()
        .position(|k| *k == EventKind::Reconnecting)
        .unwrap();
    assert!(k[r + 1..].contains(&EventKind::Connected));
    if connected_before {
        let d = k
            .iter()
            .position(|k| *k == EventKind::Disconnected)
            .unwrap();
        assert!(d < r);
        let Some(Event::Disconnected(ev)) = run
            .events
            .iter()
            .find(|e| e.kind() == EventKind::Disconnected)
        else {
            unreachable!()
        };
        assert!(ev.will_reconnect);
    }
}

#[tokio::test]
async fn a_dropped_socket_resumes_from_the_cursor_without_loss_or_doubles() {
    let run = survives(Fault::DropAfterFrames(5), Pace::Speed(200.0)).await;
    assert_one_reconnect(&run, true);
    assert_eq!(run.errors, vec![SourceErrorKind::Network]);
}

#[tokio::test]
async fn a_stalled_socket_is_replaced() {
    let run = survives(Fault::Stall, Pace::Speed(200.0)).await;
    assert_one_reconnect(&run, true);
    assert_eq!(run.errors, vec![SourceErrorKind::Timeout]);
    assert!(
        run.error_texts[0].contains("stalled"),
        "{:?}",
        run.error_texts
    );
}

#[tokio::test]
async fn a_rate_limited_sign_waits_for_retry_after() {
    let started = tokio::time::Instant::now();
    let run = survives(
        Fault::SignRateLimited {
            retry_after_secs: 1,
        },
        Pace::Instant,
    )
    .await;
    assert_one_reconnect(&run, false);
    assert!(matches!(
        run.errors[..],
        [SourceErrorKind::RateLimited {
            retry_after: Some(_)
        }]
    ));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After ignored"
    );
    let Some(Event::Reconnecting(r)) = run
        .events
        .iter()
        .find(|e| e.kind() == EventKind::Reconnecting)
    else {
        unreachable!()
    };
    assert!(r.delay_ms >= 1000, "delay {} ms", r.delay_ms);
}

#[tokio::test]
async fn a_refused_upgrade_is_a_typed_rejection_then_retried() {
    let run = survives(Fault::RejectUpgrade("DEVICE_BLOCKED".into()), Pace::Instant).await;
    assert_one_reconnect(&run, false);
    assert!(
        run.error_texts[0].contains("HTTP 200") && run.error_texts[0].contains("DEVICE_BLOCKED"),
        "{:?}",
        run.error_texts
    );
}

#[tokio::test]
async fn a_sign_server_error_is_retried() {
    let run = survives(Fault::SignServerError, Pace::Instant).await;
    assert_one_reconnect(&run, false);
}

#[tokio::test]
async fn a_malformed_frame_is_an_error_and_the_connection_carries_on() {
    let run = survives(Fault::MalformedFrame, Pace::Instant).await;
    assert_eq!(run.count(EventKind::Reconnecting), 0);
    assert_eq!(run.errors, vec![SourceErrorKind::Decode]);
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_and_the_connection_carries_on() {
    let run = survives(Fault::oversized_gzip(), Pace::Instant).await;
    assert_eq!(run.count(EventKind::Reconnecting), 0);
    assert_eq!(run.errors, vec![SourceErrorKind::Decode]);
    assert!(
        run.error_texts[0].contains("too large") || run.error_texts[0].contains("limit"),
        "{:?}",
        run.error_texts
    );
}

#[tokio::test]
async fn stream_end_finishes_without_reconnecting() {
    let srv = server(Pace::Instant, &[(Fault::StreamEnd, Trigger::Once)]).await;
    let run = drain(
        source(&srv.base_url(), "fakeuser").start().unwrap(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(run.end, Some(SourceEnd::StreamEnded));
    assert_eq!(run.count(EventKind::Reconnecting), 0);
    assert_eq!(run.count(EventKind::StreamEnd), 1);
    srv.shutdown().await;
}

#[tokio::test]
async fn unauthorized_sign_is_fatal_at_once() {
    let srv = server(Pace::Instant, &[(Fault::SignUnauthorized, Trigger::Always)]).await;
    let run = drain(
        source(&srv.base_url(), "fakeuser").start().unwrap(),
        Duration::from_secs(10),
    )
    .await;
    let Some(SourceEnd::Fatal(e)) = &run.end else {
        panic!("expected a fatal end, got {:?}", run.end)
    };
    assert_eq!(e.kind(), SourceErrorKind::Auth, "{e}");
    assert_eq!(run.count(EventKind::Reconnecting), 0);
    srv.shutdown().await;
}

#[tokio::test]
async fn offline_and_unknown_users_are_fatal_typed_errors() {
    let srv = server(Pace::Instant, &[]).await;
    for (user, kind, text) in [
        ("sleepy", SourceErrorKind::NotFound, "not live"),
        ("nobody_here", SourceErrorKind::NotFound, "not found"),
    ] {
        let run = drain(
            source(&srv.base_url(), user).start().unwrap(),
            Duration::from_secs(10),
        )
        .await;
        let Some(SourceEnd::Fatal(e)) = &run.end else {
            panic!("{user}: expected a fatal end, got {:?}", run.end)
        };
        assert_eq!(e.kind(), kind, "{user}: {e}");
        assert!(e.to_string().contains(text), "{user}: {e}");
        assert!(run.events.is_empty());
    }
    srv.shutdown().await;
}

#[tokio::test]
async fn attempts_are_limited() {
    let srv = server(Pace::Instant, &[(Fault::SignServerError, Trigger::Always)]).await;
    let run = drain(
        source(&srv.base_url(), "fakeuser")
            .max_attempts(Some(3))
            .start()
            .unwrap(),
        Duration::from_secs(10),
    )
    .await;
    let Some(SourceEnd::Fatal(e)) = &run.end else {
        panic!("expected a fatal end, got {:?}", run.end)
    };
    assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    assert_eq!(run.count(EventKind::Reconnecting), 2);
    srv.shutdown().await;
}

#[tokio::test]
async fn history_can_be_turned_off_and_a_room_id_target_works() {
    let srv = server(Pace::Instant, &[]).await;
    let room = srv.room_id("fakeuser");
    let with = drain(
        source(&srv.base_url(), &room.to_string()).start().unwrap(),
        Duration::from_secs(30),
    )
    .await;
    let without = drain(
        source(&srv.base_url(), "fakeuser")
            .emit_history(false)
            .start()
            .unwrap(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(with.end, Some(SourceEnd::StreamEnded));
    assert_eq!(without.end, Some(SourceEnd::StreamEnded));
    assert!(without.msg_ids().len() < with.msg_ids().len());
    let history: HashSet<u64> = with
        .events
        .iter()
        .filter(|e| e.meta().is_history)
        .map(Event::msg_id)
        .collect();
    assert!(!history.is_empty());
    assert!(without.msg_ids().iter().all(|id| !history.contains(id)));
    srv.shutdown().await;
}

/// The eventbus conformance suite. The fake server runs on its own runtime so that the suite's
/// task accounting sees only the source's tasks.
#[test]
fn conforms_to_the_event_source_contract() {
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let srv = server_rt.block_on(server(Pace::Instant, &[]));
    let base = srv.base_url();
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let report = client_rt
        .block_on(
            Conformance::new()
                .nondeterministic()
                .item_timeout(Duration::from_secs(10))
                .run(|| source(&base, "fakeuser").start().unwrap()),
        )
        .unwrap_or_else(|f| panic!("conformance: {f:?}"));
    assert!(report.events > 100, "{report:?}");
    server_rt.block_on(srv.shutdown());
}

// ---------------------------------------------------------------------------------------------
// Direct mode (no sign server: a ttwid cookie and TikTok's web-player handshake)

fn direct_signer(base: &str) -> Arc<ttlive_signer::DirectSigner> {
    use ttlive_signer::{DirectHost, DirectSigner, PageTtwid, TtwidCache};
    let page = PageTtwid::new(&format!("{base}/"))
        .unwrap()
        .retry_delay(Duration::from_millis(10));
    let cache = Arc::new(TtwidCache::builder().source(page).build());
    Arc::new(
        DirectSigner::builder()
            .ttwid_cache(cache)
            .host(DirectHost::Custom(base.replacen("http://", "ws://", 1)))
            .web_base_url(base)
            .no_proxy()
            .build()
            .unwrap(),
    )
}

fn direct_source(base: &str, signer: Arc<dyn Signer>) -> TikTokSourceBuilder {
    source(base, "fakeuser").signer(signer)
}

/// What the push frames hold (direct mode has no history batch): the recording's push frames
/// decoded, each message id once.
async fn expected_push_ids() -> Vec<u64> {
    let mut seen = HashSet::new();
    let mut ids = Vec::new();
    for unit in demo_recording().units {
        if unit.kind != ttlive_source_mock::UnitKind::PushFrame {
            continue;
        }
        let frame =
            ttlive_proto::decode_msg_frame(&unit.data, &ttlive_proto::FrameLimits::default())
                .unwrap();
        for ev in ttlive_proto::decode_events(frame.result.as_ref().unwrap()) {
            let id = ev.unwrap().msg_id();
            if seen.insert(id) {
                ids.push(id);
            }
        }
    }
    ids
}

#[tokio::test]
async fn direct_mode_needs_no_sign_server_and_sends_hb_before_enter_room() {
    let srv = server(Pace::Instant, &[]).await;
    let base = srv.base_url();
    let run = drain(
        direct_source(&base, direct_signer(&base)).start().unwrap(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        run.end,
        Some(SourceEnd::StreamEnded),
        "{:?}",
        run.error_texts
    );
    assert_exactly_once(&run, &expected_push_ids().await);
    let log = srv.client_log();
    assert!(
        !log.iter().any(|r| matches!(r, ClientRecord::Http(h)
            if h.path.starts_with("/webcast/rooms/") || h.path.starts_with("/webcast/fetch"))),
        "a sign route was called"
    );
    let frames = srv.client_frames(1);
    assert_eq!(frames[..2], ["hb", "im_enter_room"], "{frames:?}");
    assert_eq!(srv.issued_ttwids().len(), 1);
    srv.shutdown().await;
}

/// Runs the demo in direct mode through one fault: the stream must end normally, the first
/// error must name `reason`, and every pushed message must arrive exactly once.
async fn direct_survives(fault: Fault, reason: &str) -> (Run, FakeServer) {
    let srv = server(Pace::Instant, &[(fault, Trigger::Once)]).await;
    let base = srv.base_url();
    let run = drain(
        direct_source(&base, direct_signer(&base)).start().unwrap(),
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(
        run.end,
        Some(SourceEnd::StreamEnded),
        "{:?}",
        run.error_texts
    );
    assert!(run.error_texts[0].contains(reason), "{:?}", run.error_texts);
    assert_exactly_once(&run, &expected_push_ids().await);
    (run, srv)
}

#[tokio::test]
async fn direct_mode_rotates_the_ttwid_after_device_blocked() {
    let (_, srv) = direct_survives(Fault::DeviceBlocked, "DEVICE_BLOCKED").await;
    assert_eq!(
        srv.issued_ttwids().len(),
        2,
        "the refused ttwid was replaced"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn direct_mode_close_frame_is_retryable_and_reported_as_a_gap() {
    let fault = Fault::CloseFrame {
        reason: "server_maintenance".into(),
    };
    let (run, srv) = direct_survives(fault, "server_maintenance").await;
    assert_eq!(
        run.count(EventKind::Gap),
        1,
        "direct reconnects cannot resume"
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn auto_mode_falls_back_to_the_sign_server_when_direct_fails() {
    use ttlive_signer::{FallbackSigner, SignerMode};
    let srv = server(
        Pace::Instant,
        &[(Fault::TtwidWithoutCookie, Trigger::Always)],
    )
    .await;
    let base = srv.base_url();
    let euler = EulerSigner::builder()
        .base_url(&base)
        .use_env(false)
        .no_proxy()
        .build()
        .unwrap();
    let fallback = FallbackSigner::builder_shared(direct_signer(&base), Arc::new(euler))
        .mode(SignerMode::Auto)
        .build();
    let run = drain(
        direct_source(&base, Arc::new(fallback)).start().unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        run.end,
        Some(SourceEnd::StreamEnded),
        "{:?}",
        run.error_texts
    );
    // Through the sign server: the history batch too.
    assert_exactly_once(&run, &expected_ids().await);
    assert!(
        srv.client_log()
            .iter()
            .any(|r| matches!(r, ClientRecord::Http(h) if h.path.starts_with("/webcast/rooms/")))
    );
    srv.shutdown().await;
}

#[tokio::test]
async fn http_polling_takes_over_when_no_websocket_can_be_had() {
    let srv = server(
        Pace::Instant,
        &[(
            Fault::RejectUpgrade("NO_SOCKET_FOR_YOU".into()),
            Trigger::Always,
        )],
    )
    .await;
    let run = drain(
        source(&srv.base_url(), "fakeuser")
            .polling(true, Duration::from_millis(200), Duration::from_secs(60))
            .start()
            .unwrap(),
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(
        run.end,
        Some(SourceEnd::StreamEnded),
        "{:?}",
        run.error_texts
    );
    assert_exactly_once(&run, &expected_ids().await);
    let transports: Vec<&str> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Connected(c) => Some(c.transport.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(transports, ["polling"]);
    let polls = srv
        .client_log()
        .iter()
        .filter(|r| matches!(r, ClientRecord::Http(h) if h.path.starts_with("/webcast/im/fetch")))
        .count();
    assert!(polls >= 5, "{polls} polls");
    srv.shutdown().await;
}
