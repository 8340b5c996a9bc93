//! Fan-out, filters, typed subscriptions, the Stream impl, backpressure and stats.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{chat, chats, gift, like, member};
use futures_util::StreamExt;
use ttlive_eventbus::{
    BusError, ChatEvent, Event, EventBus, EventKind, Filter, GiftEvent, Lagged, ScriptedSource,
    SourceEnd, SourceError, SourceErrorKind, SourceState, SubscribeOptions, Subscription,
};

/// Reads everything until the end, panicking on lag.
async fn drain(sub: &mut Subscription) -> Vec<Arc<Event>> {
    let mut out = Vec::new();
    while let Some(item) = sub.recv().await {
        out.push(item.expect("unexpected lag"));
    }
    out
}

fn msg_ids(events: &[Arc<Event>]) -> Vec<u64> {
    events.iter().map(|e| e.msg_id()).collect()
}

#[tokio::test]
async fn every_subscriber_gets_every_event_in_order_sharing_one_allocation() {
    let bus = EventBus::new();
    let mut subs: Vec<Subscription> = (0..3).map(|_| bus.subscribe()).collect();
    for ev in chats(1, 10) {
        assert_eq!(bus.publish(ev).await, Ok(3));
    }
    bus.close().await;
    let mut all = Vec::new();
    for sub in &mut subs {
        let got = drain(sub).await;
        assert_eq!(msg_ids(&got), (1..=10).collect::<Vec<_>>());
        all.push(got);
    }
    // Fan-out shares the event: the same allocation reaches every subscriber.
    assert!(Arc::ptr_eq(&all[0][4], &all[1][4]));
    assert!(Arc::ptr_eq(&all[0][4], &all[2][4]));
}

#[tokio::test]
async fn filters_by_kind_and_room_at_publish_time() {
    let bus = EventBus::new();
    let mut chats_only = bus.subscribe_filtered(Filter::kind(EventKind::Chat));
    let mut room2 = bus.subscribe_filtered(Filter::all().room(2));
    let mut gifts_room1 = bus.subscribe_filtered(Filter::kinds([EventKind::Gift]).rooms([1, 3]));
    let mut none = bus.subscribe_filtered(Filter::kinds([]));
    let mut everything = bus.subscribe();

    let events = vec![
        chat(1, 1, "a"),
        gift(1, 2, 5),
        like(2, 3),
        chat(2, 4, "b"),
        gift(2, 5, 1),
        gift(3, 6, 7),
        member(1, 7),
    ];
    let mut delivered = Vec::new();
    for ev in events {
        delivered.push(bus.publish(ev).await.unwrap());
    }
    // chat(1): chats_only + everything; gift(1): gifts_room1 + everything; like(2): room2 +
    // everything; chat(2): chats_only, room2, everything; gift(2): room2, everything;
    // gift(3): gifts_room1, everything; member(1): everything.
    assert_eq!(delivered, vec![2, 2, 2, 3, 2, 2, 1]);

    // A filtered subscriber's queue only ever held what it asked for.
    let stats = bus.stats();
    assert_eq!(stats.subscriber(chats_only.id()).unwrap().enqueued, 2);
    assert_eq!(stats.subscriber(none.id()).unwrap().enqueued, 0);

    bus.close().await;
    assert_eq!(msg_ids(&drain(&mut chats_only).await), vec![1, 4]);
    assert_eq!(msg_ids(&drain(&mut room2).await), vec![3, 4, 5]);
    assert_eq!(msg_ids(&drain(&mut gifts_room1).await), vec![2, 6]);
    assert!(drain(&mut none).await.is_empty());
    assert_eq!(
        msg_ids(&drain(&mut everything).await),
        (1..=7).collect::<Vec<_>>()
    );
}

#[test]
fn filter_matching() {
    let f = Filter::kinds([EventKind::Chat, EventKind::Gift]).rooms([9, 3, 9]);
    assert_eq!(f.room_list(), Some(&[3, 9][..]));
    assert!(f.matches(&chat(3, 1, "x")));
    assert!(!f.matches(&chat(4, 1, "x")));
    assert!(!f.matches(&like(3, 1)));
    assert_eq!(f.kind_list(), vec![EventKind::Chat, EventKind::Gift]);
    let typed = Filter::all().restrict_to_kind(EventKind::Like);
    assert_eq!(typed.kind_list(), vec![EventKind::Like]);
    let empty = Filter::kinds([EventKind::Chat]).restrict_to_kind(EventKind::Like);
    assert!(empty.kind_list().is_empty());
    // Many rooms use the sorted lookup.
    let many = Filter::all().rooms(0..100);
    assert!(many.matches_room(57) && !many.matches_room(100));
}

#[tokio::test]
async fn typed_subscription_yields_the_struct_of_its_kind_only() {
    let bus = EventBus::new();
    let mut chats_sub = bus.subscribe_typed::<ChatEvent>();
    let mut gifts_room2 = bus.subscribe_typed_with::<GiftEvent>(
        Filter::all().room(2),
        SubscribeOptions::new().name("gifts"),
    );
    bus.publish(chat(1, 1, "hello")).await.unwrap();
    bus.publish(gift(1, 2, 10)).await.unwrap();
    bus.publish(gift(2, 3, 20)).await.unwrap();
    bus.publish(chat(2, 4, "world")).await.unwrap();
    bus.close().await;

    let mut texts = Vec::new();
    while let Some(c) = chats_sub.recv().await {
        let c: ChatEvent = c.unwrap();
        texts.push(c.comment);
    }
    assert_eq!(texts, vec!["hello", "world"]);

    let g = gifts_room2.recv().await.unwrap().unwrap();
    assert_eq!((g.meta.room_id, g.diamonds), (2, 20));
    assert!(gifts_room2.recv().await.is_none());
}

#[tokio::test]
async fn subscriptions_are_streams() {
    let bus = EventBus::new();
    let all = bus.subscribe();
    let typed = bus.subscribe_typed::<ChatEvent>();
    bus.publish(chat(1, 1, "one")).await.unwrap();
    bus.publish(like(1, 2)).await.unwrap();
    bus.publish(chat(1, 3, "three")).await.unwrap();
    bus.close().await;

    let kinds: Vec<EventKind> = all.map(|r| r.unwrap().kind()).collect().await;
    assert_eq!(
        kinds,
        vec![EventKind::Chat, EventKind::Like, EventKind::Chat]
    );
    let texts: Vec<String> = typed
        .filter_map(|r| async move { r.ok().map(|c| c.comment) })
        .collect()
        .await;
    assert_eq!(texts, vec!["one", "three"]);
}

#[tokio::test]
async fn a_full_lossy_queue_drops_the_oldest_and_reports_the_exact_count() {
    let bus = EventBus::new();
    let mut slow = bus.subscribe_with(Filter::all(), SubscribeOptions::new().capacity(8));
    let mut fast = bus.subscribe();
    // `slow` does not read while 100 events go by.
    for ev in chats(1, 100) {
        bus.publish(ev).await.unwrap();
    }
    assert_eq!(bus.stats().subscriber(slow.id()).unwrap().dropped, 92);
    assert_eq!(slow.len(), 8);

    assert_eq!(slow.recv().await, Some(Err(Lagged(92))));
    let mut rest = Vec::new();
    for _ in 0..8 {
        rest.push(slow.recv().await.unwrap().unwrap().msg_id());
    }
    assert_eq!(rest, (93..=100).collect::<Vec<_>>());

    // It goes on normally afterwards.
    bus.publish(chat(1, 101, "later")).await.unwrap();
    assert_eq!(slow.recv().await.unwrap().unwrap().msg_id(), 101);

    bus.close().await;
    assert!(slow.recv().await.is_none());
    assert_eq!(
        msg_ids(&drain(&mut fast).await),
        (1..=101).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn a_sleeping_subscriber_is_told_what_it_missed_while_others_see_everything() {
    let bus = EventBus::with_capacity(16);
    let mut fast = bus.subscribe_with(Filter::all(), SubscribeOptions::new().capacity(1000));
    let mut slow = bus.subscribe();

    // A source emitting one event per millisecond for 300 ms.
    let mut script = ScriptedSource::new("ticker").room(1);
    for ev in chats(1, 300) {
        script = script.event(ev).delay(Duration::from_millis(1));
    }
    let handle = bus.attach(script.finished()).unwrap();

    let slow_task = tokio::spawn(async move {
        let (mut seen, mut lagged, mut notices, mut last) = (0u64, 0u64, 0u64, 0u64);
        while let Some(item) = slow.recv().await {
            match item {
                Ok(ev) => {
                    // Order is kept across lag notices.
                    assert!(ev.msg_id() > last, "out of order");
                    last = ev.msg_id();
                    seen += 1;
                    // A slow consumer: 10 ms per event.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err(Lagged(n)) => {
                    lagged += n;
                    notices += 1;
                }
            }
        }
        (seen, lagged, notices)
    });
    let fast_task = tokio::spawn(async move { drain(&mut fast).await.len() });

    assert_eq!(handle.join().await, SourceEnd::Finished);
    let dropped = bus.stats().subscribers[1].dropped;
    bus.close().await;
    let (seen, lagged, notices) = slow_task.await.unwrap();
    assert_eq!(fast_task.await.unwrap(), 300);
    assert!(
        lagged > 0 && notices > 0,
        "the slow subscriber must have lagged"
    );
    // Nothing is lost silently: what it saw plus what it was told it missed is everything.
    assert_eq!(seen + lagged, 300);
    assert_eq!(lagged, dropped);
}

#[tokio::test(start_paused = true)]
async fn a_lossless_subscriber_sees_everything_and_paces_the_source() {
    let bus = EventBus::new();
    let mut recorder = bus.subscribe_with(
        Filter::all(),
        SubscribeOptions::new()
            .lossless(true)
            .capacity(2)
            .name("recorder"),
    );
    let mut other = bus.subscribe();
    let handle = bus
        .attach(ScriptedSource::new("burst").events(chats(1, 50)).finished())
        .unwrap();

    let started = tokio::time::Instant::now();
    let rec = tokio::spawn(async move {
        let mut ids = Vec::new();
        while let Some(item) = recorder.recv().await {
            ids.push(item.expect("a lossless subscriber never lags").msg_id());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        ids
    });
    assert_eq!(handle.join().await, SourceEnd::Finished);
    // The source could not finish before the recorder had taken most of the burst.
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    let stats = bus.stats();
    assert_eq!(stats.subscribers[0].name.as_deref(), Some("recorder"));
    assert_eq!(stats.subscribers[0].dropped, 0);
    bus.close().await;
    assert_eq!(rec.await.unwrap(), (1..=50).collect::<Vec<_>>());
    assert_eq!(
        msg_ids(&drain(&mut other).await),
        (1..=50).collect::<Vec<_>>()
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_a_lossless_subscriber_releases_a_waiting_source() {
    let bus = EventBus::new();
    let stuck = bus.subscribe_lossless(Filter::all());
    let mut other = bus.subscribe();
    let handle = bus
        .attach(ScriptedSource::new("s").events(chats(1, 2000)).finished())
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        !handle.is_finished(),
        "the source must wait for the lossless subscriber"
    );
    drop(stuck);
    assert_eq!(handle.join().await, SourceEnd::Finished);
    bus.close().await;
    let mut n = 0;
    while let Some(item) = other.recv().await {
        match item {
            Ok(_) => n += 1,
            Err(Lagged(k)) => n += k,
        }
    }
    assert_eq!(n, 2000);
}

#[tokio::test]
async fn direct_publishers_wait_on_a_full_lossless_subscriber() {
    let bus = EventBus::new();
    let mut rec = bus.subscribe_with(
        Filter::all(),
        SubscribeOptions::new().lossless(true).capacity(1),
    );
    bus.publish(chat(1, 1, "a")).await.unwrap();
    let b2 = bus.clone();
    let blocked = tokio::spawn(async move { b2.publish(chat(1, 2, "b")).await });
    tokio::task::yield_now().await;
    assert!(!blocked.is_finished());
    assert_eq!(rec.recv().await.unwrap().unwrap().msg_id(), 1);
    assert_eq!(blocked.await.unwrap(), Ok(1));
    assert_eq!(rec.recv().await.unwrap().unwrap().msg_id(), 2);
}

#[tokio::test]
async fn stats_count_kinds_sources_errors_and_states() {
    let bus = EventBus::new();
    let mut lossy = bus.subscribe_with(
        Filter::all(),
        SubscribeOptions::new().capacity(2).name("tiny"),
    );
    let failing = ScriptedSource::new("failing")
        .room(1)
        .event(chat(1, 1, "a"))
        .error(SourceError::decode("bad frame"))
        .event(gift(1, 2, 5))
        .event(chat(1, 3, "b"))
        .error(SourceError::network("blip"))
        .fatal(SourceError::auth("session expired"));
    let ended = ScriptedSource::new("ended")
        .room(2)
        .event(like(2, 4))
        .stream_ended();
    let h1 = bus.attach(failing).unwrap();
    let h2 = bus.attach(ended).unwrap();
    assert!(h1.join().await.is_fatal());
    assert_eq!(h2.join().await, SourceEnd::StreamEnded);
    bus.publish(chat(3, 5, "direct")).await.unwrap();

    let stats = bus.stats();
    assert_eq!(stats.published(), 5);
    assert_eq!(stats.kind_count(EventKind::Chat), 3);
    assert_eq!(stats.kind_count(EventKind::Gift), 1);
    assert_eq!(stats.kind_count(EventKind::Like), 1);
    assert_eq!(stats.kind_count(EventKind::Member), 0);

    let s1 = stats.source(h1.id()).unwrap();
    assert_eq!(s1.info.name, "failing");
    assert_eq!(s1.info.room_id, Some(1));
    assert_eq!((s1.events, s1.errors), (3, 2));
    assert_eq!(s1.per_kind.get(&EventKind::Chat), Some(&2));
    assert_eq!(
        s1.last_error.as_ref().unwrap().kind(),
        SourceErrorKind::Network
    );
    match &s1.state {
        SourceState::Failed(e) => assert_eq!(e.kind(), SourceErrorKind::Auth),
        other => panic!("expected failed, got {other:?}"),
    }
    let s2 = stats.source(h2.id()).unwrap();
    assert_eq!((s2.events, s2.errors), (1, 0));
    assert_eq!(s2.state, SourceState::Ended(SourceEnd::StreamEnded));

    let sub = stats.subscriber(lossy.id()).unwrap();
    assert_eq!(sub.name.as_deref(), Some("tiny"));
    assert_eq!((sub.enqueued, sub.dropped, sub.queued), (5, 3, 2));
    assert_eq!(lossy.recv().await, Some(Err(Lagged(3))));
}

#[tokio::test]
async fn a_stopped_source_ends_stopped_while_others_go_on() {
    let bus = EventBus::new();
    let mut sub = bus.subscribe();
    let quiet = bus.attach(ScriptedSource::new("quiet").hang()).unwrap();
    let talker = bus
        .attach(ScriptedSource::new("talker").event(chat(1, 1, "hi")).hang())
        .unwrap();
    assert_eq!(sub.recv().await.unwrap().unwrap().msg_id(), 1);
    assert_eq!(quiet.stop_and_join().await, SourceEnd::Stopped);
    assert!(!talker.is_finished());
    assert_eq!(
        bus.stats().source(quiet.id()).unwrap().state,
        SourceState::Ended(SourceEnd::Stopped)
    );
    assert_eq!(
        bus.stats().source(talker.id()).unwrap().state,
        SourceState::Running
    );
    // Stopping after the end keeps the real end.
    let done = bus.attach(ScriptedSource::new("done").finished()).unwrap();
    assert_eq!(done.join().await, SourceEnd::Finished);
    assert_eq!(done.stop_and_join().await, SourceEnd::Finished);
    bus.close().await;
    assert_eq!(talker.join().await, SourceEnd::Stopped);
}

struct Panicker;

#[ttlive_eventbus::async_trait]
impl ttlive_eventbus::EventSource for Panicker {
    async fn next(&mut self) -> ttlive_eventbus::SourceItem {
        panic!("boom (expected in this test)")
    }
}

#[tokio::test]
async fn a_panicking_source_is_reported_failed_not_propagated() {
    let bus = EventBus::new();
    let h = bus.attach(Panicker).unwrap();
    match h.join().await {
        SourceEnd::Fatal(e) => assert_eq!(e.kind(), SourceErrorKind::Other),
        other => panic!("expected fatal, got {other}"),
    }
    assert!(matches!(
        bus.stats().sources[0].state,
        SourceState::Failed(_)
    ));
    bus.close().await;
}

#[test]
fn attach_outside_a_runtime_is_an_error_not_a_panic() {
    let bus = EventBus::new();
    let err = bus.attach(ScriptedSource::new("x")).unwrap_err();
    assert_eq!(err, BusError::NoRuntime);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_sources_many_lossless_subscribers_keep_per_source_order() {
    let bus = EventBus::new();
    let subs: Vec<Subscription> = (0..4)
        .map(|_| {
            bus.subscribe_with(
                Filter::all(),
                SubscribeOptions::new().lossless(true).capacity(16),
            )
        })
        .collect();
    let readers: Vec<_> = subs
        .into_iter()
        .map(|mut s| {
            tokio::spawn(async move {
                let mut last = [0u64; 4];
                let mut n = 0;
                while let Some(item) = s.recv().await {
                    let ev = item.expect("lossless");
                    let room = ev.room_id() as usize;
                    assert!(ev.msg_id() > last[room], "per-source order broken");
                    last[room] = ev.msg_id();
                    n += 1;
                }
                n
            })
        })
        .collect();
    let handles: Vec<_> = (0..4u64)
        .map(|room| {
            bus.attach(
                ScriptedSource::new(format!("room{room}"))
                    .room(room)
                    .events(chats(room, 2000))
                    .finished(),
            )
            .unwrap()
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().await, SourceEnd::Finished);
    }
    bus.close().await;
    for r in readers {
        assert_eq!(r.await.unwrap(), 8000);
    }
    assert_eq!(bus.stats().published(), 8000);
}

/// Unfiltered lossy subscribers with the bus's default capacity share one ring; the lag
/// contract must be the same as with a queue of their own.
#[tokio::test]
async fn shared_ring_subscribers_report_exact_lag_and_drain_on_close() {
    let bus = EventBus::with_capacity(8);
    let mut slow = bus.subscribe();
    let mut steady = bus.subscribe();
    // `steady` keeps up, `slow` does not read.
    let mut steady_ids = Vec::new();
    for ev in chats(1, 100) {
        assert_eq!(bus.publish(ev).await, Ok(2));
        steady_ids.push(steady.recv().await.unwrap().unwrap().msg_id());
    }
    assert_eq!(steady_ids, (1..=100).collect::<Vec<_>>());
    let stats = bus.stats();
    let s = stats.subscriber(slow.id()).unwrap();
    assert_eq!((s.enqueued, s.dropped, s.queued), (100, 92, 8));
    assert_eq!(slow.len(), 8);

    assert_eq!(slow.recv().await, Some(Err(Lagged(92))));
    let rest: Vec<u64> = (0..8)
        .map(|_| slow.try_recv().unwrap().unwrap().msg_id())
        .collect();
    assert_eq!(rest, (93..=100).collect::<Vec<_>>());
    assert!(slow.try_recv().is_none());

    // A late subscriber does not see the past.
    let mut late = bus.subscribe();
    bus.publish(chat(1, 101, "x")).await.unwrap();
    bus.publish(chat(1, 102, "y")).await.unwrap();
    drop(steady);
    bus.close().await;
    assert_eq!(msg_ids(&drain(&mut late).await), vec![101, 102]);
    assert_eq!(msg_ids(&drain(&mut slow).await), vec![101, 102]);
    assert!(slow.is_closed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_ring_readers_wake_up_across_threads() {
    let bus = EventBus::new();
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let mut s = bus.subscribe();
            tokio::spawn(async move {
                let (mut n, mut last) = (0u64, 0u64);
                while let Some(item) = s.recv().await {
                    match item {
                        Ok(ev) => {
                            assert!(ev.msg_id() > last);
                            last = ev.msg_id();
                            n += 1;
                        }
                        Err(Lagged(k)) => n += k,
                    }
                }
                n
            })
        })
        .collect();
    for i in 1..=5000u64 {
        bus.publish(chat(1, i, "x")).await.unwrap();
        if i % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    bus.close().await;
    for r in readers {
        assert_eq!(r.await.unwrap(), 5000);
    }
}
