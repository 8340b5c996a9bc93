//! Errors of the push-frame codec.

/// Why a WebSocket message could not be turned into a push frame / event batch.
///
/// No input makes the codec panic; every malformed, oversized or truncated input ends
/// up as one of these variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The WebSocket message is larger than [`FrameLimits::max_frame_bytes`](crate::FrameLimits).
    #[error("push frame of {len} bytes exceeds the limit of {max} bytes")]
    FrameTooLarge {
        /// Size of the rejected message.
        len: usize,
        /// The configured limit.
        max: usize,
    },
    /// The bytes are not a valid protobuf encoding of the expected message.
    #[error("invalid protobuf for {what}: {source}")]
    Protobuf {
        /// Name of the message type that failed to decode (e.g. `"WebcastPushFrame"`).
        what: &'static str,
        /// The prost decode error.
        #[source]
        source: prost::DecodeError,
    },
    /// The gzip stream is corrupt or truncated (bad header, bad deflate data, CRC mismatch, ...).
    #[error("gzip decompression failed: {0}")]
    Gzip(#[source] std::io::Error),
    /// The payload inflates to more than [`FrameLimits::max_decompressed_bytes`](crate::FrameLimits)
    /// (e.g. a gzip bomb); decompression stopped at the limit.
    #[error("decompressed payload exceeds the limit of {max} bytes")]
    DecompressedTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The frame header says `compress_type=gzip` but the payload does not start with the
    /// gzip magic bytes `1f 8b 08`.
    #[error("frame header says compress_type=gzip but the payload is not a gzip stream")]
    NotGzip,
}

impl CodecError {
    pub(crate) fn protobuf(what: &'static str, source: prost::DecodeError) -> Self {
        Self::Protobuf { what, source }
    }
}
