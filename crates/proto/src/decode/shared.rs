//! Conversions shared by every family: the common header, users and badges, pictures,
//! display texts and sanctions.

use ttlive_eventbus as ev;

use crate::webcast as pb;

pub(super) fn meta(common: Option<&pb::CommonMessageData>, method: &str) -> ev::EventMeta {
    match common {
        Some(c) => ev::EventMeta {
            room_id: c.room_id as u64,
            msg_id: c.msg_id as u64,
            create_time: c.create_time,
            method: method.to_owned(),
            is_history: false,
        },
        None => ev::EventMeta {
            method: method.to_owned(),
            ..ev::EventMeta::default()
        },
    }
}

pub(super) fn display_key(common: Option<&pb::CommonMessageData>) -> &str {
    common
        .and_then(|c| c.display_text.as_ref())
        .map(|t| t.key.as_str())
        .unwrap_or("")
}

pub(super) fn first_url(img: Option<&pb::ImageModel>) -> Option<String> {
    img.and_then(|i| i.url_list.first()).cloned()
}

/// Picks the avatar URL people want: a 100x100 webp, then a 100x100 jpeg, then any URL that is
/// not a `shrink` variant, then the first (the preference order Node 1.x used).
pub(super) fn preferred_avatar(urls: &[String]) -> Option<String> {
    urls.iter()
        .find(|u| u.contains("100x100") && u.contains(".webp"))
        .or_else(|| {
            urls.iter()
                .find(|u| u.contains("100x100") && u.contains(".jpeg"))
        })
        .or_else(|| urls.iter().find(|u| !u.contains("shrink")))
        .or_else(|| urls.first())
        .cloned()
}

/// The number following `prefix` in `s`, if any (`grade_badge_icon_lite_lv12_v1` → 12).
pub(super) fn number_after(s: &str, prefix: &str) -> Option<u32> {
    let start = s.find(prefix)? + prefix.len();
    let digits: &str = &s[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

pub(super) fn badge(b: pb::BadgeStruct) -> ev::Badge {
    // Takes the wire badge by value: its strings move into the event instead of being copied.
    let pb::BadgeStruct {
        text,
        str,
        mut combine,
        image,
        privilege_log_extra,
        scene_type,
        ..
    } = b;
    let text = text
        .map(|t| {
            if t.default_pattern.is_empty() {
                t.key
            } else {
                t.default_pattern
            }
        })
        .or_else(|| str.map(|s| s.str))
        .or_else(|| combine.as_mut().map(|c| std::mem::take(&mut c.str)))
        .filter(|s| !s.is_empty());
    let image_url = image
        .as_ref()
        .and_then(|i| first_url(i.image.as_ref()))
        .or_else(|| combine.as_ref().and_then(|c| first_url(c.icon.as_ref())));
    let level = privilege_log_extra
        .as_ref()
        .and_then(|p| p.level.trim().parse::<u32>().ok())
        .filter(|l| *l > 0);
    ev::Badge {
        scene: ev::BadgeScene::from_id(scene_type),
        scene_id: scene_type,
        text,
        image_url,
        level,
    }
}

/// Converts a wire user. Moderator, subscriber, gifter and fan-club levels are read the way the
/// reference libraries read them (protocol.md §11.2 "Heuristics used by clients").
pub fn user(mut u: pb::User) -> ev::User {
    // The wire user is owned: its URL list and badges move into the event instead of being
    // copied (this runs for nearly every event).
    let avatar = if u
        .avatar_thumb
        .as_ref()
        .is_some_and(|i| !i.url_list.is_empty())
    {
        u.avatar_thumb.take()
    } else {
        None
    }
    .or_else(|| u.avatar_medium.take())
    .or_else(|| u.avatar_large.take())
    .or_else(|| u.avatar_jpg.take());
    let profile_picture_urls = avatar.map(|i| i.url_list).unwrap_or_default();
    let badges: Vec<ev::Badge> = std::mem::take(&mut u.badge_list)
        .into_iter()
        .map(badge)
        .collect();

    let mut out = ev::User {
        id: u.id as u64,
        profile_picture_url: preferred_avatar(&profile_picture_urls),
        profile_picture_urls,
        follow_role: ev::FollowRole::from_status(
            u.follow_info
                .as_ref()
                .map(|f| f.follow_status)
                .unwrap_or(u.follow_status),
        ),
        follower_count: u.follow_info.as_ref().map(|f| f.follower_count as u64),
        following_count: u.follow_info.as_ref().map(|f| f.following_count as u64),
        is_moderator: u.user_attr.as_ref().is_some_and(|a| a.is_admin),
        is_subscriber: u.is_subscribe,
        verified: u.verified,
        fan_club_name: u
            .fans_club
            .as_ref()
            .and_then(|f| f.data.as_ref())
            .map(|d| d.club_name.clone())
            .filter(|n| !n.is_empty()),
        team_member_level: u
            .fans_club
            .as_ref()
            .and_then(|f| f.data.as_ref())
            .map(|d| d.level as u32)
            .filter(|l| *l > 0),
        unique_id: u.display_id,
        nickname: u.nickname,
        sec_uid: u.sec_uid,
        ..ev::User::default()
    };
    for b in &badges {
        let url = b.image_url.as_deref().unwrap_or("");
        let text = b.text.as_deref().unwrap_or("");
        match b.scene {
            ev::BadgeScene::Admin => out.is_moderator = true,
            ev::BadgeScene::Subscriber | ev::BadgeScene::NewSubscriber => out.is_subscriber = true,
            ev::BadgeScene::UserGrade => out.gifter_level = out.gifter_level.or(b.level),
            ev::BadgeScene::Fans => out.team_member_level = out.team_member_level.or(b.level),
            _ => {}
        }
        if contains_ignore_ascii_case(text, "moderator") {
            out.is_moderator = true;
        }
        if url.contains("/sub_") {
            out.is_subscriber = true;
        }
        if out.top_gifter_rank.is_none() {
            out.top_gifter_rank = number_after(url, "ranklist_top_gifter_");
        }
        if out.gifter_level.is_none() {
            out.gifter_level = number_after(url, "grade_badge_icon_lite_lv");
        }
        if out.team_member_level.is_none() {
            out.team_member_level = number_after(url, "fans_badge_icon_lv");
        }
    }
    out.badges = badges;
    out
}

/// `haystack` contains `needle` (ASCII case-insensitive), without allocating.
pub(super) fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

pub(super) fn opt_user(u: Option<pb::User>) -> Option<ev::User> {
    u.filter(|u| u.id != 0 || !u.display_id.is_empty())
        .map(user)
}

pub(super) fn apply_identity(u: &mut ev::User, identity: Option<&pb::UserIdentity>) {
    if let Some(i) = identity {
        u.is_subscriber |= i.is_subscriber_of_anchor;
        u.is_moderator |= i.is_moderator_of_anchor;
    }
}

pub(super) fn emote_model(e: pb::EmoteModel) -> ev::Emote {
    ev::Emote {
        image_url: first_url(e.image.as_ref()),
        emote_id: e.emote_id,
        index: None,
    }
}

/// A wire picture, whole.
pub(super) fn image(i: pb::ImageModel) -> ev::Image {
    ev::Image {
        url_list: i.url_list,
        uri: i.uri,
        width: i.width.max(0) as u32,
        height: i.height.max(0) as u32,
    }
}

/// A picture, when the message has one with at least a URL or a URI.
pub(super) fn opt_image(i: Option<pb::ImageModel>) -> Option<ev::Image> {
    i.map(image).filter(|i| !i.is_empty() || !i.uri.is_empty())
}

/// A display text with its pieces (an absent text becomes an empty one).
pub(super) fn text(t: Option<pb::Text>) -> ev::DisplayText {
    let Some(t) = t else {
        return ev::DisplayText::default();
    };
    ev::DisplayText {
        key: t.key,
        pattern: t.default_pattern,
        pieces: t.pieces.into_iter().map(text_piece).collect(),
    }
}

/// The display text of a message's common header.
pub(super) fn common_text(common: Option<pb::CommonMessageData>) -> ev::DisplayText {
    text(common.and_then(|c| c.display_text))
}

/// One piece: a user, a gift, a pattern or a string (type 1) by what the piece carries; any
/// other piece keeps only its type number.
fn text_piece(p: pb::TextPiece) -> ev::TextPiece {
    if let Some(u) = p.user_value.and_then(|u| u.user) {
        return ev::TextPiece::User(Box::new(user(u)));
    }
    if let Some(g) = p.gift_value {
        return ev::TextPiece::Gift {
            gift_id: g.gift_id as u64,
            name: g.name_ref.map(|r| r.default_pattern).unwrap_or_default(),
        };
    }
    if let Some(r) = p.pattern_ref_value {
        return ev::TextPiece::String(r.default_pattern);
    }
    if p.r#type == 1 || !p.string_value.is_empty() {
        return ev::TextPiece::String(p.string_value);
    }
    ev::TextPiece::Other(p.r#type)
}

/// A sanction, when the message has one.
pub(super) fn punish(p: Option<pb::PunishEventInfo>) -> Option<ev::PunishInfo> {
    let p = p?;
    let violation_user_id = if p.violation_uid != 0 {
        p.violation_uid as u64
    } else {
        p.violation_uid_str.trim().parse().unwrap_or(0)
    };
    Some(ev::PunishInfo {
        punish_type: p.punish_type,
        reason: p.punish_reason,
        punish_id: p.punish_id,
        violation_user_id,
        punish_type_id: p.punish_type_id,
        duration: p.duration,
        end_time: p.end_time,
        show_reason: p.show_reason,
    })
}

/// A room notice, on its own or nested in another message (its text is its own header's
/// display text).
pub(super) fn room_notice(n: pb::WebcastRoomNotifyMessage) -> ev::RoomNotice {
    ev::RoomNotice {
        text: common_text(n.common),
        content: n.content,
        user: opt_user(n.user),
        schema: n.schema,
        notify_type: n.notify_type,
        notify_class: n.notify_class,
        source: n.source,
        from_user_id: n.from_user_id as u64,
        to_anchor_id: n.to_anchor_id as u64,
    }
}
