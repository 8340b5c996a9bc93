//! The conformance suite, run on `ScriptedSource`, and shown to catch broken sources.

mod common;

use std::time::Duration;

use common::{chat, chats, gift};
use ttlive_eventbus::conformance::{Conformance, Expected};
use ttlive_eventbus::{
    Event, EventKind, EventSource, ScriptedSource, SourceEnd, SourceError, SourceErrorKind,
    SourceItem,
};

fn mixed() -> ScriptedSource {
    ScriptedSource::new("mixed")
        .room(5)
        .event(chat(5, 1, "hello"))
        .delay(Duration::from_millis(30))
        .error(SourceError::decode("bad message"))
        .event(gift(5, 2, 10))
        .delay(Duration::from_secs(2))
        .events(chats(5, 20))
        .error(SourceError::rate_limited(
            Some(Duration::from_secs(1)),
            "slow",
        ))
        .stream_ended()
}

#[tokio::test(start_paused = true)]
async fn scripted_source_passes_with_expected_items() {
    let mut expected = vec![
        Expected::event(chat(5, 1, "hello")),
        Expected::Error(SourceErrorKind::Decode),
        Expected::EventMatching(|e: &Event| e.kind() == EventKind::Gift),
    ];
    expected.extend(chats(5, 20).into_iter().map(Expected::Event));
    expected.push(Expected::Error(SourceErrorKind::RateLimited {
        retry_after: Some(Duration::from_secs(1)),
    }));
    expected.push(Expected::End(SourceEnd::StreamEnded));

    let report = Conformance::new()
        .expect_items(expected)
        .cancel_safe()
        .run(mixed)
        .await
        .expect("ScriptedSource conforms");
    assert_eq!((report.items, report.events, report.errors), (24, 22, 2));
    assert_eq!(report.end, SourceEnd::StreamEnded);
    for check in [
        "describe",
        "drain",
        "expected",
        "end_repeats",
        "deterministic",
        "cancel",
        "cancel_safe",
        "bus",
        "bus_stop",
    ] {
        assert!(report.checks.contains(&check), "{check} did not run");
    }
}

#[tokio::test(start_paused = true)]
async fn scripted_source_passes_in_its_edge_cases() {
    // Empty script: finished at once.
    let r = Conformance::new()
        .cancel_safe()
        .run(|| ScriptedSource::new("empty"))
        .await
        .unwrap();
    assert_eq!((r.items, r.end), (0, SourceEnd::Finished));
    // Fatal end.
    let r = Conformance::new()
        .cancel_safe()
        .run(|| {
            ScriptedSource::new("fatal")
                .event(chat(1, 1, "x"))
                .fatal(SourceError::auth("no"))
        })
        .await
        .unwrap();
    assert!(r.end.is_fatal());
    // Many events through a tiny lossless queue.
    let r = Conformance::new()
        .cancel_safe()
        .run(|| ScriptedSource::new("many").events(chats(1, 500)))
        .await
        .unwrap();
    assert_eq!(r.events, 500);
}

#[tokio::test(start_paused = true)]
async fn a_mismatch_with_the_expected_items_is_reported() {
    let err = Conformance::new()
        .expect_items(vec![
            Expected::event(chat(1, 2, "other")),
            Expected::end_finished(),
        ])
        .run(|| ScriptedSource::new("s").event(chat(1, 1, "x")))
        .await
        .unwrap_err();
    assert_eq!(err.check, "expected");
    assert!(err.detail.contains("item #0"), "{}", err.detail);
}

/// Yields one event after its end: breaks "end reported once, then repeated".
struct Zombie {
    calls: u32,
}

#[ttlive_eventbus::async_trait]
impl EventSource for Zombie {
    async fn next(&mut self) -> SourceItem {
        self.calls += 1;
        match self.calls {
            1 => SourceItem::Event(chat(1, 1, "a")),
            2 => SourceItem::End(SourceEnd::Finished),
            _ => SourceItem::Event(chat(1, 99, "after the end")),
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_that_talks_after_its_end_fails() {
    let err = Conformance::new()
        .run(|| Zombie { calls: 0 })
        .await
        .unwrap_err();
    assert_eq!(err.check, "end_repeats");
}

/// Never ends.
struct Endless;

#[ttlive_eventbus::async_trait]
impl EventSource for Endless {
    async fn next(&mut self) -> SourceItem {
        SourceItem::Event(chat(1, 1, "again"))
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_that_never_ends_fails() {
    let err = Conformance::new()
        .max_items(1000)
        .run(|| Endless)
        .await
        .unwrap_err();
    assert_eq!(err.check, "drain");
}

#[tokio::test(start_paused = true)]
async fn a_source_that_hangs_fails_on_the_timeout() {
    let err = Conformance::new()
        .item_timeout(Duration::from_secs(5))
        .run(|| ScriptedSource::new("hang").event(chat(1, 1, "x")).hang())
        .await
        .unwrap_err();
    assert_eq!(err.check, "drain");
    assert!(err.detail.contains("#1"), "{}", err.detail);
}

/// Loses the item in flight when `next()` is dropped: not cancel-safe.
struct Lossy {
    items: Vec<Event>,
}

#[ttlive_eventbus::async_trait]
impl EventSource for Lossy {
    async fn next(&mut self) -> SourceItem {
        if self.items.is_empty() {
            return SourceItem::End(SourceEnd::Finished);
        }
        let ev = self.items.remove(0);
        tokio::time::sleep(Duration::from_millis(5)).await;
        SourceItem::Event(ev)
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_that_loses_items_on_cancel_fails_cancel_safe_but_passes_otherwise() {
    // The base contract only asks that cancelling is clean: it passes.
    Conformance::new()
        .run(|| Lossy { items: chats(1, 4) })
        .await
        .unwrap();
    // Claiming full cancel safety is caught.
    let err = Conformance::new()
        .cancel_safe()
        .run(|| Lossy { items: chats(1, 4) })
        .await
        .unwrap_err();
    assert_eq!(err.check, "cancel_safe");
}

/// Spawns a background task it never stops: leaks a task when dropped.
struct Leaky {
    started: bool,
    done: bool,
}

#[ttlive_eventbus::async_trait]
impl EventSource for Leaky {
    async fn next(&mut self) -> SourceItem {
        if !self.started {
            self.started = true;
            tokio::spawn(std::future::pending::<()>());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
        if self.done {
            SourceItem::End(SourceEnd::Finished)
        } else {
            self.done = true;
            SourceItem::Event(chat(1, 1, "x"))
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_source_that_leaks_a_task_fails_cancel() {
    let err = Conformance::new()
        .item_timeout(Duration::from_secs(1))
        .run(|| Leaky {
            started: false,
            done: false,
        })
        .await
        .unwrap_err();
    assert_eq!(err.check, "cancel");
    assert!(err.detail.contains("tasks alive"), "{}", err.detail);
}
