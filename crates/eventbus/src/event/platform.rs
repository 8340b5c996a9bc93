//! Platform notices: moderation and safety (perception, access checks, room verification,
//! sanctions), TikTok's own diagnostics, game partnerships, shopping and boosts.

use serde::{Deserialize, Serialize};

use super::{DisplayText, EventMeta, PunishInfo, is_false, is_zero_i32, is_zero_i64, is_zero_u64};
use crate::serde_ids::id;

/// `accessControl`: the viewer must solve a captcha.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessControlEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The captcha's record id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub captcha_record_id: u64,
    /// Time allowed to answer, s.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub verify_duration_secs: i64,
}

/// `accessRecall`: an access (a feature, a right) was withdrawn or given back.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRecallEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Status number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub status: i32,
    /// Duration, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub duration: i64,
    /// End time, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub end_time: i64,
    /// What it is about (`CONTENT_CLASSIFICATION`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub scene: String,
    /// The notice's title.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub notice: DisplayText,
    /// The notice's text.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub content: DisplayText,
    /// The sanction, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub punish: Option<PunishInfo>,
}

/// `perception`: a moderation dialog or banner (a mute lifted, a warning…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerceptionEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The dialog's title.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub title: DisplayText,
    /// The dialog's subtitle.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub sub_title: DisplayText,
    /// The dialog's icon number (1 warning, 6 mute…).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub icon_type: i32,
    /// The user it is about.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub target_user_id: u64,
    /// The sanction, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub punish: Option<PunishInfo>,
    /// End time, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub end_time: i64,
    /// True when a violation warning is shown.
    #[serde(default, skip_serializing_if = "is_false")]
    pub show_violation_warning: bool,
    /// A toast text.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub toast: DisplayText,
    /// A floating text.
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub float_text: DisplayText,
}

/// `roomVerify`: the room is being verified (and may be closed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomVerifyEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Action number.
    #[serde(default)]
    pub action: i32,
    /// Text, when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// Notice type number.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub notice_type: i64,
    /// True when the room is closed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub close_room: bool,
}

/// `msgDetect`: TikTok probing its own message delivery (timings of a test message).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgDetectEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Detection type number.
    #[serde(default)]
    pub detect_type: i32,
    /// What triggered it, as a number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub trigger_by: i32,
    /// The region it was sent from (`US`, `EG`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from_region: String,
    /// When the probe started, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub client_start_ms: i64,
    /// When TikTok's API received it, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub api_recv_time_ms: i64,
    /// When TikTok's API handed it to the push service, ms.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub api_send_to_goim_ms: i64,
}

/// `partnershipPunish`: a game-partnership sanction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnershipPunishEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The sanction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub punish: Option<PunishInfo>,
}

/// `partnershipDropsUpdate`: a game-partnership drop (a reward campaign) was shown, updated or
/// closed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnershipDropsUpdateEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// 0 show, 1 update, 2 close.
    #[serde(default)]
    pub change_mode: i32,
    /// The drop's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub drops_id: String,
    /// The task's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub task_id: String,
    /// The event's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub event_id: String,
    /// The host.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub anchor_id: u64,
}

/// A game task that went offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineGame {
    /// The task's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub task_id: String,
    /// The game's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub game_id: String,
    /// Toast title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub toast_title: String,
    /// Toast text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub toast_text: String,
    /// 0 task, 1 event, 2 drops.
    #[serde(default)]
    pub offline_type: i32,
    /// 0 partnership, 1 publisher, 2 event, 3 organisation.
    #[serde(default)]
    pub task_type: i32,
}

/// `partnershipGameOffline`: game-partnership tasks went offline.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartnershipGameOfflineEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The tasks.
    #[serde(default)]
    pub games: Vec<OfflineGame>,
}

/// A product shown in a shopping stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopProduct {
    /// The product's id.
    #[serde(default, with = "id")]
    pub product_id: u64,
    /// Its title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Its price, as shown.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub price: String,
    /// Its picture.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_url: String,
    /// Where it opens.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub open_url: String,
}

/// `oecLiveShopping`: the stream's shop changed (product count, a product popped up).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OecLiveShoppingEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Action number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub action_type: i32,
    /// Products in the stream's shop, when sent.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub product_count: i32,
    /// The product popped up, when one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ShopProduct>,
    /// Card type number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub card_type: i32,
}

/// One boost card.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoostCard {
    /// The card's id.
    #[serde(default, with = "id")]
    pub card_id: u64,
    /// Where the task comes from, as a number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub task_source: i32,
    /// The task's id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub task_id: u64,
}

/// `boostCard`: boost cards (promotion of the stream) changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoostCardEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The cards.
    #[serde(default)]
    pub cards: Vec<BoostCard>,
}
