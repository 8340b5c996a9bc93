//! User and shared shapes: [`User`] and its [`Badge`]s, [`GiftInfo`], [`Image`], [`Emote`],
//! the [`DisplayText`] TikTok shows in notices, and the [`PunishInfo`] of moderation notices.

use serde::{Deserialize, Serialize};

use super::{is_false, is_zero_i32, is_zero_i64, is_zero_u32, is_zero_u64};
use crate::serde_ids::id;

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

/// A text TikTok shows, as it was sent: an i18n key, a pattern with numbered placeholders
/// (`{0:user} sent {1:gift} to {2:user}`), and the pieces that fill the placeholders, in order.
/// [`DisplayText::render`] fills them in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayText {
    /// TikTok's i18n key (`pm_mt_topviewer_comment`…), when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// The pattern in the viewer's language, with placeholders `{N:type}`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub pattern: String,
    /// What fills placeholder `N`: piece `N`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pieces: Vec<TextPiece>,
}

/// What fills one placeholder of a [`DisplayText`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TextPiece {
    /// Plain text.
    String(String),
    /// A user (shown by nickname).
    User(Box<User>),
    /// A gift.
    Gift {
        /// The gift's id.
        #[serde(with = "id")]
        gift_id: u64,
        /// The gift's name, when sent.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        name: String,
    },
    /// A piece of another kind (its wire type number); nothing to show.
    Other(i32),
}

impl DisplayText {
    /// True when there is neither a key, a pattern nor a piece.
    pub fn is_empty(&self) -> bool {
        self.key.is_empty() && self.pattern.is_empty() && self.pieces.is_empty()
    }

    /// The pattern with each placeholder `{N}` or `{N:type}` replaced by piece `N` (a user by
    /// nickname, or handle when the nickname is empty; a gift by name). A placeholder without a
    /// piece to fill it is kept as it is.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.pattern.len());
        let mut rest = self.pattern.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open..];
            let Some(close) = after.find('}') else {
                // An unclosed brace is text.
                out.push_str(after);
                return out;
            };
            let inner = &after[1..close];
            let index = inner
                .split(':')
                .next()
                .and_then(|n| n.parse::<usize>().ok());
            match index
                .and_then(|i| self.pieces.get(i))
                .and_then(TextPiece::shown)
            {
                Some(text) => out.push_str(text),
                None => out.push_str(&after[..=close]),
            }
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        out
    }
}

impl TextPiece {
    /// What this piece shows, if anything.
    fn shown(&self) -> Option<&str> {
        match self {
            TextPiece::String(s) => Some(s),
            TextPiece::User(u) if !u.nickname.is_empty() => Some(&u.nickname),
            TextPiece::User(u) => Some(&u.unique_id),
            TextPiece::Gift { name, .. } if !name.is_empty() => Some(name),
            TextPiece::Gift { .. } | TextPiece::Other(_) => None,
        }
    }
}

/// A sanction TikTok reports in a moderation notice (`PunishEventInfo`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PunishInfo {
    /// The sanction's kind as text (`muting_cancel`, `all_nr`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub punish_type: String,
    /// The reason as text (`CREDIT_MUTE`…).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The sanction's id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub punish_id: String,
    /// The sanctioned user.
    #[serde(default, with = "id", skip_serializing_if = "is_zero_u64")]
    pub violation_user_id: u64,
    /// `PunishTypeId` number (9 co-host ban, 59 voice chat ban, 70 viewer limit…).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub punish_type_id: i32,
    /// Duration, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub duration: i64,
    /// End time, as sent.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub end_time: i64,
    /// The reason to show, when sent.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub show_reason: String,
}
