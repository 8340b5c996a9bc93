//! TikTok LIVE webcast protobuf schema and push-frame codec.
//!
//! * [`webcast`] — the generated prost types (one protobuf package, `webcast`), written
//!   for this project from the field tables of the protocol fact sheet.
//! * [`frame`] — decoding/encoding of WebSocket push frames (gzip, size limits, client
//!   frames), with errors in [`CodecError`].

pub mod aggregate;
mod decode;
pub mod error;
pub mod frame;

/// Generated protobuf types (package `webcast`).
///
/// Enum-typed protocol fields are plain `i32`s; fields whose layout is not known are
/// skipped on decode as unknown fields.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    rust_2018_idioms,
    unreachable_pub
)]
pub mod webcast {
    include!(concat!(env!("OUT_DIR"), "/webcast.rs"));
}

pub use aggregate::Aggregates;
pub use error::CodecError;
pub use frame::{
    DEFAULT_MAX_DECOMPRESSED_BYTES, DEFAULT_MAX_FRAME_BYTES, DecodedFrame, FrameLimits, GZIP_MAGIC,
    ack_frame, decode_fetch_result, decode_fetch_result_bytes, decode_msg_frame,
    decode_msg_frame_bytes, decode_push_frame, decode_push_frame_bytes,
    decode_push_frame_with_limits, enter_room_frame, frame_header, frame_is_gzip, frame_payload,
    gzip, heartbeat_frame, msg_frame, new_enter_unique_id,
};

pub use decode::{DecodeError, decode_events, decode_message, decode_payload, user};
