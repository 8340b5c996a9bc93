//! Helpers shared by the integration tests (included with `mod common;`).
#![allow(dead_code)]

use ttlive_eventbus::{
    ChatEvent, Event, EventMeta, GiftEvent, GiftInfo, LikeEvent, MemberEvent, User,
};

pub fn meta(room_id: u64, msg_id: u64) -> EventMeta {
    EventMeta {
        room_id,
        msg_id,
        create_time: 1_700_000_000_000 + msg_id as i64,
        method: "WebcastChatMessage".into(),
        is_history: false,
    }
}

pub fn user(id: u64, name: &str) -> User {
    User {
        id,
        unique_id: name.into(),
        nickname: name.into(),
        ..User::default()
    }
}

pub fn chat(room_id: u64, msg_id: u64, text: &str) -> Event {
    Event::Chat(ChatEvent {
        meta: meta(room_id, msg_id),
        user: user(msg_id, "viewer"),
        comment: text.into(),
        ..ChatEvent::default()
    })
}

pub fn gift(room_id: u64, msg_id: u64, diamonds: u64) -> Event {
    Event::Gift(GiftEvent {
        meta: EventMeta {
            method: "WebcastGiftMessage".into(),
            ..meta(room_id, msg_id)
        },
        user: user(9, "gifter"),
        gift: GiftInfo {
            id: 5655,
            name: "Rose".into(),
            diamond_count: 1,
            gift_type: 1,
            ..GiftInfo::default()
        },
        repeat_count: diamonds as u32,
        repeat_end: true,
        diamonds,
        ..GiftEvent::default()
    })
}

pub fn like(room_id: u64, msg_id: u64) -> Event {
    Event::Like(LikeEvent {
        meta: meta(room_id, msg_id),
        count: 1,
        total: msg_id,
        ..LikeEvent::default()
    })
}

pub fn member(room_id: u64, msg_id: u64) -> Event {
    Event::Member(MemberEvent {
        meta: meta(room_id, msg_id),
        ..MemberEvent::default()
    })
}

/// `n` chats in room `room`, msg ids 1..=n.
pub fn chats(room: u64, n: u64) -> Vec<Event> {
    (1..=n)
        .map(|i| chat(room, i, &format!("message {i}")))
        .collect()
}
