//! A consumer tested with a mock source in place of TikTok.
//!
//! `cargo run -p ttlive-examples --example mock_consumer` runs it on a scripted room;
//! `cargo test -p ttlive-examples --example mock_consumer` runs its tests, where a `mockall`
//! mock of `EventSource` stands in for the live connection.
//!
//! The consumer (a "top chatter" counter) depends only on `ttlive-eventbus`: it reads a bus, so
//! any source can feed it.

use std::collections::HashMap;

use ttlive_eventbus::{ChatEvent, EventBus};

/// Counts comments per user until the bus ends; returns (handle, count) sorted by count.
pub async fn top_chatters(
    bus: &EventBus,
    mut chats: ttlive_eventbus::TypedSubscription<ChatEvent>,
) -> Vec<(String, usize)> {
    let _ = bus;
    let mut counts: HashMap<String, usize> = HashMap::new();
    while let Some(item) = chats.recv().await {
        if let Ok(chat) = item {
            *counts.entry(chat.user.unique_id).or_default() += 1;
        }
    }
    let mut out: Vec<_> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

fn chat(msg_id: u64, handle: &str, text: &str) -> ttlive_eventbus::Event {
    ttlive_eventbus::Event::Chat(ChatEvent {
        meta: ttlive_eventbus::EventMeta {
            room_id: 1,
            msg_id,
            ..Default::default()
        },
        user: ttlive_eventbus::User {
            id: msg_id,
            unique_id: handle.into(),
            ..Default::default()
        },
        comment: text.into(),
        ..ChatEvent::default()
    })
}

#[tokio::main]
async fn main() {
    let bus = EventBus::new();
    let chats = bus.subscribe_typed::<ChatEvent>();
    let source = ttlive_eventbus::ScriptedSource::new("scripted room")
        .event(chat(1, "otter", "hi"))
        .event(chat(2, "heron", "hello"))
        .event(chat(3, "otter", "how are you"))
        .stream_ended();
    let handle = bus.attach(source).expect("attach");
    let waiter = {
        let bus = bus.clone();
        tokio::spawn(async move {
            handle.join().await;
            bus.close().await;
        })
    };
    for (who, n) in top_chatters(&bus, chats).await {
        println!("@{who}: {n}");
    }
    let _ = waiter.await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlive_eventbus::{EventSource, SourceEnd, SourceInfo, SourceItem};

    mockall::mock! {
        pub Room {}
        #[async_trait::async_trait]
        impl EventSource for Room {
            async fn next(&mut self) -> SourceItem;
            fn describe(&self) -> SourceInfo;
        }
    }

    #[tokio::test]
    async fn counts_chatters_from_a_mocked_room() {
        let mut room = MockRoom::new();
        let mut script = vec![
            SourceItem::Event(chat(1, "otter", "a")),
            SourceItem::Event(chat(2, "heron", "b")),
            SourceItem::Event(chat(3, "otter", "c")),
            SourceItem::End(SourceEnd::StreamEnded),
        ]
        .into_iter();
        room.expect_describe()
            .returning(|| SourceInfo::new("mock room"));
        room.expect_next().returning(move || {
            script
                .next()
                .unwrap_or(SourceItem::End(SourceEnd::StreamEnded))
        });

        let bus = EventBus::new();
        let chats = bus.subscribe_typed::<ChatEvent>();
        let handle = bus.attach(room).unwrap();
        let closer = {
            let bus = bus.clone();
            tokio::spawn(async move {
                assert_eq!(handle.join().await, SourceEnd::StreamEnded);
                bus.close().await;
            })
        };
        let top = top_chatters(&bus, chats).await;
        closer.await.unwrap();
        assert_eq!(top, vec![("otter".to_owned(), 2), ("heron".to_owned(), 1)]);
    }
}
