//! Lifecycle: control messages (stream end, pause, resume) and the source's own connection
//! events (connected, disconnected, reconnecting, gap), and a followed room's state (roomState).

use serde::{Deserialize, Serialize};

use super::EventMeta;

/// Why the stream ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StreamEndAction {
    /// The host ended the stream (control action 3).
    #[default]
    Ended,
    /// The platform suspended the stream (control action 4).
    Suspended,
}

/// `streamEnd`: the stream is over; the source ends after it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamEndEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Ended by the host or suspended.
    pub action: StreamEndAction,
    /// The raw control action (3 or 4).
    pub action_id: i32,
    /// TikTok's tip text, when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tips: String,
}

/// `livePaused`: the host paused the stream (control action 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LivePausedEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
}

/// `liveResumed`: the host resumed the stream (control action 2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveResumedEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
}

/// `controlMessage`: a control message with another action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControlEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Raw control action.
    pub action: i32,
    /// Tip text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tips: String,
}

/// `connected`: the source is connected to the room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The streamer's handle, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unique_id: String,
    /// How: `websocket`, `polling`, `replay`…
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub transport: String,
}

/// `disconnected`: the connection closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectedEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Why.
    pub reason: String,
    /// WebSocket close code, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// True when the source will try again.
    pub will_reconnect: bool,
}

/// `reconnecting`: the source is about to reconnect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconnectingEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// Delay before the attempt, ms.
    pub delay_ms: u64,
    /// Why.
    #[serde(default)]
    pub reason: String,
}

/// `gap`: continuity was lost; events between the two points may be missing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GapEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Why.
    pub reason: String,
    /// How many events are known to be missing, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<u64>,
}

/// What a followed room is doing, in a service that follows many rooms (`tiktok-live serve`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RoomState {
    /// Not live: go-live detection runs.
    #[default]
    Waiting,
    /// Live: a connection is being opened.
    Connecting,
    /// Connected and receiving events.
    Live,
    /// The connection dropped; the source is reconnecting.
    Reconnecting,
    /// No longer followed: removed, or ended by a fatal error (see the event's `error`).
    Stopped,
}

impl RoomState {
    /// Every state, in lifecycle order.
    pub const ALL: &'static [RoomState] = &[
        RoomState::Waiting,
        RoomState::Connecting,
        RoomState::Live,
        RoomState::Reconnecting,
        RoomState::Stopped,
    ];

    /// The state's name, as in JSON (`waiting`, `connecting`, `live`, `reconnecting`, `stopped`).
    pub const fn name(self) -> &'static str {
        match self {
            RoomState::Waiting => "waiting",
            RoomState::Connecting => "connecting",
            RoomState::Live => "live",
            RoomState::Reconnecting => "reconnecting",
            RoomState::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for RoomState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `roomState`: a followed room changed state (a service's room lifecycle).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomStateEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The streamer's handle.
    pub user: String,
    /// The state before; absent for a room that was just added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<RoomState>,
    /// The state now.
    pub to: RoomState,
    /// Why, in a few words (`added`, `went live`, `stream ended`, `removed`…).
    pub reason: String,
    /// The error that caused the change, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
