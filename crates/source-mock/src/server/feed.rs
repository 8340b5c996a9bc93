//! What a recorded (or scripted) room plays: the sign-fetch history and the push frames, and
//! the rewrite that gives every other room and every later stream its own msg ids and room id.

use std::collections::HashMap;

use bytes::{Buf, Bytes};
use prost::Message;
use prost::encoding::{WireType, decode_varint, encode_key, encode_varint};
use ttlive_proto::webcast as pb;
use ttlive_proto::{FrameLimits, decode_fetch_result, decode_msg_frame};

use crate::recording::{Recording, UnitKind};

/// One push frame the server can send.
#[derive(Debug, Clone)]
pub(crate) struct FeedFrame {
    /// Offset in the recording (ms).
    pub(crate) t_ms: u64,
    /// The recorded log id (0: the server picks one).
    pub(crate) log_id: u64,
    /// The batch, when the frame decoded; `None` for frames sent verbatim.
    pub(crate) result: Option<pb::ProtoMessageFetchResult>,
    /// The recorded bytes (sent verbatim when `result` is `None`).
    pub(crate) raw: Bytes,
    /// True when the batch holds a stream end (control action 3 or 4).
    pub(crate) ends_stream: bool,
}

/// A recording (or script) to play: the sign-fetch history and the push frames.
#[derive(Debug, Clone, Default)]
pub(crate) struct RecordedFeed {
    pub(crate) initial: Vec<pb::BaseProtoMessage>,
    pub(crate) frames: Vec<FeedFrame>,
    /// The room id the recording was made in, if known.
    pub(crate) room_id: Option<u64>,
    /// Every distinct msg id of the feed, numbered in order of first appearance: the rewrite
    /// maps id `x` to `base + ordinal(x)`.
    ordinals: HashMap<u64, u64>,
}

pub(crate) fn batch_ends_stream(result: &pb::ProtoMessageFetchResult) -> bool {
    result.messages.iter().any(|m| {
        m.method.ends_with("ControlMessage")
            && pb::WebcastControlMessage::decode(m.payload.as_ref())
                .is_ok_and(|c| c.action == 3 || c.action == 4)
    })
}

/// First rewritten msg id: message ordinal `n` of stream `s` of room `index` gets
/// `REWRITE_BASE + index·10¹² + s·10⁹ + n` (the same layout as the generated ids, on another
/// base).
const REWRITE_BASE: u64 = 7_490_000_000_000_000_000;

impl RecordedFeed {
    pub(crate) fn from_recording(rec: &Recording) -> RecordedFeed {
        let mut feed = RecordedFeed {
            room_id: Some(rec.header.room_id),
            ..RecordedFeed::default()
        };
        let mut have_initial = false;
        let limits = FrameLimits::default();
        for unit in &rec.units {
            match unit.kind {
                UnitKind::SignFetch if !have_initial => {
                    if let Ok(r) = decode_fetch_result(&unit.data) {
                        feed.initial = r.messages;
                        have_initial = true;
                    }
                }
                UnitKind::PushFrame => {
                    let (log_id, result) = match decode_msg_frame(&unit.data, &limits) {
                        Ok(f) => (f.frame.log_id as u64, f.result),
                        Err(_) => (0, None),
                    };
                    feed.frames.push(FeedFrame {
                        t_ms: unit.t_ms,
                        log_id,
                        ends_stream: result.as_ref().is_some_and(batch_ends_stream),
                        result,
                        raw: unit.data.clone(),
                    });
                }
                _ => {}
            }
        }
        feed.number_ids();
        feed
    }

    pub(crate) fn from_script(
        history: Vec<pb::BaseProtoMessage>,
        frames: &[super::ScriptFrame],
    ) -> RecordedFeed {
        let mut log_id = 7_460_000_000_001_000_000_u64;
        let frames = frames
            .iter()
            .map(|f| {
                log_id += 1;
                let result = pb::ProtoMessageFetchResult {
                    messages: f.messages.clone(),
                    need_ack: true,
                    ..Default::default()
                };
                FeedFrame {
                    t_ms: f.t_ms,
                    log_id,
                    ends_stream: batch_ends_stream(&result),
                    result: Some(result),
                    raw: Bytes::new(),
                }
            })
            .collect();
        let mut feed = RecordedFeed {
            initial: history,
            frames,
            room_id: None,
            ordinals: HashMap::new(),
        };
        feed.number_ids();
        feed
    }

    fn number_ids(&mut self) {
        let mut next = 0u64;
        let all = self.initial.iter().chain(
            self.frames
                .iter()
                .filter_map(|f| f.result.as_ref())
                .flat_map(|r| r.messages.iter()),
        );
        for m in all {
            self.ordinals.entry(m.msg_id as u64).or_insert_with(|| {
                next += 1;
                next - 1
            });
        }
    }

    /// The id of the stream-end message the server sends when a schedule ends a recorded
    /// stream: one past the feed's last ordinal, rewritten (or the historical fixed id for the
    /// untouched stream).
    pub(crate) fn end_msg_id(&self, rewrite: Option<&Rewrite>) -> u64 {
        match rewrite {
            Some(r) => r.base + self.ordinals.len() as u64,
            None => 7_460_000_000_009_999_999,
        }
    }

    /// The msg ids of `messages` as `rewrite` gives them.
    pub(crate) fn ids_of<'a>(
        &'a self,
        messages: impl Iterator<Item = &'a pb::BaseProtoMessage> + 'a,
        rewrite: Option<&'a Rewrite>,
    ) -> impl Iterator<Item = u64> + 'a {
        messages.map(move |m| match rewrite {
            Some(r) => r.id(self, m.msg_id as u64),
            None => m.msg_id as u64,
        })
    }
}

/// How the messages of one room's stream are rewritten (absent for the room that plays the
/// recording as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rewrite {
    base: u64,
    room_id: u64,
}

impl Rewrite {
    pub(crate) fn new(index: usize, stream: u32, room_id: u64) -> Rewrite {
        Rewrite {
            base: REWRITE_BASE
                + index as u64 * 1_000_000_000_000
                + u64::from(stream % 1000) * 1_000_000_000,
            room_id,
        }
    }

    fn id(&self, feed: &RecordedFeed, original: u64) -> u64 {
        self.base
            + feed
                .ordinals
                .get(&original)
                .copied()
                .unwrap_or(original % 1_000_000_000)
    }

    /// `m` with its msg id (outer and in `common`) and `common.room_id` rewritten.
    pub(crate) fn message(
        &self,
        feed: &RecordedFeed,
        m: &pb::BaseProtoMessage,
    ) -> pb::BaseProtoMessage {
        let id = self.id(feed, m.msg_id as u64);
        let mut out = m.clone();
        out.msg_id = id as i64;
        if let Some(payload) = patch_common(&m.payload, id, self.room_id) {
            out.payload = payload;
        }
        out
    }

    pub(crate) fn messages(
        &self,
        feed: &RecordedFeed,
        messages: &[pb::BaseProtoMessage],
    ) -> Vec<pb::BaseProtoMessage> {
        messages.iter().map(|m| self.message(feed, m)).collect()
    }
}

/// Replaces field 1 (`CommonMessageData common`, in nearly every `Webcast*` message) of a
/// message payload with a copy whose `msg_id` and `room_id` are these, copying every other
/// field's bytes as they are. `None` when the payload is not well-formed protobuf or has no
/// field 1 to patch (it is then sent unchanged).
fn patch_common(payload: &[u8], msg_id: u64, room_id: u64) -> Option<Bytes> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    let mut buf = payload;
    let mut patched = false;
    while buf.has_remaining() {
        let field_start = payload.len() - buf.remaining();
        let key = decode_varint(&mut buf).ok()?;
        let tag = u32::try_from(key >> 3).ok()?;
        let wire = WireType::try_from(key & 7).ok()?;
        match wire {
            WireType::Varint => {
                decode_varint(&mut buf).ok()?;
            }
            WireType::SixtyFourBit if buf.remaining() >= 8 => buf.advance(8),
            WireType::ThirtyTwoBit if buf.remaining() >= 4 => buf.advance(4),
            WireType::LengthDelimited => {
                let len = usize::try_from(decode_varint(&mut buf).ok()?).ok()?;
                if buf.remaining() < len {
                    return None;
                }
                if tag == 1 && !patched {
                    let mut common = pb::CommonMessageData::decode(&buf[..len]).ok()?;
                    common.msg_id = msg_id as i64;
                    common.room_id = room_id as i64;
                    let body = common.encode_to_vec();
                    encode_key(1, WireType::LengthDelimited, &mut out);
                    encode_varint(body.len() as u64, &mut out);
                    out.extend_from_slice(&body);
                    patched = true;
                    buf.advance(len);
                    continue;
                }
                buf.advance(len);
            }
            _ => return None,
        }
        let end = payload.len() - buf.remaining();
        out.extend_from_slice(&payload[field_start..end]);
    }
    patched.then(|| Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(id: i64) -> pb::BaseProtoMessage {
        let m = pb::WebcastChatMessage {
            common: Some(pb::CommonMessageData {
                method: "WebcastChatMessage".into(),
                msg_id: id,
                room_id: 1,
                create_time: 5,
                ..Default::default()
            }),
            content: "hi".into(),
            user: Some(pb::User {
                id: 9,
                nickname: "n".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        pb::BaseProtoMessage {
            method: "WebcastChatMessage".into(),
            payload: m.encode_to_vec().into(),
            msg_id: id,
            ..Default::default()
        }
    }

    #[test]
    fn rewrite_changes_ids_and_room_and_keeps_the_rest() {
        let feed = RecordedFeed::from_script(
            vec![chat(50)],
            &[super::super::ScriptFrame::new(0, vec![chat(60), chat(50)])],
        );
        let rw = Rewrite::new(3, 1, 777);
        let out = rw.messages(&feed, &feed.frames[0].result.as_ref().unwrap().messages);
        let a = pb::WebcastChatMessage::decode(out[0].payload.as_ref()).unwrap();
        let c = a.common.unwrap();
        assert_eq!(out[0].msg_id as u64, c.msg_id as u64);
        assert_eq!(c.room_id, 777);
        assert_eq!(c.create_time, 5);
        assert_eq!(a.content, "hi");
        assert_eq!(a.user.unwrap().id, 9);
        // 50 is ordinal 0 (seen first in the history), 60 ordinal 1; repeats keep their id.
        assert_eq!(out[1].msg_id as u64, rw.base);
        assert_eq!(out[0].msg_id as u64, rw.base + 1);
        assert_ne!(Rewrite::new(3, 2, 1).base, rw.base);
        assert_ne!(Rewrite::new(4, 1, 1).base, rw.base);
    }

    #[test]
    fn garbage_payloads_are_left_alone() {
        assert_eq!(patch_common(&[0xff, 0xff, 0xff], 1, 2), None);
        assert_eq!(patch_common(&[0x0a, 0x50], 1, 2), None);
        assert_eq!(patch_common(&[], 1, 2), None);
    }
}
