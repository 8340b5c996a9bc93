//! Session figures: the `roomStats` event that carries what the pipeline's aggregates computed
//! (like and viewer peaks, diamonds from finished gifts, follows and shares).

use serde::{Deserialize, Serialize};

use super::{EventMeta, is_zero_u64};

/// `roomStats`: the session's figures so far, computed once in the pipeline from the events it
/// delivered (not sent by TikTok: `msg_id` is 0 and `method` empty; `create_time` is the time of
/// the event that prompted it). Every figure only grows during a session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomStatsEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The room's like total: the highest total TikTok reported (its totals arrive stale and out
    /// of order from different servers; this never goes back).
    #[serde(default)]
    pub likes: u64,
    /// Likes counted this session: the sum of the like events' counts.
    #[serde(default)]
    pub session_likes: u64,
    /// Distinct users who liked this session.
    #[serde(default)]
    pub likers: u64,
    /// Viewers now (the last viewer count TikTok sent).
    #[serde(default)]
    pub viewers: u64,
    /// The highest viewer count this session.
    #[serde(default)]
    pub viewer_peak: u64,
    /// Diamonds from finished gifts this session (a streak counts once, when it ends).
    #[serde(default)]
    pub diamonds: u64,
    /// Finished gifts this session (a streak counts as one).
    #[serde(default)]
    pub gifts: u64,
    /// Distinct users who followed the host this session.
    #[serde(default)]
    pub follows: u64,
    /// Shares of the stream this session.
    #[serde(default)]
    pub shares: u64,
    /// Like and follow events whose user could not be tracked because the session already
    /// tracks as many users as its limit allows: those likes carry no per-user total, and those
    /// follows are counted without de-duplication. 0 unless a session is huge.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub untracked_events: u64,
}
