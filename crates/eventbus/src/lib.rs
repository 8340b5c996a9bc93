//! The TikTok LIVE event model, the [`EventSource`] trait and the in-process [`EventBus`].
//!
//! Consumers depend on this crate alone: every source (a live TikTok room, a recording, a mock,
//! a future official API) yields the same [`Event`]s through the same trait.
//!
//! - [`Event`] and one struct per kind: the data.
//! - [`EventSource`]: anything that yields events; [`ScriptedSource`] plays a script, and
//!   [`conformance`] checks any implementation.
//! - [`EventBus`]: many sources in, many subscribers out, with explicit backpressure (a slow
//!   subscriber never stalls a source; what it misses is counted and told), filters, typed
//!   subscriptions, shutdown and statistics. See the [`bus`](EventBus) docs.

mod bus;
pub mod conformance;
pub mod error;
mod event;
mod scripted;
mod serde_ids;
mod source;

pub use bus::{
    BusStats, DEFAULT_CAPACITY, EventBus, Filter, SourceHandle, SourceId, SourceState, SourceStats,
    SubscribeOptions, SubscriberStats, Subscription, TypedSubscription,
};
pub use error::{BusError, Lagged, SourceError, SourceErrorKind};
pub use event::{
    ArmySupporter, Badge, BadgeScene, BarrageEvent, BattleAnchor, BattleArmy, BattleResult,
    CaptionEvent, CaptionLine, ChatEvent, ConnectedEvent, ControlEvent, DisconnectedEvent, Emote,
    EmoteEvent, EnvelopeEvent, Event, EventKind, EventMeta, EventVariant, FollowRole, GapEvent,
    GiftEvent, GiftInfo, GoalUpdateEvent, ImDeleteEvent, Image, LikeEvent, LinkMicArmiesEvent,
    LinkMicBattleEvent, LinkMicFanTicketEvent, LinkMicMethodEvent, LiveIntroEvent, LivePausedEvent,
    LiveResumedEvent, MemberAction, MemberEvent, PollEvent, PollOption, QuestionNewEvent,
    RankEntry, RankUpdateEvent, ReconnectingEvent, RoomMessageEvent, RoomPinEvent, RoomState,
    RoomStateEvent, RoomUserEvent, SocialAction, SocialEvent, StreamEndAction, StreamEndEvent,
    SubGoal, SubscribeEvent, TopViewer, UnauthorizedMemberEvent, UnknownEvent, UnknownEventKind,
    User,
};
pub use scripted::{ScriptedSource, Step};
pub use source::{EventSource, SourceEnd, SourceInfo, SourceItem};

/// Re-exported so sources and mocks implement [`EventSource`] with the same macro version.
pub use async_trait::async_trait;
