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
    AccessControlEvent, AccessRecallEvent, ArmySupporter, AvatarBorder, Badge, BadgeScene,
    BarrageEvent, BattleAnchor, BattleArmy, BattleResult, BoostCard, BoostCardEvent,
    BottomMessageEvent, CapsuleEvent, CaptionEvent, CaptionLine, ChatEvent, ConnectedEvent,
    ControlEvent, DisconnectedEvent, DisplayText, DonationStickerEvent, Emote, EmoteEvent,
    EnvelopeEvent, Event, EventKind, EventMeta, EventVariant, FollowRole, GameRankNotifyEvent,
    GapEvent, GiftBroadcastEvent, GiftCollectionUpdateEvent, GiftDynamicRestrictionEvent,
    GiftEvent, GiftInfo, GiftPanelUpdateEvent, GiftPromptEvent, GiftReceiverRestriction,
    GoalUpdateEvent, GuideEvent, HashtagEvent, HourlyRankEvent, ImDeleteEvent, Image,
    InRoomBannerEvent, LikeEvent, LinkLayerEvent, LinkMessageEvent, LinkMicArmiesEvent,
    LinkMicBattleEvent, LinkMicBattleItemCardEvent, LinkMicBattleNoticeEvent,
    LinkMicBattlePunishFinishEvent, LinkMicBattleTaskEvent, LinkMicFanTicketEvent,
    LinkMicLayoutStateEvent, LinkMicMethodEvent, LinkPlayer, LinkStateEvent, LinkUser,
    LiveGameIntroEvent, LiveIntroEvent, LivePausedEvent, LiveResumedEvent,
    MarqueeAnnouncementEvent, MemberAction, MemberEvent, MsgDetectEvent, NoticeEvent,
    OecLiveShoppingEvent, OfflineGame, PartnershipDropsUpdateEvent, PartnershipGameOfflineEvent,
    PartnershipPunishEvent, PerceptionEvent, PictionaryEndEvent, PictionaryExitEvent,
    PictionaryStartEvent, PictionaryUpdateEvent, PollEvent, PollOption, PunishInfo,
    QuestionDeleteEvent, QuestionNewEvent, QuestionSelectedEvent, QuestionSlideDownEvent,
    RankEntry, RankTextEvent, RankUpdateEvent, RankWinner, ReconnectingEvent, RoomMessageEvent,
    RoomNotice, RoomNotifyEvent, RoomPinEvent, RoomState, RoomStateEvent, RoomStatsEvent,
    RoomUserEvent, RoomVerifyEvent, ShopProduct, SocialAction, SocialEvent, SpeakerEvent,
    StreamEndAction, StreamEndEvent, SubGoal, SubGoalCard, SubPinEvent, SubTimerStickerEvent,
    SubscribeEvent, SubscriptionGuideEvent, SystemEvent, TextPiece, ToastEvent, TopViewer,
    UnauthorizedMemberEvent, UnknownEvent, UnknownEventKind, User, ViewerPick,
    ViewerPicksUpdateEvent, WeeklyRankRewardEvent,
};
pub use scripted::{ScriptedSource, Step};
pub use source::{EventSource, SourceEnd, SourceInfo, SourceItem};

/// Re-exported so sources and mocks implement [`EventSource`] with the same macro version.
pub use async_trait::async_trait;
