//! The WebSocket push-frame codec (protocol.md §8 and §9).
//!
//! Every WebSocket binary message, in both directions, is one [`WebcastPushFrame`].
//! Server `msg` frames carry a (usually gzip'd) [`ProtoMessageFetchResult`] whose
//! `messages` are the individual events. The client sends `im_enter_room`, `hb`
//! (heartbeat) and `ack` frames, built here byte-for-byte as the reference clients do.
//!
//! Decoding never panics: oversized frames, invalid protobuf, corrupt or truncated gzip
//! and gzip bombs all end in a [`CodecError`].

use std::io::{Read, Write};

use bytes::Bytes;
use prost::Message;

use crate::error::CodecError;
use crate::webcast::{
    HeartBeatMessage, ProtoMessageFetchResult, PushHeader, WebcastImEnterRoomMessage,
    WebcastPushFrame,
};

/// Default for [`FrameLimits::max_frame_bytes`]: 16 MiB.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;
/// Default for [`FrameLimits::max_decompressed_bytes`]: 8 MiB.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 8 * 1024 * 1024;

/// First bytes of every gzip stream (ID1, ID2, CM = deflate).
///
/// A protobuf message can never start with `0x1f` (field 3 with the invalid wire type 7),
/// so detecting gzip by these bytes is unambiguous.
pub const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Name of the push-frame header that announces the payload compression.
pub const COMPRESS_TYPE_HEADER: &str = "compress_type";

/// `payload_type` of server event batches.
pub const PAYLOAD_TYPE_MSG: &str = "msg";
/// `payload_type` of client acks.
pub const PAYLOAD_TYPE_ACK: &str = "ack";
/// `payload_type` of heartbeats.
pub const PAYLOAD_TYPE_HB: &str = "hb";
/// `payload_type` of the client's join-room frame.
pub const PAYLOAD_TYPE_ENTER_ROOM: &str = "im_enter_room";
/// `payload_type` of the server's reply to `im_enter_room`.
pub const PAYLOAD_TYPE_ENTER_ROOM_RESP: &str = "im_enter_room_resp";
/// `payload_encoding` of protobuf payloads.
pub const PAYLOAD_ENCODING_PB: &str = "pb";

/// `live_id` sent in `im_enter_room` (static for all streams, protocol.md §9.1).
pub const ENTER_ROOM_LIVE_ID: i64 = 12;

/// Size limits applied while decoding server frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest accepted WebSocket message (the encoded push frame). Default 16 MiB.
    pub max_frame_bytes: usize,
    /// Largest accepted payload after gunzip. Default 8 MiB. Only applies to compressed
    /// payloads (a raw payload is already bounded by `max_frame_bytes`).
    pub max_decompressed_bytes: usize,
}

impl Default for FrameLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
        }
    }
}

// ------------------------------------------------------------------------------------
// decoding

fn check_frame_len(len: usize, limits: &FrameLimits) -> Result<(), CodecError> {
    if len > limits.max_frame_bytes {
        Err(CodecError::FrameTooLarge {
            len,
            max: limits.max_frame_bytes,
        })
    } else {
        Ok(())
    }
}

/// Decodes one WebSocket binary message into a push frame, with the default
/// [`FrameLimits::max_frame_bytes`]. The payload is copied once into the frame.
pub fn decode_push_frame(bytes: &[u8]) -> Result<WebcastPushFrame, CodecError> {
    decode_push_frame_slice(bytes, &FrameLimits::default())
}

/// Like [`decode_push_frame`], but takes ownership of the message so that
/// `frame.payload` is a zero-copy slice of it.
pub fn decode_push_frame_bytes(bytes: Bytes) -> Result<WebcastPushFrame, CodecError> {
    decode_push_frame_with_limits(bytes, &FrameLimits::default())
}

/// Like [`decode_push_frame_bytes`] with explicit limits.
pub fn decode_push_frame_with_limits(
    bytes: Bytes,
    limits: &FrameLimits,
) -> Result<WebcastPushFrame, CodecError> {
    check_frame_len(bytes.len(), limits)?;
    WebcastPushFrame::decode(bytes).map_err(|e| CodecError::protobuf("WebcastPushFrame", e))
}

fn decode_push_frame_slice(
    bytes: &[u8],
    limits: &FrameLimits,
) -> Result<WebcastPushFrame, CodecError> {
    check_frame_len(bytes.len(), limits)?;
    WebcastPushFrame::decode(bytes).map_err(|e| CodecError::protobuf("WebcastPushFrame", e))
}

/// Value of the first header named `key` (ASCII case-insensitive) of a frame.
pub fn frame_header<'a>(frame: &'a WebcastPushFrame, key: &str) -> Option<&'a str> {
    frame
        .headers
        .iter()
        .find(|h| h.key.eq_ignore_ascii_case(key))
        .map(|h| h.value.as_str())
}

fn header_says_gzip(frame: &WebcastPushFrame) -> bool {
    frame_header(frame, COMPRESS_TYPE_HEADER).is_some_and(|v| v.trim().eq_ignore_ascii_case("gzip"))
}

fn has_gzip_magic(payload: &[u8]) -> bool {
    payload.starts_with(&GZIP_MAGIC)
}

/// True when the frame's headers say `compress_type=gzip` or the payload starts with
/// [`GZIP_MAGIC`].
pub fn frame_is_gzip(frame: &WebcastPushFrame) -> bool {
    header_says_gzip(frame) || has_gzip_magic(&frame.payload)
}

/// The frame payload, gunzipped when needed.
///
/// * empty payload → empty;
/// * header `compress_type=gzip` → gunzip; a payload without the gzip magic is
///   [`CodecError::NotGzip`];
/// * header absent, `none` or any other value → gunzip if the payload starts with
///   [`GZIP_MAGIC`] (as Node does), else the raw payload (a cheap `Bytes` clone).
///
/// Decompression streams and stops one byte past `limits.max_decompressed_bytes`
/// ([`CodecError::DecompressedTooLarge`]), so a gzip bomb never allocates more than the
/// limit. Corrupt/truncated streams and CRC mismatches are [`CodecError::Gzip`].
/// Concatenated gzip members are accepted.
pub fn frame_payload(frame: &WebcastPushFrame, limits: &FrameLimits) -> Result<Bytes, CodecError> {
    let payload = &frame.payload;
    if payload.is_empty() {
        return Ok(Bytes::new());
    }
    if has_gzip_magic(payload) {
        gunzip(payload, limits.max_decompressed_bytes).map(Bytes::from)
    } else if header_says_gzip(frame) {
        Err(CodecError::NotGzip)
    } else {
        Ok(payload.clone())
    }
}

fn gunzip(data: &[u8], max: usize) -> Result<Vec<u8>, CodecError> {
    // Pre-size from the gzip trailer's ISIZE (uncompressed length mod 2^32 of the last
    // member) so the buffer is not regrown; it is only a hint, bounded by the cap and by
    // deflate's maximum ratio (~1032:1), so a lying trailer cannot force a big allocation.
    let hint = match data.len().checked_sub(4).and_then(|at| data.get(at..)) {
        Some(&[a, b, c, d]) => usize::try_from(u32::from_le_bytes([a, b, c, d])).unwrap_or(max),
        _ => 0,
    };
    let capacity = hint.min(max).min(data.len().saturating_mul(1032));
    let mut out = Vec::with_capacity(capacity.saturating_add(1));
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = flate2::bufread::MultiGzDecoder::new(data).take(limit);
    decoder.read_to_end(&mut out).map_err(CodecError::Gzip)?;
    if out.len() > max {
        return Err(CodecError::DecompressedTooLarge { max });
    }
    Ok(out)
}

/// Decodes the payload of a `msg` frame (already decompressed) into the event batch.
/// Each `messages[i].payload` is copied; see [`decode_fetch_result_bytes`] to avoid that.
pub fn decode_fetch_result(payload: &[u8]) -> Result<ProtoMessageFetchResult, CodecError> {
    ProtoMessageFetchResult::decode(payload)
        .map_err(|e| CodecError::protobuf("ProtoMessageFetchResult", e))
}

/// Like [`decode_fetch_result`]; the inner `messages[i].payload`s are zero-copy slices
/// of `payload`.
pub fn decode_fetch_result_bytes(payload: Bytes) -> Result<ProtoMessageFetchResult, CodecError> {
    ProtoMessageFetchResult::decode(payload)
        .map_err(|e| CodecError::protobuf("ProtoMessageFetchResult", e))
}

/// A decoded server frame.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFrame {
    /// The push frame as received. `frame.payload` is still the raw (possibly gzip'd)
    /// payload; use [`DecodedFrame::payload`] for the decompressed one.
    pub frame: WebcastPushFrame,
    /// The payload after decompression (see [`frame_payload`]); for every payload type.
    pub payload: Bytes,
    /// The event batch: `Some` exactly when `payload_type == "msg"` (an empty payload
    /// gives an empty batch); `None` for every other payload type (`hb`,
    /// `im_enter_room_resp`, ...), whose decompressed bytes stay in `payload`.
    pub result: Option<ProtoMessageFetchResult>,
}

impl DecodedFrame {
    /// The frame's `log_id` (identifies the frame in the ack).
    pub fn log_id(&self) -> i64 {
        self.frame.log_id
    }

    /// The frame's `payload_type` (`msg`, `hb`, `im_enter_room_resp`, ...).
    pub fn payload_type(&self) -> &str {
        &self.frame.payload_type
    }

    /// Value of the first header named `key` (ASCII case-insensitive).
    pub fn header(&self, key: &str) -> Option<&str> {
        frame_header(&self.frame, key)
    }

    /// Whether the batch asks for an ack (`result.need_ack`).
    pub fn need_ack(&self) -> bool {
        self.result.as_ref().is_some_and(|r| r.need_ack)
    }
}

/// Decodes one WebSocket binary message: push frame → decompressed payload → (for `msg`
/// frames) the [`ProtoMessageFetchResult`]. The message is copied once; see
/// [`decode_msg_frame_bytes`] for the zero-copy variant.
pub fn decode_msg_frame(bytes: &[u8], limits: &FrameLimits) -> Result<DecodedFrame, CodecError> {
    let frame = decode_push_frame_slice(bytes, limits)?;
    finish_decode(frame, limits)
}

/// Like [`decode_msg_frame`], taking ownership of the message: the payload (if not
/// compressed) and the inner event payloads are slices of `bytes` / of the gunzip buffer.
pub fn decode_msg_frame_bytes(
    bytes: Bytes,
    limits: &FrameLimits,
) -> Result<DecodedFrame, CodecError> {
    let frame = decode_push_frame_with_limits(bytes, limits)?;
    finish_decode(frame, limits)
}

fn finish_decode(
    frame: WebcastPushFrame,
    limits: &FrameLimits,
) -> Result<DecodedFrame, CodecError> {
    let payload = frame_payload(&frame, limits)?;
    let result = if frame.payload_type == PAYLOAD_TYPE_MSG {
        Some(decode_fetch_result_bytes(payload.clone())?)
    } else {
        None
    };
    Ok(DecodedFrame {
        frame,
        payload,
        result,
    })
}

// ------------------------------------------------------------------------------------
// encoding

/// Reinterprets a `u64` id as the schema's `int64`. The varint bytes are identical.
#[allow(clippy::cast_possible_wrap)]
const fn as_int64(v: u64) -> i64 {
    v as i64
}

fn client_frame(log_id: u64, payload_type: &str, payload: Vec<u8>) -> Vec<u8> {
    WebcastPushFrame {
        log_id: as_int64(log_id),
        payload_encoding: PAYLOAD_ENCODING_PB.to_owned(),
        payload_type: payload_type.to_owned(),
        payload: Bytes::from(payload),
        ..Default::default()
    }
    .encode_to_vec()
}

/// The `im_enter_room` frame (protocol.md §9.1): `live_id` 12, `identity` "audience",
/// `filter_welcome_msg` "0", `account_type` 0; `payload_encoding` "pb",
/// `payload_type` "im_enter_room", no headers, no `log_id`.
pub fn enter_room_frame(room_id: u64, enter_unique_id: u64) -> Vec<u8> {
    let msg = WebcastImEnterRoomMessage {
        room_id: as_int64(room_id),
        live_id: ENTER_ROOM_LIVE_ID,
        identity: "audience".to_owned(),
        account_type: 0,
        enter_unique_id: as_int64(enter_unique_id),
        filter_welcome_msg: "0".to_owned(),
        ..Default::default()
    };
    client_frame(0, PAYLOAD_TYPE_ENTER_ROOM, msg.encode_to_vec())
}

/// The heartbeat frame (protocol.md §9.2): `payload_type` "hb", payload
/// `HeartBeatMessage{room_id, send_packet_seq_id: seq}`.
pub fn heartbeat_frame(room_id: u64, seq: u64) -> Vec<u8> {
    let msg = HeartBeatMessage {
        room_id: as_int64(room_id),
        send_packet_seq_id: as_int64(seq),
    };
    client_frame(0, PAYLOAD_TYPE_HB, msg.encode_to_vec())
}

/// The ack frame (protocol.md §9.3): the received frame's `log_id`, `payload_type`
/// "ack", `payload_encoding` "pb", payload = the UTF-8 bytes of the batch's
/// `internal_ext` (the caller decides what to send when it is empty, e.g. `"-"`).
pub fn ack_frame(log_id: u64, internal_ext: &str) -> Vec<u8> {
    client_frame(log_id, PAYLOAD_TYPE_ACK, internal_ext.as_bytes().to_vec())
}

/// A server `msg` frame carrying `result` (for the fake server and tests), laid out as
/// protocol.md §8.5: `log_id`, then (when `gzip`) the header `compress_type=gzip` and a
/// real gzip stream, `payload_encoding` "pb", `payload_type` "msg", payload. Without
/// `gzip` the payload is raw protobuf and there is no header.
pub fn msg_frame(log_id: u64, result: &ProtoMessageFetchResult, gzip: bool) -> Vec<u8> {
    let raw = result.encode_to_vec();
    let (headers, payload) = if gzip {
        (
            vec![PushHeader {
                key: COMPRESS_TYPE_HEADER.to_owned(),
                value: "gzip".to_owned(),
            }],
            self::gzip(&raw),
        )
    } else {
        (Vec::new(), raw)
    };
    WebcastPushFrame {
        log_id: as_int64(log_id),
        headers,
        payload_encoding: PAYLOAD_ENCODING_PB.to_owned(),
        payload_type: PAYLOAD_TYPE_MSG.to_owned(),
        payload: Bytes::from(payload),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Gzip-compresses `bytes` (a single gzip member, default compression level).
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 2 + 64),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .expect("gzip into a Vec never fails")
}

/// A fresh `enter_unique_id` for `im_enter_room`: a random positive 63-bit integer,
/// never 0 (protocol.md §9.1). Seeded from std's `RandomState`, the clock and a counter.
pub fn new_enter_unique_id() -> u64 {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{SystemTime, UNIX_EPOCH};

    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(nanos);
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    let id = hasher.finish() & (i64::MAX as u64);
    if id == 0 { 1 } else { id }
}
