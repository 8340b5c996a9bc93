//! The public event model: one struct per event kind, the shared [`User`], [`GiftInfo`],
//! [`Badge`], [`Image`] and [`DisplayText`] shapes, and the [`Event`] enum that carries them.
//!
//! The kinds live in one module per family: [`shared`] (user and shared shapes), [`chat`]
//! (chat, social and Q&A), [`gift`] (gifts, goals, treasure), [`room`] (room stats, ranks and
//! notices), [`battle`] (battles and co-hosting), [`platform`] (moderation, partnerships,
//! shopping), [`lifecycle`] (control messages and the connection's own events), [`stats`] (the
//! session figures the pipeline computes) and [`unknown`].
//!
//! # JSON shape
//!
//! Events serialize (serde) to one JSON object whose `type` is the event name users know from
//! the Node library (`chat`, `gift`, `member`, `like`, `social`, `subscribe`, `roomUser`,
//! `questionNew`, `linkMicBattle`, `linkMicArmies`, `emote`, `streamEnd`, others in camelCase,
//! lifecycle as `connected`, `disconnected`, `reconnecting`, `gap`, and a followed room's `roomState`). Kinds the Node library has
//! no name for are named the same way, after their method (`WebcastPictionaryStartMessage` is
//! `pictionaryStart`). Every event has `room_id`, `msg_id` (64-bit ids as decimal strings),
//! `create_time` (ms) and `method` (the wire message name). Field names are snake_case. Fields
//! that are empty or unknown are left out.

use serde::{Deserialize, Serialize};

use crate::serde_ids::id;

mod battle;
mod chat;
mod gift;
mod lifecycle;
mod platform;
mod room;
mod shared;
mod stats;
mod unknown;

pub use battle::*;
pub use chat::*;
pub use gift::*;
pub use lifecycle::*;
pub use platform::*;
pub use room::*;
pub use shared::*;
pub use stats::*;
pub use unknown::*;

// `skip_serializing_if` predicates shared by the kind modules.

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}

fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

/// Metadata every event carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMeta {
    /// The room the event belongs to.
    #[serde(with = "id")]
    pub room_id: u64,
    /// TikTok's message id (`common.msg_id`, or the envelope's `msg_id`); 0 for lifecycle events.
    #[serde(with = "id")]
    pub msg_id: u64,
    /// Creation time in milliseconds since the Unix epoch (server time for webcast messages).
    pub create_time: i64,
    /// The wire message name (`WebcastChatMessage`…); empty for lifecycle events.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub method: String,
    /// True for messages from the history batch delivered on connect.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_history: bool,
}

/// A type that is the payload of exactly one [`Event`] variant (for typed subscriptions).
pub trait EventVariant: Sized + Send + Sync + 'static {
    /// The kind of event this type is.
    const KIND: EventKind;
    /// Takes the value out of an event of that kind.
    #[allow(clippy::result_large_err)] // gives the event back unchanged, as `Err`
    fn from_event(event: Event) -> Result<Self, Event>;
    /// Borrows the value from an event of that kind.
    fn from_event_ref(event: &Event) -> Option<&Self>;
}

macro_rules! events {
    ($( $(#[$doc:meta])* $variant:ident($ty:ident) = $name:literal, $lifecycle:literal; )*) => {
        /// One event from a room.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        #[non_exhaustive]
        pub enum Event {
            $( $(#[$doc])* #[serde(rename = $name)] $variant($ty), )*
        }

        /// The kind of an [`Event`], without its data (for filters and statistics).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum EventKind {
            $( $(#[$doc])* $variant, )*
        }

        impl EventKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [EventKind] = &[$(EventKind::$variant,)*];

            /// The event name, as in the JSON `type` field.
            pub const fn name(self) -> &'static str {
                match self { $(EventKind::$variant => $name,)* }
            }

            /// Parses an event name (the JSON `type`), case-insensitively.
            pub fn from_name(name: &str) -> Option<Self> {
                $( if name.eq_ignore_ascii_case($name) { return Some(EventKind::$variant); } )*
                None
            }

            /// Lifecycle kinds: the connection's (connected, disconnected, reconnecting, gap) and a
            /// followed room's (roomState).
            pub const fn is_lifecycle(self) -> bool {
                match self { $(EventKind::$variant => $lifecycle,)* }
            }

            /// A small dense index, `0..ALL.len()`, for per-kind counters.
            pub const fn index(self) -> usize {
                self as usize
            }
        }

        impl Event {
            /// The event's kind.
            pub const fn kind(&self) -> EventKind {
                match self { $(Event::$variant(_) => EventKind::$variant,)* }
            }

            /// The metadata every event has.
            pub const fn meta(&self) -> &EventMeta {
                match self { $(Event::$variant(e) => &e.meta,)* }
            }

            /// Mutable metadata.
            pub fn meta_mut(&mut self) -> &mut EventMeta {
                match self { $(Event::$variant(e) => &mut e.meta,)* }
            }
        }

        $(
            impl EventVariant for $ty {
                const KIND: EventKind = EventKind::$variant;
                fn from_event(event: Event) -> Result<Self, Event> {
                    match event { Event::$variant(e) => Ok(e), other => Err(other) }
                }
                fn from_event_ref(event: &Event) -> Option<&Self> {
                    match event { Event::$variant(e) => Some(e), _ => None }
                }
            }

            impl From<$ty> for Event {
                fn from(e: $ty) -> Event { Event::$variant(e) }
            }
        )*
    };
}

events! {
    /// A comment.
    Chat(ChatEvent) = "chat", false;
    /// A gift or a step of a gift streak.
    Gift(GiftEvent) = "gift", false;
    /// A viewer joined.
    Member(MemberEvent) = "member", false;
    /// Likes.
    Like(LikeEvent) = "like", false;
    /// A follow, a share or another social action.
    Social(SocialEvent) = "social", false;
    /// A subscription.
    Subscribe(SubscribeEvent) = "subscribe", false;
    /// Viewer count and top viewers.
    RoomUser(RoomUserEvent) = "roomUser", false;
    /// A Q&A question.
    QuestionNew(QuestionNewEvent) = "questionNew", false;
    /// A battle between hosts.
    LinkMicBattle(LinkMicBattleEvent) = "linkMicBattle", false;
    /// Battle scores.
    LinkMicArmies(LinkMicArmiesEvent) = "linkMicArmies", false;
    /// A sticker.
    Emote(EmoteEvent) = "emote", false;
    /// The stream ended.
    StreamEnd(StreamEndEvent) = "streamEnd", false;
    /// The stream was paused.
    LivePaused(LivePausedEvent) = "livePaused", false;
    /// The stream was resumed.
    LiveResumed(LiveResumedEvent) = "liveResumed", false;
    /// Another control message.
    Control(ControlEvent) = "controlMessage", false;
    /// A treasure chest.
    Envelope(EnvelopeEvent) = "envelope", false;
    /// A room system text.
    RoomMessage(RoomMessageEvent) = "roomMessage", false;
    /// The stream's intro.
    LiveIntro(LiveIntroEvent) = "liveIntro", false;
    /// A banner.
    Barrage(BarrageEvent) = "barrage", false;
    /// A pinned message.
    RoomPin(RoomPinEvent) = "roomPin", false;
    /// A stream goal update.
    GoalUpdate(GoalUpdateEvent) = "goalUpdate", false;
    /// A poll.
    Poll(PollEvent) = "pollMessage", false;
    /// A rank update.
    RankUpdate(RankUpdateEvent) = "rankUpdate", false;
    /// Live captions.
    Caption(CaptionEvent) = "captionMessage", false;
    /// Moderation deleted messages.
    ImDelete(ImDeleteEvent) = "imDelete", false;
    /// Co-host signalling.
    LinkMicMethod(LinkMicMethodEvent) = "linkMicMethod", false;
    /// Co-host fan tickets.
    LinkMicFanTicketMethod(LinkMicFanTicketEvent) = "linkMicFanTicketMethod", false;
    /// A viewer who is not logged in joined.
    UnauthorizedMember(UnauthorizedMemberEvent) = "unauthorizedMember", false;
    /// A system message.
    System(SystemEvent) = "system", false;
    /// A banner's data (JSON text).
    InRoomBanner(InRoomBannerEvent) = "inRoomBanner", false;
    /// A rank announcement.
    RankText(RankTextEvent) = "rankText", false;
    /// Hourly ranking rewards.
    HourlyRank(HourlyRankEvent) = "hourlyRank", false;
    /// A notice shown in the room.
    RoomNotify(RoomNotifyEvent) = "roomNotify", false;
    /// A notice from TikTok.
    Notice(NoticeEvent) = "notice", false;
    /// A short pop-up text.
    Toast(ToastEvent) = "toast", false;
    /// A banner at the bottom of the stream.
    BottomMessage(BottomMessageEvent) = "bottomMessage", false;
    /// A capsule prompt with a button.
    Capsule(CapsuleEvent) = "capsule", false;
    /// Scrolling announcements.
    MarqueeAnnouncement(MarqueeAnnouncementEvent) = "marqueeAnnouncement", false;
    /// The streamed game's intro.
    LiveGameIntro(LiveGameIntroEvent) = "liveGameIntro", false;
    /// A game ranking changed.
    GameRankNotify(GameRankNotifyEvent) = "gameRankNotify", false;
    /// A hint shown to viewers.
    Guide(GuideEvent) = "guide", false;
    /// TikTok's speaker signal.
    Speaker(SpeakerEvent) = "speaker", false;
    /// A subscriber card was pinned or unpinned.
    SubPinEvent(SubPinEvent) = "subPinEvent", false;
    /// The viewer-picks board changed.
    ViewerPicksUpdate(ViewerPicksUpdateEvent) = "viewerPicksUpdate", false;
    /// A platform-wide gift announcement.
    GiftBroadcast(GiftBroadcastEvent) = "giftBroadcast", false;
    /// A prompt about the viewer's own gifting.
    GiftPrompt(GiftPromptEvent) = "giftPrompt", false;
    /// The gift panel's data changed.
    GiftPanelUpdate(GiftPanelUpdateEvent) = "giftPanelUpdate", false;
    /// Gifts hidden from the panel.
    GiftDynamicRestriction(GiftDynamicRestrictionEvent) = "giftDynamicRestriction", false;
    /// A battle's punishment ended.
    LinkMicBattlePunishFinish(LinkMicBattlePunishFinishEvent) = "linkMicBattlePunishFinish", false;
    /// A battle task.
    LinkMicBattleTask(LinkMicBattleTaskEvent) = "linkMicBattleTask", false;
    /// A battle card.
    LinkMicBattleItemCard(LinkMicBattleItemCardEvent) = "linkMicBattleItemCard", false;
    /// Co-host and multi-guest signalling.
    LinkMessage(LinkMessageEvent) = "linkMessage", false;
    /// Link channel membership.
    LinkLayer(LinkLayerEvent) = "linkLayer", false;
    /// Link channel participants' state.
    LinkState(LinkStateEvent) = "linkState", false;
    /// The co-host layout changed.
    LinkMicLayoutState(LinkMicLayoutStateEvent) = "linkMicLayoutState", false;
    /// A captcha to solve.
    AccessControl(AccessControlEvent) = "accessControl", false;
    /// An access withdrawn or given back.
    AccessRecall(AccessRecallEvent) = "accessRecall", false;
    /// A moderation dialog or banner.
    Perception(PerceptionEvent) = "perception", false;
    /// The room is being verified.
    RoomVerify(RoomVerifyEvent) = "roomVerify", false;
    /// TikTok probing its own message delivery.
    MsgDetect(MsgDetectEvent) = "msgDetect", false;
    /// A game-partnership sanction.
    PartnershipPunish(PartnershipPunishEvent) = "partnershipPunish", false;
    /// A game-partnership drop changed.
    PartnershipDropsUpdate(PartnershipDropsUpdateEvent) = "partnershipDropsUpdate", false;
    /// Game-partnership tasks went offline.
    PartnershipGameOffline(PartnershipGameOfflineEvent) = "partnershipGameOffline", false;
    /// The stream's shop changed.
    OecLiveShopping(OecLiveShoppingEvent) = "oecLiveShopping", false;
    /// Boost cards changed.
    BoostCard(BoostCardEvent) = "boostCard", false;
    /// The host picked a Q&A question.
    QuestionSelected(QuestionSelectedEvent) = "questionSelected", false;
    /// A Q&A question was deleted.
    QuestionDelete(QuestionDeleteEvent) = "questionDelete", false;
    /// A Q&A question was put away.
    QuestionSlideDown(QuestionSlideDownEvent) = "questionSlideDown", false;
    /// A prompt to subscribe.
    SubscriptionGuide(SubscriptionGuideEvent) = "subscriptionGuide", false;
    /// A subscriber timer sticker counts down.
    SubTimerSticker(SubTimerStickerEvent) = "subTimerSticker", false;
    /// A notice about the match.
    LinkMicBattleNotice(LinkMicBattleNoticeEvent) = "linkMicBattleNotice", false;
    /// A daily or weekly ranking reward.
    WeeklyRankReward(WeeklyRankRewardEvent) = "weeklyRankReward", false;
    /// The stream's topic.
    Hashtag(HashtagEvent) = "hashtag", false;
    /// A gift collection's progress.
    GiftCollectionUpdate(GiftCollectionUpdateEvent) = "giftCollectionUpdate", false;
    /// The host's donation sticker.
    DonationStickerModify(DonationStickerEvent) = "donationStickerModify", false;
    /// A drawing-game round started.
    PictionaryStart(PictionaryStartEvent) = "pictionaryStart", false;
    /// A drawing-game round changed.
    PictionaryUpdate(PictionaryUpdateEvent) = "pictionaryUpdate", false;
    /// A drawing-game round ended.
    PictionaryEnd(PictionaryEndEvent) = "pictionaryEnd", false;
    /// The drawing game was closed.
    PictionaryExit(PictionaryExitEvent) = "pictionaryExit", false;
    /// The session's figures, computed by the pipeline.
    RoomStats(RoomStatsEvent) = "roomStats", false;
    /// Connected to the room.
    Connected(ConnectedEvent) = "connected", true;
    /// Disconnected.
    Disconnected(DisconnectedEvent) = "disconnected", true;
    /// About to reconnect.
    Reconnecting(ReconnectingEvent) = "reconnecting", true;
    /// Continuity lost.
    Gap(GapEvent) = "gap", true;
    /// A followed room changed state (service room lifecycle).
    RoomState(RoomStateEvent) = "roomState", true;
    /// A message with no type here; raw bytes kept.
    Unknown(UnknownEvent) = "unknown", false;
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for EventKind {
    type Err = UnknownEventKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::from_name(s).ok_or_else(|| UnknownEventKind(s.to_owned()))
    }
}

/// A name that is not an event kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event kind {0:?}")]
pub struct UnknownEventKind(pub String);

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        EventKind::from_name(&s).ok_or_else(|| serde::de::Error::custom(UnknownEventKind(s)))
    }
}

impl Event {
    /// The event name (JSON `type`).
    pub fn name(&self) -> &'static str {
        self.kind().name()
    }

    /// The room id.
    pub fn room_id(&self) -> u64 {
        self.meta().room_id
    }

    /// The message id (0 for lifecycle events).
    pub fn msg_id(&self) -> u64 {
        self.meta().msg_id
    }

    /// The user the event is about, for kinds that have one.
    pub fn user(&self) -> Option<&User> {
        match self {
            Event::Chat(e) => Some(&e.user),
            Event::Gift(e) => Some(&e.user),
            Event::Member(e) => Some(&e.user),
            Event::Like(e) => Some(&e.user),
            Event::Social(e) => Some(&e.user),
            Event::Subscribe(e) => Some(&e.user),
            Event::Emote(e) => Some(&e.user),
            Event::QuestionNew(e) => e.user.as_ref(),
            Event::LiveIntro(e) => e.user.as_ref(),
            Event::Barrage(e) => e.user.as_ref(),
            Event::QuestionSelected(e) => e.user.as_ref(),
            Event::RoomNotify(e) => e.notice.user.as_ref(),
            _ => None,
        }
    }

    /// True for the event that ends a stream.
    pub fn is_stream_end(&self) -> bool {
        matches!(self, Event::StreamEnd(_))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn room_state_json_names_user_states_and_reason() {
        let ev = Event::RoomState(RoomStateEvent {
            meta: EventMeta {
                room_id: 7_400_000_000_000_000_001,
                create_time: 1_700_000_000_000,
                ..EventMeta::default()
            },
            user: "river_otter".into(),
            from: Some(RoomState::Waiting),
            to: RoomState::Connecting,
            reason: "went live".into(),
            error: None,
        });
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["type"], "roomState");
        assert_eq!(v["user"], "river_otter");
        assert_eq!(v["from"], "waiting");
        assert_eq!(v["to"], "connecting");
        assert_eq!(v["reason"], "went live");
        assert!(v.get("error").is_none());
        assert!(EventKind::RoomState.is_lifecycle());
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), ev);
        let names: Vec<&str> = RoomState::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            ["waiting", "connecting", "live", "reconnecting", "stopped"]
        );
    }

    use super::*;

    #[test]
    fn kind_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for (i, k) in EventKind::ALL.iter().enumerate() {
            assert_eq!(k.index(), i);
            assert!(seen.insert(k.name()), "duplicate name {}", k.name());
            assert_eq!(EventKind::from_name(k.name()), Some(*k));
            assert_eq!(k.name().parse::<EventKind>().unwrap(), *k);
        }
        assert!(EventKind::from_name("nope").is_none());
        assert!(EventKind::Gap.is_lifecycle());
        assert!(!EventKind::Chat.is_lifecycle());
    }

    #[test]
    fn chat_json_has_the_documented_shape() {
        let ev = Event::Chat(ChatEvent {
            meta: EventMeta {
                room_id: 7_400_000_000_000_000_001,
                msg_id: 7_400_000_000_000_000_123,
                create_time: 1_700_000_000_000,
                method: "WebcastChatMessage".into(),
                is_history: false,
            },
            user: User {
                id: 6_900_000_000_000_000_042,
                unique_id: "river_otter".into(),
                nickname: "River".into(),
                profile_picture_url: Some("https://example.invalid/a.webp".into()),
                ..User::default()
            },
            comment: "hello".into(),
            ..ChatEvent::default()
        });
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["type"], "chat");
        assert_eq!(v["room_id"], "7400000000000000001");
        assert_eq!(v["msg_id"], "7400000000000000123");
        assert_eq!(v["create_time"], 1_700_000_000_000_i64);
        assert_eq!(v["comment"], "hello");
        assert_eq!(v["user"]["id"], "6900000000000000042");
        assert_eq!(v["user"]["unique_id"], "river_otter");
        assert_eq!(v["user"]["follow_role"], "none");
        assert!(v.get("is_history").is_none());
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn gift_and_unknown_json() {
        let ev = Event::Gift(GiftEvent {
            gift: GiftInfo {
                id: 5655,
                name: "Rose".into(),
                diamond_count: 1,
                gift_type: 1,
                ..GiftInfo::default()
            },
            repeat_count: 3,
            repeat_end: true,
            group_id: 1_700_000_000_001,
            diamonds: 3,
            ..GiftEvent::default()
        });
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["type"], "gift");
        assert_eq!(v["gift"]["id"], "5655");
        assert_eq!(v["gift"]["type"], 1);
        assert_eq!(v["gift"]["diamond_count"], 1);
        assert_eq!(v["repeat_count"], 3);
        assert_eq!(v["repeat_end"], true);
        assert_eq!(v["group_id"], "1700000000001");

        let un = Event::Unknown(UnknownEvent {
            meta: EventMeta {
                method: "WebcastFooMessage".into(),
                ..EventMeta::default()
            },
            payload: vec![8, 1, 0xff],
        });
        let v: serde_json::Value = serde_json::to_value(&un).unwrap();
        assert_eq!(v["type"], "unknown");
        assert_eq!(v["method"], "WebcastFooMessage");
        assert_eq!(v["payload"], "CAH/");
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), un);
    }

    #[test]
    fn typed_variant_access() {
        let ev: Event = LikeEvent {
            count: 5,
            total: 10,
            ..LikeEvent::default()
        }
        .into();
        assert_eq!(ev.kind(), EventKind::Like);
        assert_eq!(LikeEvent::from_event_ref(&ev).unwrap().count, 5);
        assert!(ChatEvent::from_event_ref(&ev).is_none());
        let ev = ChatEvent::from_event(ev).unwrap_err();
        assert_eq!(LikeEvent::from_event(ev).unwrap().total, 10);
    }

    #[test]
    fn social_action_from_key() {
        assert_eq!(
            SocialAction::from_display_key("pm_main_follow_message_viewer_2"),
            SocialAction::Follow
        );
        assert_eq!(
            SocialAction::from_display_key("pm_mt_guidance_viewer_7_share"),
            SocialAction::Share
        );
        assert_eq!(SocialAction::from_display_key("x"), SocialAction::Other);
        assert_eq!(FollowRole::from_status(2), FollowRole::Friend);
        assert_eq!(FollowRole::from_status(1), FollowRole::Follower);
        assert_eq!(FollowRole::from_status(0), FollowRole::None);
    }

    #[test]
    fn display_text_renders_its_pieces_into_the_pattern() {
        let text = DisplayText {
            key: "pm_mt_live_gift_platform_announcement".into(),
            pattern: "{0:user} sent {1:gift} to {2:user}, No. {3:string} {4:string}".into(),
            pieces: vec![
                TextPiece::User(Box::new(User {
                    nickname: "River".into(),
                    unique_id: "river_otter".into(),
                    ..User::default()
                })),
                TextPiece::Gift {
                    gift_id: 9101,
                    name: "Lion".into(),
                },
                TextPiece::User(Box::new(User {
                    unique_id: "no_nickname".into(),
                    ..User::default()
                })),
                TextPiece::String("2".into()),
            ],
        };
        // A placeholder without a piece stays as it is.
        assert_eq!(
            text.render(),
            "River sent Lion to no_nickname, No. 2 {4:string}"
        );
        let unnamed_gift = DisplayText {
            pattern: "{0:gift}!".into(),
            pieces: vec![TextPiece::Gift {
                gift_id: 1,
                name: String::new(),
            }],
            ..DisplayText::default()
        };
        assert_eq!(unnamed_gift.render(), "{0:gift}!");
        let broken = DisplayText {
            pattern: "open {0:string and never closed".into(),
            pieces: vec![TextPiece::String("x".into())],
            ..DisplayText::default()
        };
        assert_eq!(broken.render(), "open {0:string and never closed");
        assert!(DisplayText::default().is_empty());
    }

    #[test]
    fn text_pieces_and_new_kinds_have_the_documented_json_shape() {
        let ev = Event::RoomNotify(RoomNotifyEvent {
            meta: EventMeta {
                room_id: 1,
                msg_id: 2,
                create_time: 3,
                method: "WebcastRoomNotifyMessage".into(),
                is_history: false,
            },
            notice: RoomNotice {
                text: DisplayText {
                    key: "k".into(),
                    pattern: "{0:gift}".into(),
                    pieces: vec![
                        TextPiece::Gift {
                            gift_id: 7_400_000_000_000_000_001,
                            name: "Lion".into(),
                        },
                        TextPiece::String("s".into()),
                        TextPiece::Other(15),
                    ],
                },
                notify_type: 3,
                ..RoomNotice::default()
            },
        });
        let v: serde_json::Value = serde_json::to_value(&ev).unwrap();
        assert_eq!(v["type"], "roomNotify");
        // The notice's fields sit beside the common ones.
        assert_eq!(v["notify_type"], 3);
        assert_eq!(v["text"]["key"], "k");
        assert_eq!(
            v["text"]["pieces"][0]["gift"]["gift_id"],
            "7400000000000000001"
        );
        assert_eq!(v["text"]["pieces"][1]["string"], "s");
        assert_eq!(v["text"]["pieces"][2]["other"], 15);
        assert_eq!(serde_json::from_value::<Event>(v).unwrap(), ev);

        let stats = Event::RoomStats(RoomStatsEvent {
            likes: 10,
            viewer_peak: 4,
            ..RoomStatsEvent::default()
        });
        let v: serde_json::Value = serde_json::to_value(&stats).unwrap();
        assert_eq!(v["type"], "roomStats");
        assert_eq!(
            (v["likes"].as_u64(), v["viewer_peak"].as_u64()),
            (Some(10), Some(4))
        );
        assert!(v.get("untracked_events").is_none());
    }
}
