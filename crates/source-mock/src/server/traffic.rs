//! Generated traffic for the numbered rooms (`room0000`…): invented users chatting, liking,
//! joining, following and sending gifts (with streaks), and viewer counts.
//!
//! Every message is a pure function of (room index, stream number, sequence number), so any
//! socket, sign fetch or poll can produce any part of a stream without shared state, and a test
//! can name exactly the msg ids a room pushed ([`msg_id`] and [`MsgIdParts`]).
//!
//! Messages come in blocks of ten whose shape is picked per block; a gift streak lives inside
//! one block (`repeat_count` 1, 2, 3, the last with `repeat_end` 1), so no message depends on
//! another block.

use std::time::Duration;

use bytes::Bytes;
use ttlive_proto::webcast as pb;

/// First generated msg id: message `seq` of stream `stream` of room `index` has id
/// `MSG_ID_BASE + index·10¹² + (stream mod 1000)·10⁹ + (seq mod 10⁹)` (stream numbers repeat
/// after 1,000 streams, as the room ids do).
pub const MSG_ID_BASE: u64 = 7_480_000_000_000_000_000;
const PER_ROOM: u64 = 1_000_000_000_000;
const PER_STREAM: u64 = 1_000_000_000;
/// Stream numbers the ids keep apart.
const STREAMS: u32 = 1000;
/// Rooms the id scheme keeps apart (more rooms would run past `i64::MAX`).
pub(crate) const MAX_ROOMS: usize = 1_000_000;

/// The parts of a generated msg id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MsgIdParts {
    /// The room's index (`room0042` → 42).
    pub room: usize,
    /// The stream number within the room (0 for its first stream), modulo 1,000.
    pub stream: u32,
    /// The message's sequence number within the stream.
    pub seq: u64,
}

/// The msg id of generated message `seq` of `stream` of room `index`.
pub fn msg_id(index: usize, stream: u32, seq: u64) -> u64 {
    MSG_ID_BASE
        + index as u64 * PER_ROOM
        + u64::from(stream % STREAMS) * PER_STREAM
        + seq % PER_STREAM
}

impl MsgIdParts {
    /// Splits a generated msg id; `None` for ids the generator does not make.
    pub fn of(id: u64) -> Option<MsgIdParts> {
        let rest = id.checked_sub(MSG_ID_BASE)?;
        let room = usize::try_from(rest / PER_ROOM).ok()?;
        (room < MAX_ROOMS).then_some(MsgIdParts {
            room,
            stream: u32::try_from(rest % PER_ROOM / PER_STREAM).ok()?,
            seq: rest % PER_STREAM,
        })
    }
}

/// A deterministic 64-bit mix (splitmix64's finaliser).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn pick<T: Copy>(items: &[T], h: u64) -> T {
    items[(h % items.len() as u64) as usize]
}

const ADJECTIVES: &[&str] = &[
    "amber", "brisk", "calm", "dusty", "eager", "fuzzy", "gentle", "hazy", "icy", "jolly", "keen",
    "lucky", "mellow", "nimble", "odd", "plucky", "quiet", "rusty", "sunny", "tidy",
];
const ANIMALS: &[&str] = &[
    "otter", "heron", "lynx", "gecko", "badger", "puffin", "marmot", "koala", "newt", "ibis",
    "tapir", "wombat", "yak", "zebu", "quokka", "vole",
];
const CHATS: &[&str] = &[
    "hello from the generator",
    "first time here 👋",
    "what song is this?",
    "love the vibe",
    "greetings to everyone",
    "how long have you been live?",
    "this is so relaxing",
    "can you say hi to me?",
    "🔥🔥🔥",
    "where are you streaming from?",
];

/// Gifts: (id, name, diamonds, type). Type 1 gifts streak.
const GIFTS: &[(i64, &str, i32, i32)] = &[
    (5655, "Rose", 1, 1),
    (5269, "TikTok", 1, 1),
    (6064, "GG", 1, 1),
    (5487, "Finger Heart", 5, 1),
    (6834, "Gift Box", 99, 2),
    (5760, "Weights", 50, 2),
];

fn user(index: usize, h: u64) -> pb::User {
    let n = h % 4096;
    let name = format!(
        "{}_{}_{n}",
        pick(ADJECTIVES, h >> 12),
        pick(ANIMALS, h >> 20)
    );
    pb::User {
        id: 6_800_000_000_000_000_000 + (index as i64 % 100_000) * 10_000 + n as i64,
        nickname: format!("{} {}", pick(ADJECTIVES, h >> 12), pick(ANIMALS, h >> 20)),
        display_id: name,
        avatar_thumb: Some(pb::ImageModel {
            url_list: vec![format!(
                "https://p16-sign-va.tiktokcdn.com/tos-maliva-avt-0068/gen{n}~c5_100x100.webp"
            )],
            ..Default::default()
        }),
        follow_info: Some(pb::FollowInfo {
            follow_status: (h >> 30) as i64 % 2,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// What one generated message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Chat,
    Like,
    Member,
    Follow,
    /// Step `step` (1-based) of a streak of 3 of a type-1 gift.
    Streak(i32),
    /// A gift that does not streak.
    Single,
    RoomUser,
}

/// The shapes of a block of ten messages.
const BLOCKS: [[Kind; 10]; 2] = [
    [
        Kind::Chat,
        Kind::Like,
        Kind::Chat,
        Kind::Member,
        Kind::Streak(1),
        Kind::Chat,
        Kind::Streak(2),
        Kind::Like,
        Kind::Streak(3),
        Kind::RoomUser,
    ],
    [
        Kind::Chat,
        Kind::Chat,
        Kind::Follow,
        Kind::Like,
        Kind::Single,
        Kind::Member,
        Kind::Chat,
        Kind::Like,
        Kind::Chat,
        Kind::RoomUser,
    ],
];

/// Where a generated message belongs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StreamKey {
    pub(crate) index: usize,
    pub(crate) stream: u32,
    pub(crate) room_id: u64,
    /// Wall-clock start of the stream (ms since the epoch): `create_time` of message 0.
    pub(crate) started_ms: i64,
}

fn wrap<M: prost::Message>(method: &str, id: u64, body: &M) -> pb::BaseProtoMessage {
    pb::BaseProtoMessage {
        method: method.to_owned(),
        payload: Bytes::from(body.encode_to_vec()),
        msg_id: id as i64,
        ..Default::default()
    }
}

fn common(method: &str, id: u64, key: &StreamKey, at_ms: i64) -> Option<pb::CommonMessageData> {
    Some(pb::CommonMessageData {
        method: method.to_owned(),
        msg_id: id as i64,
        room_id: key.room_id as i64,
        create_time: at_ms,
        ..Default::default()
    })
}

/// Generated message `seq` of the stream `key`, created at `key.started_ms + seq / rate`.
pub(crate) fn message(key: &StreamKey, seq: u64, rate: f64) -> pb::BaseProtoMessage {
    let id = msg_id(key.index, key.stream, seq);
    let at_ms = at_ms(key, seq, rate);
    let block = seq / 10;
    let bh = mix(id - seq % 10);
    let h = mix(id);
    let kind = BLOCKS[(bh % 2) as usize][(seq % 10) as usize];
    let someone = user(key.index, h);
    match kind {
        Kind::Chat => {
            let m = "WebcastChatMessage";
            wrap(
                m,
                id,
                &pb::WebcastChatMessage {
                    common: common(m, id, key, at_ms),
                    user: Some(someone),
                    content: pick(CHATS, h >> 7).to_owned(),
                    ..Default::default()
                },
            )
        }
        Kind::Like => {
            let m = "WebcastLikeMessage";
            let count = 1 + (h % 15) as i32;
            wrap(
                m,
                id,
                &pb::WebcastLikeMessage {
                    common: common(m, id, key, at_ms),
                    count,
                    // Grows with the stream: about 8 likes a message so far, plus this one.
                    total: (seq as i64) * 8 + i64::from(count),
                    user: Some(someone),
                    ..Default::default()
                },
            )
        }
        Kind::Member => {
            let m = "WebcastMemberMessage";
            wrap(
                m,
                id,
                &pb::WebcastMemberMessage {
                    common: common(m, id, key, at_ms),
                    user: Some(someone),
                    member_count: 100 + (block % 900) as i32,
                    action: 1,
                    ..Default::default()
                },
            )
        }
        Kind::Follow => {
            let m = "WebcastSocialMessage";
            let mut c = common(m, id, key, at_ms);
            if let Some(c) = c.as_mut() {
                c.display_text = Some(pb::Text {
                    key: "pm_main_follow_message_viewer_2".to_owned(),
                    default_pattern: "{0:user} followed the LIVE creator".to_owned(),
                    ..Default::default()
                });
            }
            wrap(
                m,
                id,
                &pb::WebcastSocialMessage {
                    common: c,
                    user: Some(someone),
                    action: 1,
                    follow_count: 1000 + block as i64,
                    ..Default::default()
                },
            )
        }
        Kind::Streak(step) => {
            // The streak's sender and gift come from the block, so all three steps agree.
            let g = GIFTS[(bh >> 8) as usize % 4];
            let sender = user(key.index, bh);
            gift(
                key,
                id,
                at_ms,
                sender,
                g,
                step,
                step == 3,
                msg_id(key.index, key.stream, block * 10),
            )
        }
        Kind::Single => {
            let g = GIFTS[4 + (h >> 8) as usize % 2];
            gift(key, id, at_ms, someone, g, 1, true, id)
        }
        Kind::RoomUser => {
            let m = "WebcastRoomUserSeqMessage";
            let viewers = 150 + (mix(block) % 250) as i64;
            wrap(
                m,
                id,
                &pb::WebcastRoomUserSeqMessage {
                    common: common(m, id, key, at_ms),
                    total: viewers,
                    total_user: viewers * 6 + block as i64,
                    ..Default::default()
                },
            )
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn gift(
    key: &StreamKey,
    id: u64,
    at_ms: i64,
    sender: pb::User,
    (gift_id, name, diamonds, kind): (i64, &str, i32, i32),
    repeat_count: i32,
    repeat_end: bool,
    group_id: u64,
) -> pb::BaseProtoMessage {
    let m = "WebcastGiftMessage";
    wrap(
        m,
        id,
        &pb::WebcastGiftMessage {
            common: common(m, id, key, at_ms),
            gift_id,
            repeat_count,
            combo_count: repeat_count,
            user: Some(sender),
            repeat_end: i32::from(repeat_end),
            group_id: group_id as i64,
            gift: Some(pb::Gift {
                id: gift_id,
                name: name.to_owned(),
                diamond_count: diamonds,
                r#type: kind,
                combo: kind == 1,
                image: Some(pb::ImageModel {
                    url_list: vec![format!(
                        "https://p19-webcast.tiktokcdn.com/img/maliva/webcast-va/gift{gift_id}~tplv-obj.png"
                    )],
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
}

/// The stream-end message that closes stream `key` after message `seq - 1`, with this control
/// action (3 ended, 4 suspended). Its id is the stream's next sequence number.
pub(crate) fn stream_end(
    key: &StreamKey,
    seq: u64,
    rate: f64,
    action: i32,
) -> pb::BaseProtoMessage {
    let id = msg_id(key.index, key.stream, seq);
    let m = "WebcastControlMessage";
    wrap(
        m,
        id,
        &pb::WebcastControlMessage {
            common: common(
                m,
                id,
                key,
                key.started_ms + offset(seq, rate).as_millis() as i64,
            ),
            action,
            tips: if action == 4 {
                "This LIVE was suspended".to_owned()
            } else {
                "The LIVE has ended".to_owned()
            },
            ..Default::default()
        },
    )
}

/// `create_time` of message `seq` (ms since the epoch).
fn at_ms(key: &StreamKey, seq: u64, rate: f64) -> i64 {
    let offset = i64::try_from(offset(seq, rate).as_millis()).unwrap_or(i64::MAX);
    key.started_ms.saturating_add(offset)
}

/// When message `seq` happens, after the stream's start.
pub(crate) fn offset(seq: u64, rate: f64) -> Duration {
    if rate <= 0.0 || !rate.is_finite() {
        return Duration::MAX;
    }
    #[allow(clippy::cast_precision_loss)]
    Duration::try_from_secs_f64(seq as f64 / rate).unwrap_or(Duration::MAX)
}

/// How many messages have happened `elapsed` after the stream's start (messages `0..n`:
/// message n happens at n / rate, and has happened once that time is past).
pub(crate) fn happened(elapsed: Duration, rate: f64) -> u64 {
    if rate <= 0.0 || !rate.is_finite() {
        return 0;
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = (elapsed.as_secs_f64() * rate).ceil() as u64;
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttlive_eventbus::Event;

    fn key(index: usize, stream: u32) -> StreamKey {
        StreamKey {
            index,
            stream,
            room_id: 7_470_000_000_000_000_001,
            started_ms: 1_767_290_400_000,
        }
    }

    #[test]
    fn ids_are_unique_and_reversible() {
        let a = msg_id(12, 3, 456);
        assert_eq!(
            MsgIdParts::of(a),
            Some(MsgIdParts {
                room: 12,
                stream: 3,
                seq: 456
            })
        );
        assert_ne!(msg_id(1, 0, 0), msg_id(0, 1, 0));
        // Stream 1000 wraps to 0 of the same room, never into the next room's ids.
        assert_eq!(msg_id(0, 1000, 5), msg_id(0, 0, 5));
        assert!(msg_id(0, 999, PER_STREAM - 1) < msg_id(1, 0, 0));
        assert!(msg_id(MAX_ROOMS - 1, 999, PER_STREAM - 1) < i64::MAX as u64);
        assert_eq!(MsgIdParts::of(42), None);
    }

    #[test]
    fn messages_decode_with_their_ids_and_streaks_close() {
        let k = key(7, 2);
        let result = pb::ProtoMessageFetchResult {
            messages: (0..200).map(|s| message(&k, s, 10.0)).collect(),
            ..Default::default()
        };
        let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
        let mut open_streaks = 0i32;
        for (seq, ev) in ttlive_proto::decode_events(&result).enumerate() {
            let ev = ev.unwrap();
            assert_eq!(ev.msg_id(), msg_id(7, 2, seq as u64));
            assert_eq!(ev.meta().room_id, k.room_id);
            if let Event::Gift(g) = &ev
                && g.gift.gift_type == 1
            {
                if g.repeat_count == 1 {
                    open_streaks += 1;
                }
                if g.repeat_end {
                    open_streaks -= 1;
                }
            }
            *kinds.entry(ev.name()).or_default() += 1;
        }
        assert_eq!(open_streaks, 0, "every streak ends");
        for kind in ["chat", "like", "gift", "member", "roomUser"] {
            assert!(
                kinds.get(kind).copied().unwrap_or(0) > 0,
                "{kind}: {kinds:?}"
            );
        }
        // Deterministic: the same message twice is the same bytes.
        assert_eq!(message(&k, 17, 10.0), message(&k, 17, 10.0));
    }

    #[test]
    fn timing() {
        assert_eq!(offset(25, 10.0), Duration::from_millis(2500));
        assert_eq!(happened(Duration::ZERO, 10.0), 0);
        assert_eq!(happened(Duration::from_millis(1), 10.0), 1);
        assert_eq!(happened(Duration::from_millis(999), 10.0), 10);
        assert_eq!(happened(Duration::from_millis(1001), 10.0), 11);
        assert_eq!(happened(Duration::from_secs(5), 0.0), 0);
    }
}
