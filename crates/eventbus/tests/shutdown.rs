//! Shutdown: close drains then ends, stops every source, leaves no task behind; dropping the
//! bus does the same without being asked.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{chat, chats};
use ttlive_eventbus::{
    BusError, EventBus, EventSource, Filter, ScriptedSource, SourceEnd, SourceItem, SourceState,
    SubscribeOptions,
};

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

async fn settle() {
    for _ in 0..100 {
        if alive_tasks() == 0 {
            return;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn close_stops_sources_drains_subscribers_then_ends_them() {
    let bus = EventBus::new();
    let mut sub = bus.subscribe();
    let flags: Vec<Arc<AtomicBool>> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let handles: Vec<_> = flags
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let room = i as u64 + 1;
            bus.attach(
                ScriptedSource::new(format!("live{room}"))
                    .room(room)
                    .event(chat(room, 1, "before close"))
                    .hang()
                    .with_drop_flag(Arc::clone(f)),
            )
            .unwrap()
        })
        .collect();
    // Let the three events arrive, then close without reading them.
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(sub.len(), 3);
    assert!(flags.iter().all(|f| !f.load(Ordering::SeqCst)));
    assert_eq!(alive_tasks(), 3);

    bus.close().await;

    // Every source was dropped and its task is gone.
    assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));
    assert_eq!(alive_tasks(), 0);
    for h in &handles {
        assert_eq!(h.join().await, SourceEnd::Stopped);
    }
    assert!(
        bus.stats()
            .sources
            .iter()
            .all(|s| s.state == SourceState::Ended(SourceEnd::Stopped))
    );

    // The subscriber drains what was queued, then sees the end.
    let mut rooms = Vec::new();
    while let Some(item) = sub.recv().await {
        rooms.push(item.unwrap().room_id());
    }
    rooms.sort_unstable();
    assert_eq!(rooms, vec![1, 2, 3]);
    assert!(sub.is_closed());
    assert!(sub.recv().await.is_none());

    // Nothing more goes in.
    assert!(bus.is_closed());
    assert_eq!(bus.publish(chat(1, 2, "late")).await, Err(BusError::Closed));
    assert_eq!(
        bus.attach(ScriptedSource::new("late")).unwrap_err(),
        BusError::Closed
    );
    let mut late = bus.subscribe();
    assert!(late.recv().await.is_none());
    // Closing twice is fine.
    bus.close().await;
}

#[tokio::test(start_paused = true)]
async fn close_releases_a_source_blocked_on_a_lossless_subscriber() {
    let bus = EventBus::new();
    let mut rec = bus.subscribe_with(
        Filter::all(),
        SubscribeOptions::new().lossless(true).capacity(4),
    );
    let dropped = Arc::new(AtomicBool::new(false));
    let h = bus
        .attach(
            ScriptedSource::new("burst")
                .events(chats(1, 100))
                .finished()
                .with_drop_flag(Arc::clone(&dropped)),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(!h.is_finished());
    bus.close().await;
    assert_eq!(h.join().await, SourceEnd::Stopped);
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(alive_tasks(), 0);
    // The four queued events are still delivered.
    let mut n = 0;
    while let Some(item) = rec.recv().await {
        item.unwrap();
        n += 1;
    }
    assert_eq!(n, 4);
}

#[tokio::test]
async fn dropping_the_bus_aborts_sources_and_ends_subscriptions() {
    let bus = EventBus::new();
    let clone = bus.clone();
    let mut sub = bus.subscribe();
    let flags: Vec<Arc<AtomicBool>> = (0..2).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let handles: Vec<_> = flags
        .iter()
        .map(|f| {
            bus.attach(
                ScriptedSource::new("live")
                    .event(chat(1, 1, "x"))
                    .hang()
                    .with_drop_flag(Arc::clone(f)),
            )
            .unwrap()
        })
        .collect();
    assert!(sub.recv().await.is_some());
    drop(bus);
    // A clone keeps it alive.
    tokio::task::yield_now().await;
    assert!(flags.iter().all(|f| !f.load(Ordering::SeqCst)));
    drop(clone);
    settle().await;
    assert_eq!(alive_tasks(), 0);
    assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));
    for h in handles {
        assert_eq!(h.join().await, SourceEnd::Stopped);
    }
    // The other event is still there, then the end.
    assert_eq!(sub.recv().await.unwrap().unwrap().msg_id(), 1);
    assert!(sub.recv().await.is_none());
}

/// A source that never runs out.
struct Endless {
    room: u64,
    next_id: u64,
    dropped: Arc<AtomicBool>,
}

#[ttlive_eventbus::async_trait]
impl EventSource for Endless {
    async fn next(&mut self) -> SourceItem {
        self.next_id += 1;
        SourceItem::Event(chat(self.room, self.next_id, "again"))
    }
}

impl Drop for Endless {
    fn drop(&mut self) {
        self.dropped.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_under_load_on_a_multi_thread_runtime_leaves_nothing_running() {
    let bus = EventBus::new();
    let readers: Vec<_> = (0..4)
        .map(|i| {
            let mut s = bus.subscribe_with(
                Filter::all(),
                SubscribeOptions::new().capacity(8).lossless(i % 2 == 0),
            );
            tokio::spawn(async move {
                let mut n = 0u64;
                while let Some(item) = s.recv().await {
                    n += match item {
                        Ok(_) => 1,
                        Err(l) => l.0,
                    };
                }
                n
            })
        })
        .collect();
    let flags: Vec<Arc<AtomicBool>> = (0..4).map(|_| Arc::new(AtomicBool::new(false))).collect();
    for (i, f) in flags.iter().enumerate() {
        bus.attach(Endless {
            room: i as u64,
            next_id: 0,
            dropped: Arc::clone(f),
        })
        .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    bus.close().await;
    assert!(flags.iter().all(|f| f.load(Ordering::SeqCst)));
    let published = bus.stats().published();
    assert!(published > 0);
    for (i, r) in readers.into_iter().enumerate() {
        let n = r.await.unwrap();
        if i % 2 == 0 {
            // Lossless: everything, except at most the one event per source whose delivery
            // was interrupted by the stop.
            assert!(n <= published && n + 4 >= published, "{n} of {published}");
        } else {
            // Lossy: every event accounted for, received or told it lagged.
            assert_eq!(n, published);
        }
    }
    settle().await;
    assert_eq!(alive_tasks(), 0);
}
