//! Chat, social and Q&A: comments, emotes, joins, likes, follows and shares, subscriptions,
//! questions, moderation deletions, banners and pinned messages.

use serde::{Deserialize, Serialize};

use super::{
    DisplayText, Emote, EventMeta, User, is_zero_i32, is_zero_i64, is_zero_u32, is_zero_u64,
};
use crate::serde_ids::{id, id_list};

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
    /// The room's total likes as the server that sent this message saw it. TikTok's totals
    /// arrive stale and out of order from different servers, so this can go backwards; see
    /// `room_total`.
    pub total: u64,
    /// Likes from this user so far this session, this message included: the sum of their like
    /// counts, so it only grows. Filled by the pipeline's aggregates (`None` without them, or
    /// for a user past their tracking limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_total: Option<u64>,
    /// The room's like total, never decreasing: the highest `total` seen so far this session.
    /// Filled by the pipeline's aggregates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_total: Option<u64>,
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

/// `questionSelected`: the host picked a Q&A question to answer (`WebcastQuestionSelectedMessage`,
/// no Node schema; its question has the layout of `questionNew`'s).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSelectedEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Who asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// Question id.
    #[serde(default, with = "id")]
    pub question_id: u64,
    /// The question text.
    #[serde(default)]
    pub content: String,
}

/// `questionDelete`: a Q&A question was deleted (`WebcastQuestionDeleteMessage`, no Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionDeleteEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The deleted question's id.
    #[serde(default, with = "id")]
    pub question_id: u64,
}

/// `questionSlideDown`: a Q&A question was put away (`WebcastQuestionSlideDownMessage`, no Node
/// schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionSlideDownEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The question's id.
    #[serde(default, with = "id")]
    pub question_id: u64,
}

/// `subscriptionGuide`: a prompt to subscribe, e.g. "The host set a subscription goal."
/// (`WebcastSubscriptionGuideMessage`, no Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionGuideEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The prompt (its pieces name the host).
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub content: DisplayText,
    /// The button's text ("Support").
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub button_text: DisplayText,
    /// The link the button opens (a TikTok app link).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub schema: String,
    /// Where it is shown (`notice_viewer_new_goal`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
}

/// A subscription goal shown on a pinned card.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubGoalCard {
    /// The goal's id.
    #[serde(default, with = "id")]
    pub goal_id: u64,
    /// The goal's text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Subscriptions wanted.
    #[serde(default)]
    pub target: i64,
    /// Subscriptions so far.
    #[serde(default)]
    pub progress: i64,
}

/// `subPinEvent`: a subscriber card (a perk or a subscription goal) was pinned or unpinned.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubPinEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// 1 pin, 2 unpin.
    #[serde(default)]
    pub action: i32,
    /// The card's id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub card_id: u64,
    /// `PinCardType` number (1 custom perk, 2 subscription goal, …).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub card_type: i32,
    /// The card's title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The card's text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The goal, for a subscription goal card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<SubGoalCard>,
    /// Who pinned it.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub operator_user_id: u64,
    /// How long the card stays, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub time_to_live: i64,
}
