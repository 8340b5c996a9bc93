//! The public event model: one struct per event kind, the shared [`User`], [`GiftInfo`],
//! [`Badge`] and [`Image`] types, and the [`Event`] enum that carries them.
//!
//! # JSON shape
//!
//! Events serialize (serde) to one JSON object whose `type` is the event name users know from
//! the Node library (`chat`, `gift`, `member`, `like`, `social`, `subscribe`, `roomUser`,
//! `questionNew`, `linkMicBattle`, `linkMicArmies`, `emote`, `streamEnd`, others in camelCase,
//! lifecycle as `connected`, `disconnected`, `reconnecting`, `gap`, and a followed room's
//! `roomState`). Every event has `room_id`,
//! `msg_id` (64-bit ids as decimal strings), `create_time` (ms) and `method` (the wire message
//! name). Field names are snake_case. Fields that are empty or unknown are left out.

use serde::{Deserialize, Serialize};

use crate::serde_ids::{base64_bytes, id, id_list, opt_id};

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn is_zero_u32(v: &u32) -> bool {
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

/// A picture: several CDN URLs of the same image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// Every URL TikTok gave, in its order.
    pub url_list: Vec<String>,
    /// TikTok's URI of the picture, when given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uri: String,
    /// Width in pixels, 0 when unknown.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub width: u32,
    /// Height in pixels, 0 when unknown.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub height: u32,
}

impl Image {
    /// The first URL, if any.
    pub fn url(&self) -> Option<&str> {
        self.url_list.first().map(String::as_str)
    }

    /// True when there is no URL at all.
    pub fn is_empty(&self) -> bool {
        self.url_list.is_empty()
    }
}

/// How the user relates to the host.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FollowRole {
    /// Does not follow the host.
    #[default]
    None,
    /// Follows the host.
    Follower,
    /// Follows the host and is followed back.
    Friend,
}

impl FollowRole {
    /// Maps `follow_info.follow_status` (0 none, 1 follower, 2 and up friends).
    pub fn from_status(status: i64) -> Self {
        match status {
            i64::MIN..=0 => FollowRole::None,
            1 => FollowRole::Follower,
            _ => FollowRole::Friend,
        }
    }
}

/// What a badge stands for (`BadgeStruct.scene_type`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BadgeScene {
    /// A scene number this library does not know (see `Badge::scene_id`).
    #[default]
    Other,
    /// Moderator of the room.
    Admin,
    /// First recharge.
    FirstRecharge,
    /// Friends.
    Friends,
    /// Subscriber of the host.
    Subscriber,
    /// An activity badge.
    Activity,
    /// Top gifter rank.
    RankList,
    /// New subscriber.
    NewSubscriber,
    /// Gifter level.
    UserGrade,
    /// State-controlled media.
    StateControlledMedia,
    /// Fan club (team) level.
    Fans,
    /// LIVE pro.
    LivePro,
    /// The host.
    Anchor,
    /// Class rank.
    ClassRank,
    /// Enigma.
    Enigma,
}

impl BadgeScene {
    /// Maps the wire number (protocol.md Appendix B, `BadgeSceneType`).
    pub fn from_id(id: i32) -> Self {
        match id {
            1 => BadgeScene::Admin,
            2 => BadgeScene::FirstRecharge,
            3 => BadgeScene::Friends,
            4 => BadgeScene::Subscriber,
            5 => BadgeScene::Activity,
            6 => BadgeScene::RankList,
            7 => BadgeScene::NewSubscriber,
            8 => BadgeScene::UserGrade,
            9 => BadgeScene::StateControlledMedia,
            10 => BadgeScene::Fans,
            11 => BadgeScene::LivePro,
            12 => BadgeScene::Anchor,
            13 => BadgeScene::ClassRank,
            14 => BadgeScene::Enigma,
            _ => BadgeScene::Other,
        }
    }
}

/// One badge shown next to a user's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Badge {
    /// What the badge stands for.
    pub scene: BadgeScene,
    /// The raw scene number.
    pub scene_id: i32,
    /// The badge's text (text, string or combined badges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The badge's picture (image or combined badges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// The level of levelled badges (gifter level, fan club level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u32>,
}

/// A TikTok user as it appears in events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Numeric user id.
    #[serde(with = "id")]
    pub id: u64,
    /// The handle, the `@name` (`display_id` on the wire).
    pub unique_id: String,
    /// The display name.
    pub nickname: String,
    /// The preferred avatar URL (a 100x100 webp when TikTok offers one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_picture_url: Option<String>,
    /// Every avatar URL TikTok gave (thumb size first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profile_picture_urls: Vec<String>,
    /// The user's `sec_uid`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sec_uid: String,
    /// Relation to the host.
    #[serde(default)]
    pub follow_role: FollowRole,
    /// Followers of this user, when TikTok sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follower_count: Option<u64>,
    /// Accounts this user follows, when TikTok sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following_count: Option<u64>,
    /// Moderator of this room.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_moderator: bool,
    /// Subscriber of the host.
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_subscriber: bool,
    /// Verified account.
    #[serde(default, skip_serializing_if = "is_false")]
    pub verified: bool,
    /// Rank among the room's top gifters (1 = top), from the badges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_gifter_rank: Option<u32>,
    /// Gifter level, from the badges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gifter_level: Option<u32>,
    /// Fan club (team) level, from the badges or the fan club data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_member_level: Option<u32>,
    /// Fan club name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fan_club_name: Option<String>,
    /// Every badge, in TikTok's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub badges: Vec<Badge>,
}

/// The gift a gift event is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftInfo {
    /// Gift id.
    #[serde(with = "id")]
    pub id: u64,
    /// Gift name.
    pub name: String,
    /// Price of one gift in diamonds.
    pub diamond_count: u32,
    /// TikTok's gift type: 1 is a streakable (combo) gift.
    #[serde(rename = "type")]
    pub gift_type: i32,
    /// Picture of the gift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// TikTok's description text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub describe: String,
}

impl GiftInfo {
    /// Streakable gifts (type 1) arrive as a series of events ending with `repeat_end`.
    pub fn is_streakable(&self) -> bool {
        self.gift_type == 1
    }
}

/// An emote (sticker), in a chat or an emote message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Emote {
    /// Emote id.
    pub emote_id: String,
    /// Picture URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Position in the comment where the emote goes (chat emotes only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

/// `chat`: a comment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who wrote it.
    pub user: User,
    /// The comment text.
    pub comment: String,
    /// Language TikTok detected, when given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
    /// Emotes placed inside the comment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emotes: Vec<Emote>,
    /// A user the comment mentions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_user: Option<User>,
}

/// `gift`: a gift, or one step of a gift streak.
///
/// Streaks: only streakable gifts (`gift.type == 1`) streak. While a streak runs, TikTok sends
/// events with a growing `repeat_count` and `repeat_end == false`; the last one has
/// `repeat_end == true` and the final count. Count a gift once: when `streaking` is false.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who sent it.
    pub user: User,
    /// Who received it, in multi-guest rooms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_user: Option<User>,
    /// The gift.
    pub gift: GiftInfo,
    /// How many so far in this streak (1 for a single gift).
    pub repeat_count: u32,
    /// True on the final event of a streak.
    pub repeat_end: bool,
    /// Identifies the streak.
    #[serde(with = "id")]
    pub group_id: u64,
    /// TikTok's combo count.
    #[serde(default)]
    pub combo_count: u32,
    /// True while a streak is still running: this event is not final, do not count it.
    pub streaking: bool,
    /// `repeat_count × gift.diamond_count`.
    pub diamonds: u64,
}

/// What a member message says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MemberAction {
    /// Another action number (see `action_id`).
    #[default]
    Other,
    /// The user joined the room.
    Joined,
    /// The user subscribed.
    Subscribed,
}

/// `member`: a viewer joined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who joined.
    pub user: User,
    /// What happened.
    pub action: MemberAction,
    /// The raw action number (1 joined, 3 subscribed).
    pub action_id: i32,
    /// Current viewer count, when TikTok sent it.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub member_count: u64,
}

/// `like`: likes from one viewer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LikeEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who liked.
    pub user: User,
    /// Likes in this message.
    pub count: u32,
    /// The room's total likes.
    pub total: u64,
}

/// What a social message is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SocialAction {
    /// Neither a follow nor a share.
    #[default]
    Other,
    /// The user followed the host.
    Follow,
    /// The user shared the stream.
    Share,
}

impl SocialAction {
    /// Tells follow from share the way the reference libraries do: by the display text's i18n
    /// key (`pm_main_follow_message_viewer_2`, `pm_mt_guidance_share`…), protocol.md §11.1.
    pub fn from_display_key(key: &str) -> Self {
        if key.contains("follow") {
            SocialAction::Follow
        } else if key.contains("share") {
            SocialAction::Share
        } else {
            SocialAction::Other
        }
    }
}

/// `social`: a follow, a share, or another social action.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocialEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who did it.
    pub user: User,
    /// Follow, share or other.
    pub action: SocialAction,
    /// The display text's i18n key the action was read from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_key: String,
    /// The host's follower count after a follow, when sent.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub follow_count: u64,
    /// Share count, when sent.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub share_count: u32,
    /// Viewers the share brought in (`pm_mt_guidance_viewer_{N}_share`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_joined: Option<u32>,
}

/// `subscribe`: a subscription (`WebcastSubNotifyMessage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The subscriber.
    pub user: User,
    /// Months subscribed.
    pub sub_month: u32,
    /// 0 once, 1 auto-renewing.
    pub subscribe_type: i32,
    /// 0 first subscription, 1 re-subscription.
    pub old_subscribe_status: i32,
    /// `SubscribingStatus` number.
    pub subscribing_status: i32,
}

/// One entry of the top viewers list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopViewer {
    /// The viewer.
    pub user: User,
    /// Coins (diamonds) the viewer gave.
    pub coin_count: u64,
    /// Rank, 1 = top.
    pub rank: u32,
}

/// `roomUser`: viewer count and top viewers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomUserEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Current viewers.
    pub viewer_count: u64,
    /// Cumulative viewers, when sent.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub total_viewers: u64,
    /// Top viewers by coins.
    #[serde(default)]
    pub top_viewers: Vec<TopViewer>,
}

/// `questionNew`: a Q&A question.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionNewEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Question id.
    #[serde(with = "id")]
    pub question_id: u64,
    /// The question text.
    pub content: String,
}

/// A host taking part in a battle.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BattleAnchor {
    /// The host's user id.
    #[serde(with = "id")]
    pub user_id: u64,
    /// The host's handle.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unique_id: String,
    /// The host's display name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nickname: String,
    /// The host's avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_picture_url: Option<String>,
    /// The host's room.
    #[serde(default, with = "opt_id", skip_serializing_if = "Option::is_none")]
    pub room_id: Option<u64>,
}

/// A host's battle result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BattleResult {
    /// The host's user id.
    #[serde(with = "id")]
    pub user_id: u64,
    /// `win`, `lose`, `draw` or `other`.
    pub result: String,
    /// Score.
    pub score: i64,
    /// Diamond score.
    #[serde(default)]
    pub diamond_score: i64,
}

/// `linkMicBattle`: a battle between hosts started, changed or ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicBattleEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Battle id.
    #[serde(with = "id")]
    pub battle_id: u64,
    /// Action name (`invite`, `open`, `finish`, `cut_short`…, or `other`).
    pub action: String,
    /// Raw action number.
    pub action_id: i32,
    /// Battle status number (0 not started, 1 started, 2 finished, 3/4 punishment).
    #[serde(default)]
    pub status: i32,
    /// Battle duration in seconds, when sent.
    #[serde(default)]
    pub duration: u32,
    /// Start time in ms, when sent.
    #[serde(default)]
    pub start_time_ms: i64,
    /// The hosts in the battle.
    #[serde(default)]
    pub anchors: Vec<BattleAnchor>,
    /// Results, once known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<BattleResult>,
}

/// A supporter in a battle army.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArmySupporter {
    /// Supporter's user id.
    #[serde(with = "id")]
    pub user_id: u64,
    /// Supporter's display name.
    #[serde(default)]
    pub nickname: String,
    /// Points given.
    pub score: i64,
    /// Diamonds given.
    #[serde(default)]
    pub diamond_score: i64,
    /// Supporter's avatar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_picture_url: Option<String>,
}

/// One host's army.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BattleArmy {
    /// The host's user id.
    #[serde(with = "id")]
    pub host_user_id: u64,
    /// The host's total score.
    pub host_score: i64,
    /// Supporters and their points.
    pub supporters: Vec<ArmySupporter>,
}

/// `linkMicArmies`: battle score update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicArmiesEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Battle id.
    #[serde(with = "id")]
    pub battle_id: u64,
    /// Why it was sent (1 score update, 2 battle end, …).
    pub trigger_reason: i32,
    /// Each host's army, ordered by host id.
    pub armies: Vec<BattleArmy>,
    /// The gift that caused the update, when sent.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub gift_id: u64,
    /// Its sender.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub from_user_id: u64,
    /// Diamonds of that gift.
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub total_diamond_count: u32,
}

/// `emote`: a subscriber sticker.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmoteEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who sent it.
    pub user: User,
    /// The emotes.
    pub emotes: Vec<Emote>,
}

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

/// `envelope`: a treasure chest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Envelope id.
    pub envelope_id: String,
    /// `EnvelopeBusinessType` number (19 = super fan box).
    pub business_type: i32,
    /// Diamonds in the chest.
    pub diamond_count: u32,
    /// How many people can claim it.
    pub people_count: u32,
    /// Sender's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub send_user_name: String,
    /// Sender's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub send_user_id: String,
    /// 1 new, 2 hide.
    pub display: i32,
}

/// `roomMessage`: a system text shown in the room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomMessageEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The text.
    pub content: String,
}

/// `liveIntro`: the stream's introduction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveIntroEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Intro text.
    pub content: String,
    /// Its language.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub language: String,
}

/// `barrage`: a banner (VIP joins, level-ups, super fans…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BarrageEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// `BarrageMessageBarrageType` number.
    pub msg_type: i32,
    /// The content's i18n key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content_key: String,
    /// The content's display pattern.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// The user it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// `roomPin`: a message was pinned or unpinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomPinEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// 1 pin, 2 unpin.
    pub action: i32,
    /// The pinned message's method.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pinned_method: String,
    /// The pinned chat, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat: Option<Box<ChatEvent>>,
    /// Who pinned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<User>,
    /// For how long, in seconds.
    #[serde(default)]
    pub display_duration: i64,
}

/// One sub-goal of a stream goal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubGoal {
    /// Sub-goal id.
    #[serde(with = "id")]
    pub id: u64,
    /// Progress so far.
    pub progress: i64,
    /// Target.
    pub target: i64,
    /// The gift it counts, when it counts one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gift_name: String,
}

/// `goalUpdate`: a stream goal changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoalUpdateEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Goal id.
    #[serde(with = "id")]
    pub goal_id: u64,
    /// Goal text.
    #[serde(default)]
    pub description: String,
    /// Sub-goals with progress.
    #[serde(default)]
    pub sub_goals: Vec<SubGoal>,
    /// Who contributed, when the update is a contribution.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub contributor_id: u64,
    /// How much.
    #[serde(default)]
    pub contribute_count: i64,
}

/// One option of a poll.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOption {
    /// Option index.
    pub index: i32,
    /// Option text.
    pub text: String,
    /// Votes.
    pub votes: i64,
}

/// `pollMessage`: a poll started, changed or ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Poll id.
    #[serde(with = "id")]
    pub poll_id: u64,
    /// `start`, `update`, `end` or `other`.
    pub phase: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Options and votes.
    #[serde(default)]
    pub options: Vec<PollOption>,
}

/// One rank of a rank update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankEntry {
    /// `ProfitRankType` number.
    pub rank_type: i32,
    /// The host's rank.
    pub own_rank: i64,
    /// Score.
    #[serde(default)]
    pub current_score: i64,
    /// Display text pattern.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// `rankUpdate`: the host's ranking changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankUpdateEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The ranks.
    pub updates: Vec<RankEntry>,
}

/// One caption line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptionLine {
    /// Language.
    pub language: String,
    /// Text.
    pub text: String,
}

/// `captionMessage`: live captions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaptionEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Caption start, ms.
    pub timestamp_ms: i64,
    /// Caption duration, ms.
    pub duration_ms: i64,
    /// The caption in one or more languages.
    pub lines: Vec<CaptionLine>,
    /// True once the sentence is final.
    pub definite: bool,
}

/// `imDelete`: messages or users' messages were deleted by moderation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImDeleteEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Deleted message ids.
    #[serde(with = "id_list")]
    pub delete_msg_ids: Vec<u64>,
    /// Users whose messages were deleted.
    #[serde(with = "id_list")]
    pub delete_user_ids: Vec<u64>,
}

/// `linkMicMethod`: co-host (link mic) signalling.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicMethodEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Message type number.
    pub message_type: i32,
    /// User concerned.
    #[serde(with = "id")]
    pub user_id: u64,
    /// Channel id.
    #[serde(with = "id")]
    pub channel_id: u64,
    /// Fan tickets.
    #[serde(default)]
    pub fan_ticket: i64,
    /// Total link-mic fan tickets.
    #[serde(default)]
    pub total_linkmic_fan_ticket: i64,
}

/// `linkMicFanTicketMethod`: co-host fan ticket update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicFanTicketEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
}

/// `unauthorizedMember`: a viewer who is not logged in joined.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnauthorizedMemberEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Action number.
    pub action: i32,
    /// The shown nickname.
    #[serde(default)]
    pub nickname: String,
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

/// `unknown`: a message this library has no type for; the raw bytes are kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownEvent {
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The message's protobuf bytes, base64 in JSON.
    #[serde(with = "base64_bytes")]
    pub payload: Vec<u8>,
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
}
