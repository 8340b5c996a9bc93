//! Room stats, ranks and notices: viewer counts, system texts, the intro, ranks and rank
//! rewards, polls, captions, and the many notices, banners, toasts and prompts TikTok shows in
//! a room, plus the room's games (pictionary) and stickers.

use serde::{Deserialize, Serialize};

use super::{DisplayText, EventMeta, Image, User, is_false, is_zero_i32, is_zero_i64, is_zero_u64};
use crate::serde_ids::id;

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
    /// The highest `viewer_count` so far this session, this message included. Filled by the
    /// pipeline's aggregates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub viewer_peak: Option<u64>,
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

/// `system`: a system message (`WebcastSystemMessage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The text.
    #[serde(default)]
    pub message: String,
}

/// A notice TikTok shows in a room (`WebcastRoomNotifyMessage`), on its own (`roomNotify`) or
/// inside gift broadcasts, marquee announcements and rank rewards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomNotice {
    /// What it says (the notice's display text).
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub text: DisplayText,
    /// Plain content, when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// The user it is about, when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// A link to open (a TikTok app link).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub schema: String,
    /// The notice's type number.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub notify_type: i64,
    /// The notice's class number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub notify_class: i32,
    /// Where it comes from (`gift_broadcast`, `weekly_rank`, `hourly_rank`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The user who caused it, when sent.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub from_user_id: u64,
    /// The host it is addressed to, when sent.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub to_anchor_id: u64,
}

/// `roomNotify`: a notice shown in the room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomNotifyEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The notice.
    #[serde(flatten)]
    pub notice: RoomNotice,
}

/// `rankText`: a rank announcement, e.g. "{0:user} just became the No. {1:string} viewer!".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankTextEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// `RankTextMessageRankTestMessageScene` number (1 a top viewer changed).
    #[serde(default)]
    pub scene: i32,
    /// The rank before the update.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub owner_idx_before_update: i64,
    /// The rank after the update.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub owner_idx_after_update: i64,
    /// The text shown to the user who got the rank.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub self_text: DisplayText,
    /// The text shown to everyone else.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub other_text: DisplayText,
    /// The user the announcement is about.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub cur_user_id: u64,
    /// Further text, when sent.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub content: DisplayText,
    /// `ProfitRankType` number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub rank_type: i32,
}

/// An avatar border given as a rank reward.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarBorder {
    /// Its picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    /// Its level.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub level: i64,
    /// What it was given for (`hourly_rank`, `weekly_rank`, `daily_rank`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// One winner of an hourly ranking.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RankWinner {
    /// The winner's user id.
    #[serde(default, with = "id")]
    pub user_id: u64,
    /// The reward's asset id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub asset_id: u64,
    /// The announcement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<RoomNotice>,
    /// The avatar border won.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub border: Option<AvatarBorder>,
}

/// `hourlyRank`: hourly ranking rewards (`WebcastHourlyRankRewardMessage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourlyRankEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The winners.
    #[serde(default)]
    pub winners: Vec<RankWinner>,
}

/// `weeklyRankReward`: a daily or weekly ranking reward (`WebcastWeeklyRankRewardMessage`, no
/// Node schema; its common header is field 3, not 1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyRankRewardEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The avatar border given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub border: Option<AvatarBorder>,
    /// The announcement, e.g. "{0:string} just reached No.{1:string} in the Daily Ranking.".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<RoomNotice>,
}

/// `notice`: a notice from TikTok, often about a rule or a violation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Plain content.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// The notice's type number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub notice_type: i32,
    /// Style name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub style: String,
    /// Title.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub title: DisplayText,
    /// The violation's reason.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub violation_reason: DisplayText,
    /// The text shown.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub display_text: DisplayText,
    /// Title of the tips.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub tips_title: DisplayText,
    /// Link to the tips.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tips_url: String,
    /// Notice title.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub notice_title: DisplayText,
    /// Notice content.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub notice_content: DisplayText,
    /// Where it is shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
}

/// `toast`: a short pop-up text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToastEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The text (the message's display text).
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub text: DisplayText,
    /// How long it shows, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub display_duration_ms: i64,
    /// Delay before it shows, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub delay_display_duration_ms: i64,
    /// Where it is shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
}

/// `bottomMessage`: a banner at the bottom of the stream ("This LIVE is pre-recorded.", health
/// warnings…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BottomMessageEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// What it says (the message's display text).
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub text: DisplayText,
    /// Plain content, when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// 0 hover, 1 plug.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub show_type: i32,
    /// How long it shows, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub duration: i64,
    /// `BizType` number (6 perception centre…).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub biz_type: i32,
    /// The user whose violation it is about.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub violation_user_id: u64,
    /// The sanction, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub punish: Option<super::PunishInfo>,
    /// Link to details.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail_url: String,
}

/// `capsule`: a capsule-shaped prompt (a subscription goal, a guide…) with a button.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapsuleEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Its icon.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    /// What it says.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub description: DisplayText,
    /// The button's text.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub button_text: DisplayText,
    /// The link the button opens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub schema: String,
    /// The capsule's type number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub capsule_type: i32,
    /// Where it is shown (`notice_viewer_new_goal`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
    /// Finer scene.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sub_scene: String,
}

/// `inRoomBanner`: a banner's data; TikTok sends it as a JSON text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InRoomBannerEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The banner's data: a JSON object, as TikTok sent it (as text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub json: String,
}

/// `marqueeAnnouncement`: scrolling announcements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarqueeAnnouncementEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Where they are shown (`start_room_event`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
    /// The announcements.
    #[serde(default)]
    pub notices: Vec<RoomNotice>,
}

/// `liveGameIntro`: the intro of the game being streamed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveGameIntroEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The intro.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub content: DisplayText,
    /// True when the game has a ranking.
    #[serde(default, skip_serializing_if = "is_false")]
    pub has_rank_info: bool,
}

/// `gameRankNotify`: a game ranking changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameRankNotifyEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// 0 in or out of the ranking, 1 rank changed, 2 encouragement for the host.
    #[serde(default)]
    pub msg_type: i32,
    /// What it says.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub text: DisplayText,
}

/// `guide`: a hint shown to viewers (e.g. which gift to send).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuideEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The guide's type number.
    #[serde(default)]
    pub guide_type: i64,
    /// The gift it is about, if any.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub gift_id: u64,
    /// What it says.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How long it shows, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub duration: i64,
    /// Display style number.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub display_style: i64,
    /// Where it is shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
}

/// `speaker`: TikTok's speaker signal; the message has nothing but its header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpeakerEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
}

/// `hashtag`: the stream's topic (`WebcastHashtagMessage`, no Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HashtagEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The topic's id (5 gaming, 8 outdoors…).
    #[serde(default, with = "id")]
    pub hashtag_id: u64,
    /// The topic's title, when the message body has it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The topic's name as shown (the message's display text: `pm_mt_live_topic5`, "Gaming").
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub text: DisplayText,
    /// The topic's picture.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
}

/// `subTimerSticker`: a subscriber timer sticker counts down (`WebcastSubTimerStickerMessage`,
/// no Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubTimerStickerEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The sticker's id.
    #[serde(default, with = "id")]
    pub sticker_id: u64,
    /// The sticker's text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// The timer's full length, s.
    #[serde(default)]
    pub duration_secs: i64,
    /// Time left, s.
    #[serde(default)]
    pub remaining_secs: i64,
    /// When this update was made, Unix s.
    #[serde(default)]
    pub update_time: i64,
}

/// One gift of a viewer-picks round.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerPick {
    /// The gift.
    #[serde(default, with = "id")]
    pub gift_id: u64,
    /// What sending it asks for (the host's text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Its price, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub gift_price: i64,
    /// The pick's id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub pick_id: u64,
    /// Its score so far.
    #[serde(default)]
    pub score: i64,
}

/// `viewerPicksUpdate`: the viewer-picks (gift wishes) board changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewerPicksUpdateEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The update's type number.
    #[serde(default)]
    pub update_type: i32,
    /// The board's id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub picks_id: u64,
    /// Its status number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub status: i32,
    /// A round's length, s.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub round_duration_secs: i64,
    /// Round start, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub start_time_ms: i64,
    /// Round end, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub end_time_ms: i64,
    /// The gifts and their scores.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub picks: Vec<ViewerPick>,
}

/// `pictionaryStart`: a round of the drawing game started (`WebcastPictionaryStartMessage`, no
/// Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictionaryStartEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The round (the id later updates and the end carry).
    #[serde(default, with = "id")]
    pub round_id: u64,
    /// The game the round belongs to (the id its exit carries).
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub game_id: u64,
    /// Round start, Unix s.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub start_time: i64,
    /// Round end, Unix s.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub end_time: i64,
}

/// `pictionaryUpdate`: a drawing-game round changed (`WebcastPictionaryUpdateMessage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictionaryUpdateEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The round.
    #[serde(default, with = "id")]
    pub round_id: u64,
}

/// `pictionaryEnd`: a drawing-game round ended (`WebcastPictionaryEndMessage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictionaryEndEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The round.
    #[serde(default, with = "id")]
    pub round_id: u64,
    /// The round's word.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub word: String,
}

/// `pictionaryExit`: the drawing game was closed (`WebcastPictionaryExitMessage`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PictionaryExitEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The game.
    #[serde(default, with = "id")]
    pub game_id: u64,
}
