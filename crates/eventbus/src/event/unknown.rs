//! Messages this library has no type for: their method name and bytes are kept.

use serde::{Deserialize, Serialize};

use super::EventMeta;
use crate::serde_ids::base64_bytes;

/// `unknown`: a message this library has no type for; the raw bytes are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The message's protobuf bytes, base64 in JSON.
    #[serde(with = "base64_bytes")]
    pub payload: Vec<u8>,
}
