//! Battles and co-hosting (link mic): battles, their scores, tasks, cards and punishments, and
//! the co-host and multi-guest signalling (link, link layer, link state, layouts).

use serde::{Deserialize, Serialize};

use super::{DisplayText, EventMeta, User, is_zero_i32, is_zero_i64, is_zero_u32, is_zero_u64};
use crate::serde_ids::{id, opt_id};

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

/// `linkMicBattlePunishFinish`: a battle's punishment time ended.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicBattlePunishFinishEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Battle id.
    #[serde(default, with = "id")]
    pub battle_id: u64,
    /// The co-host channel.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub channel_id: u64,
    /// The user who ended it.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub operator_user_id: u64,
    /// `time_up`, `cut_short` or `other`.
    #[serde(default)]
    pub reason: String,
    /// The raw reason number (0 time up, 1 cut short).
    #[serde(default)]
    pub reason_id: i32,
    /// Battle status number from the battle's settings (4 punishment finished).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub status: i32,
}

/// `linkMicBattleTask`: a battle task (a bonus challenge) started, progressed, settled or paid
/// its reward.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicBattleTaskEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Battle id, when sent.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub battle_id: u64,
    /// `start`, `update`, `settle`, `reward` or `other`.
    #[serde(default)]
    pub task: String,
    /// The raw `BattleTaskMessageType` number.
    #[serde(default)]
    pub task_id: i32,
    /// Start: the target to reach.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_target: Option<i64>,
    /// Start: the time to reach it, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_duration_secs: Option<i64>,
    /// Start: the reward's multiplier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_multiple: Option<i32>,
    /// Start: how long the reward lasts, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_duration_secs: Option<i64>,
    /// Update: progress so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<i64>,
    /// Update: the user whose gift made the progress.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub from_user_id: u64,
    /// Update: the prompt's i18n key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prompt_key: String,
    /// Settle: `succeeded`, `failed`, `both_succeeded` or `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// Reward: whether the reward was paid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reward_succeeded: Option<bool>,
}

/// `linkMicBattleItemCard`: a battle card was earned or used (critical strike, smoke, extra
/// time, boosting glove…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicBattleItemCardEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Battle id.
    #[serde(default, with = "id")]
    pub battle_id: u64,
    /// What happened: `card_obtain_guide`, `use_critical_strike_card`, `use_smoke_card`,
    /// `award_card_notice`, `use_extra_time_card`, `use_special_effect_card`,
    /// `use_potion_card`, `use_wave_card`, `special_effect_notice`, `use_top2_card`,
    /// `use_top3_card`, `use_vault_glove_card` or `other`.
    #[serde(default)]
    pub action: String,
    /// The raw `BattleCardMsgType` number.
    #[serde(default)]
    pub action_id: i32,
    /// The host a card was used for.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub anchor_id: u64,
    /// What is shown, e.g. "{0:user} sent 1 boosting glove".
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub text: DisplayText,
    /// Who was awarded a card (award notices).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub awarded: Vec<BattleAnchor>,
    /// Special effect notices: the score.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub effect_score: i64,
    /// Special effect notices: the sender.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub from_user_id: u64,
    /// Special effect notices: the host affected.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub to_anchor_id: u64,
}

/// `linkMicBattleNotice`: a notice about the match, e.g. which gift counts
/// (`WebcastLinkmicBattleNoticeMessage`, no Node schema).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicBattleNoticeEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// Which content the notice has: 6 `content`, 4 `text`, `button_text` and `url`.
    #[serde(default)]
    pub notice_type: i32,
    /// The notice (type 6), e.g. "Only the number of specific Gift, {0:string}, determines the
    /// winner.".
    #[serde(default, skip_serializing_if = "DisplayText::is_empty")]
    pub content: DisplayText,
    /// The notice's text (type 4).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Its button's text (type 4).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub button_text: String,
    /// The link the button opens (type 4).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
}

/// A user in a co-host or guest list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkUser {
    /// The user.
    #[serde(default)]
    pub user: User,
    /// Their link-mic id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub linkmic_id: String,
    /// Link type number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub link_type: i32,
    /// Role number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub role_type: i32,
}

/// `linkMessage`: co-host and multi-guest signalling (invites, replies, lists, leaving…).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMessageEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The message's type number (which content it carries).
    #[serde(default)]
    pub message_type: i32,
    /// The link's id.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub linker_id: u64,
    /// Scene number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub scene: i32,
    /// Invite, reply, cancel or kick-out: the user who acted.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub from_user_id: u64,
    /// Invite or reply: the acting user's room.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub from_room_id: u64,
    /// Invite or reply: the acting user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_user: Option<User>,
    /// Reply or cancel: the other user.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub to_user_id: u64,
    /// Reply: the answer's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_status: Option<i32>,
    /// Leave: the user who left.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub leave_user_id: u64,
    /// Kick-out: the reason's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kickout_reason: Option<i32>,
    /// List change: the users linked now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_users: Vec<LinkUser>,
    /// List change: the users who applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied_users: Vec<LinkUser>,
    /// List change: the users connecting.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connecting_users: Vec<LinkUser>,
}

/// A participant of a link channel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkPlayer {
    /// Their user id.
    #[serde(default, with = "id")]
    pub user_id: u64,
    /// Their room.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub room_id: u64,
    /// Their link-mic id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub linkmic_id: String,
    /// 1 guest, 2 host.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub user_type: i32,
}

/// `linkLayer`: the link channel's membership changed (created, invite, apply, reply, kick-out,
/// leave, finish, list change).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkLayerEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// `LinkLayerMessageType` number: 1 create, 2 invite, 3 apply, 4 permit, 5 reply,
    /// 6 kick out, 7/8 cancel apply/invite, 9 leave, 10 finish, 11 list change, 12+ groups.
    #[serde(default)]
    pub message_type: i32,
    /// The channel.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub channel_id: u64,
    /// 2 co-host, 4 multi-guest.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub scene: i32,
    /// Where the change comes from.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The participant the change is about: the owner (create, finish), the invitor, the
    /// applier, the invitee who replied, the one kicked out, the one who left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub player: Option<LinkPlayer>,
    /// Invite: who was invited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitee: Option<LinkPlayer>,
    /// Reply: 1 agreed, 2 rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_status: Option<i32>,
    /// Kick-out, leave or finish: the reason's number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<i64>,
    /// List change: linked now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked: Vec<LinkPlayer>,
    /// List change: applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<LinkPlayer>,
    /// List change: invited.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invited: Vec<LinkPlayer>,
    /// List change: ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ready: Vec<LinkPlayer>,
}

/// `linkState`: the state of a link channel's participants (layout, mute, connection).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStateEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The channel.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub channel_id: u64,
    /// 2 co-host, 4 multi-guest.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub scene: i32,
    /// State version.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub version: i64,
    /// `StateType` number: what changed (1 layout, 2 online state, 3 audio, 4 video…).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub state_type: i32,
    /// The layout's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub layout_id: String,
    /// The layout's key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub layout_key: String,
    /// The participants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<LinkPlayer>,
}

/// `linkMicLayoutState`: the co-host layout changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMicLayoutStateEvent {
    /// Metadata every event has.
    #[serde(flatten)]
    pub meta: EventMeta,
    /// The channel.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub channel_id: u64,
    /// Scene number.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub scene: i32,
    /// Layout version.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub version: i64,
}
