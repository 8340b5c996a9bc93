//! The TikTok LIVE event model, the [`EventSource`] trait and the in-process [`EventBus`].
//!
//! Consumers depend on this crate alone: every source (a live TikTok room, a recording, a mock,
//! a future official API) yields the same [`Event`]s through the same trait.

mod event;
mod serde_ids;

pub use event::{
    ArmySupporter, Badge, BadgeScene, BarrageEvent, BattleAnchor, BattleArmy, BattleResult,
    CaptionEvent, CaptionLine, ChatEvent, ConnectedEvent, ControlEvent, DisconnectedEvent, Emote,
    EmoteEvent, EnvelopeEvent, Event, EventKind, EventMeta, EventVariant, FollowRole, GapEvent,
    GiftEvent, GiftInfo, GoalUpdateEvent, Image, ImDeleteEvent, LikeEvent, LinkMicArmiesEvent,
    LinkMicBattleEvent, LinkMicFanTicketEvent, LinkMicMethodEvent, LiveIntroEvent,
    LivePausedEvent, LiveResumedEvent, MemberAction, MemberEvent, PollEvent, PollOption,
    QuestionNewEvent, RankEntry, RankUpdateEvent, ReconnectingEvent, RoomMessageEvent,
    RoomPinEvent, RoomUserEvent, SocialAction, SocialEvent, StreamEndAction, StreamEndEvent,
    SubGoal, SubscribeEvent, TopViewer, UnauthorizedMemberEvent, UnknownEvent, UnknownEventKind,
    User,
};
