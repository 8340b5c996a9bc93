//! `EventSource` can be mocked with `mockall::mock!` from any crate.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use common::{chat, gift};
use mockall::Sequence;
use ttlive_eventbus::{
    EventBus, EventKind, EventSource, SourceEnd, SourceError, SourceInfo, SourceItem,
};

mockall::mock! {
    pub Source {}

    #[async_trait::async_trait]
    impl EventSource for Source {
        async fn next(&mut self) -> SourceItem;
        fn describe(&self) -> SourceInfo;
    }
}

#[tokio::test]
async fn the_bus_pulls_a_mock_until_its_end_and_never_after() {
    let script = Arc::new(Mutex::new(VecDeque::from(vec![
        SourceItem::Event(chat(7, 1, "first")),
        SourceItem::Error(SourceError::decode("garbled")),
        SourceItem::Event(gift(7, 2, 3)),
        SourceItem::End(SourceEnd::StreamEnded),
    ])));
    let mut mock = MockSource::new();
    mock.expect_describe()
        .times(1)
        .returning(|| SourceInfo::new("mock").with_room(7));
    let s = Arc::clone(&script);
    // Exactly four pulls: the bus stops pulling at the end.
    mock.expect_next().times(4).returning(move || {
        s.lock()
            .unwrap()
            .pop_front()
            .unwrap_or(SourceItem::End(SourceEnd::StreamEnded))
    });

    let bus = EventBus::new();
    let mut sub = bus.subscribe();
    let handle = bus.attach(mock).unwrap();
    assert_eq!(handle.info().name, "mock");
    assert_eq!(handle.info().room_id, Some(7));
    assert_eq!(handle.join().await, SourceEnd::StreamEnded);
    bus.close().await;

    let mut kinds = Vec::new();
    while let Some(item) = sub.recv().await {
        kinds.push(item.unwrap().kind());
    }
    assert_eq!(kinds, vec![EventKind::Chat, EventKind::Gift]);
    let stats = bus.stats();
    assert_eq!(stats.sources[0].errors, 1);
    assert_eq!(stats.sources[0].events, 2);
    // The mock is dropped with the task, which checks `times(4)` (it would panic the task,
    // and the end would then be Fatal, not StreamEnded).
    assert!(script.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_mock_with_a_sequence_ending_fatally() {
    let mut seq = Sequence::new();
    let mut mock = MockSource::new();
    mock.expect_describe()
        .returning(|| SourceInfo::new("fatal-mock"));
    mock.expect_next()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|| SourceItem::Event(chat(1, 1, "only")));
    mock.expect_next()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|| SourceItem::End(SourceEnd::Fatal(SourceError::auth("api key refused"))));

    let bus = EventBus::new();
    let handle = bus.attach(mock).unwrap();
    match handle.join().await {
        SourceEnd::Fatal(e) => {
            assert!(!e.retryable());
            assert_eq!(e.message(), "api key refused");
        }
        other => panic!("expected a fatal end, got {other}"),
    }
    bus.close().await;
}
