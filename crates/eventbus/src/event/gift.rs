//! Gifts, goals and treasure: gifts and their streaks, treasure chests, stream goals, gift
//! broadcasts and the gift panel's own signals, gift collections and donation stickers.

use serde::{Deserialize, Serialize};

use super::room::RoomNotice;
use super::{EventMeta, GiftInfo, Image, User, is_zero_i32, is_zero_i64, is_zero_u64};
use crate::serde_ids::{id, id_list};

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

/// `giftBroadcast`: a platform-wide announcement of a big gift in some room.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftBroadcastEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The sender's user id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub from_user_id: u64,
    /// The picture shown beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<Image>,
    /// The announcement (its text names sender, gift and receiver).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<RoomNotice>,
}

/// `giftPrompt`: a prompt about the viewer's own gifting (spending limits, an order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftPromptEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Body text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body: String,
    /// Days gifting is blocked, when it is.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub block_num_days: i32,
    /// The order concerned.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub order_id: String,
    /// The order's time, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub order_timestamp: i64,
    /// A link to open.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pop_up_schema: String,
}

/// `giftPanelUpdate`: the gift panel's data changed (gallery, goals, room gifts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftPanelUpdateEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The room whose panel changed, as sent in the message body.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub panel_room_id: u64,
    /// When, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub timestamp: i64,
}

/// Gifts hidden from one receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftReceiverRestriction {
    /// The receiver.
    #[serde(default, with = "id")]
    pub user_id: u64,
    /// The gifts hidden for them.
    #[serde(default, with = "id_list", skip_serializing_if = "Vec::is_empty")]
    pub hidden_gift_ids: Vec<u64>,
}

/// `giftDynamicRestriction`: gifts hidden from the panel, per scene and per receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftDynamicRestrictionEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Gifts hidden in a normal stream.
    #[serde(default, with = "id_list", skip_serializing_if = "Vec::is_empty")]
    pub normal_hidden_gift_ids: Vec<u64>,
    /// Gifts hidden during a match.
    #[serde(default, with = "id_list", skip_serializing_if = "Vec::is_empty")]
    pub match_hidden_gift_ids: Vec<u64>,
    /// Gifts hidden while co-hosting.
    #[serde(default, with = "id_list", skip_serializing_if = "Vec::is_empty")]
    pub cohost_hidden_gift_ids: Vec<u64>,
    /// Gifts hidden with guests on screen.
    #[serde(default, with = "id_list", skip_serializing_if = "Vec::is_empty")]
    pub multiguest_hidden_gift_ids: Vec<u64>,
    /// Gifts hidden for particular receivers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub receivers: Vec<GiftReceiverRestriction>,
}

/// `giftCollectionUpdate`: progress of a gift collection changed
/// (`WebcastGiftCollectionUpdateMessage`, no Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiftCollectionUpdateEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The gift the collection is about.
    #[serde(default)]
    pub gift: GiftInfo,
}

/// `donationStickerModify`: the host's donation sticker (a charity campaign) was set or changed
/// (`WebcastDonationStickerModifyMethod`, no Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DonationStickerEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The donation campaign's id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub campaign_id: u64,
    /// The organisation's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organisation: String,
    /// The organisation's description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The organisation's web page.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// Where to donate.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub donate_url: String,
    /// The organisation's logo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<Image>,
    /// The organisation's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub organisation_id: String,
}
