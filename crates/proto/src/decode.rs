//! Wire messages → typed [`Event`]s.
//!
//! [`decode_payload`] turns the bytes of one inner message (a `BaseProtoMessage.payload`) into an
//! event, chosen by the message's `method` name. [`decode_events`] does it for every message of a
//! `ProtoMessageFetchResult`: one failing message becomes a [`DecodeError`] in its place and the
//! rest of the batch still comes through. A method this library has no type for becomes an
//! [`Event::Unknown`] carrying the method name and the raw bytes.

use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use prost::Message;
use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use crate::webcast as pb;

/// A message whose bytes did not decode as the type its method names.
///
/// `Display` includes the payload as base64, so the text of a bug report is enough to reproduce
/// the failure.
#[derive(Debug, Clone)]
pub struct DecodeError {
    method: String,
    msg_id: u64,
    payload: Bytes,
    source: prost::DecodeError,
}

impl DecodeError {
    /// The wire method name (`WebcastChatMessage`…).
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The envelope's message id, when it had one (0 otherwise).
    pub fn msg_id(&self) -> u64 {
        self.msg_id
    }

    /// The bytes that failed to decode.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// At most this many payload bytes are shown (as base64) in a [`DecodeError`]'s text; the whole
/// payload stays available from [`DecodeError::payload`].
pub const DISPLAY_PAYLOAD_MAX: usize = 16 * 1024;

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.payload[..self.payload.len().min(DISPLAY_PAYLOAD_MAX)];
        write!(
            f,
            "cannot decode {} ({} bytes): {}; payload base64: {}",
            self.method,
            self.payload.len(),
            self.source,
            base64::engine::general_purpose::STANDARD.encode(shown)
        )?;
        if shown.len() < self.payload.len() {
            write!(f, " … (first {} bytes shown)", shown.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Decodes every message of a fetch result, in order. Failed messages become errors in place.
pub fn decode_events(
    result: &pb::ProtoMessageFetchResult,
) -> impl Iterator<Item = Result<Event, DecodeError>> + '_ {
    result.messages.iter().map(decode_message)
}

/// Decodes one `BaseProtoMessage` (its `method`, `payload`, `msg_id` and `is_history`).
pub fn decode_message(msg: &pb::BaseProtoMessage) -> Result<Event, DecodeError> {
    let mut event = decode_payload_bytes(&msg.method, msg.payload.clone()).map_err(|mut e| {
        if e.msg_id == 0 {
            e.msg_id = msg.msg_id as u64;
        }
        e
    })?;
    let meta = event.meta_mut();
    if meta.msg_id == 0 {
        meta.msg_id = msg.msg_id as u64;
    }
    meta.is_history = msg.is_history;
    Ok(event)
}

/// Decodes the bytes of one inner message, by its method name (with or without the `Webcast`
/// prefix, since some captures record `LinkMicMethod` for `WebcastLinkMicMethod`).
pub fn decode_payload(method: &str, payload: &[u8]) -> Result<Event, DecodeError> {
    decode_payload_bytes(method, Bytes::copy_from_slice(payload))
}

fn decode_payload_bytes(method: &str, payload: Bytes) -> Result<Event, DecodeError> {
    let short = method.strip_prefix("Webcast").unwrap_or(method);
    macro_rules! parse {
        ($ty:ty) => {
            match <$ty>::decode(payload.as_ref()) {
                Ok(m) => m,
                Err(source) => {
                    return Err(DecodeError {
                        method: method.to_owned(),
                        msg_id: 0,
                        payload,
                        source,
                    });
                }
            }
        };
    }
    let event = match short {
        "ChatMessage" => Event::Chat(chat(parse!(pb::WebcastChatMessage), method)),
        "GiftMessage" => Event::Gift(gift(parse!(pb::WebcastGiftMessage), method)),
        "MemberMessage" => member(parse!(pb::WebcastMemberMessage), method),
        "LikeMessage" => like(parse!(pb::WebcastLikeMessage), method),
        "SocialMessage" => social(parse!(pb::WebcastSocialMessage), method),
        "SubNotifyMessage" => subscribe(parse!(pb::WebcastSubNotifyMessage), method),
        "RoomUserSeqMessage" => room_user(parse!(pb::WebcastRoomUserSeqMessage), method),
        "QuestionNewMessage" => question(parse!(pb::WebcastQuestionNewMessage), method),
        "LinkMicBattle" => battle(parse!(pb::WebcastLinkMicBattle), method),
        "LinkMicArmies" => armies(parse!(pb::WebcastLinkMicArmies), method),
        "EmoteChatMessage" => emote(parse!(pb::WebcastEmoteChatMessage), method),
        "ControlMessage" => control(parse!(pb::WebcastControlMessage), method),
        "EnvelopeMessage" => envelope(parse!(pb::WebcastEnvelopeMessage), method),
        "RoomMessage" => {
            let m = parse!(pb::WebcastRoomMessage);
            Event::RoomMessage(ev::RoomMessageEvent {
                meta: meta(m.common.as_ref(), method),
                content: m.content,
            })
        }
        "LiveIntroMessage" => {
            let m = parse!(pb::WebcastLiveIntroMessage);
            Event::LiveIntro(ev::LiveIntroEvent {
                meta: meta(m.common.as_ref(), method),
                user: opt_user(m.user),
                content: m.content,
                language: m.content_language,
            })
        }
        "BarrageMessage" => barrage(parse!(pb::WebcastBarrageMessage), method),
        "RoomPinMessage" => room_pin(parse!(pb::WebcastRoomPinMessage), method),
        "GoalUpdateMessage" => goal(parse!(pb::WebcastGoalUpdateMessage), method),
        "PollMessage" => poll(parse!(pb::WebcastPollMessage), method),
        "RankUpdateMessage" => rank_update(parse!(pb::WebcastRankUpdateMessage), method),
        "CaptionMessage" => caption(parse!(pb::WebcastCaptionMessage), method),
        "ImDeleteMessage" => {
            let m = parse!(pb::WebcastImDeleteMessage);
            Event::ImDelete(ev::ImDeleteEvent {
                meta: meta(m.common.as_ref(), method),
                delete_msg_ids: m.delete_msg_ids.into_iter().map(|v| v as u64).collect(),
                delete_user_ids: m.delete_user_ids.into_iter().map(|v| v as u64).collect(),
            })
        }
        "LinkMicMethod" => {
            let m = parse!(pb::WebcastLinkMicMethod);
            Event::LinkMicMethod(ev::LinkMicMethodEvent {
                meta: meta(m.common.as_ref(), method),
                message_type: m.message_type,
                user_id: m.user_id as u64,
                channel_id: m.channel_id as u64,
                fan_ticket: m.fan_ticket,
                total_linkmic_fan_ticket: m.total_linkmic_fan_ticket,
            })
        }
        "LinkMicFanTicketMethod" => {
            let m = parse!(pb::WebcastLinkMicFanTicketMethod);
            Event::LinkMicFanTicketMethod(ev::LinkMicFanTicketEvent {
                meta: meta(m.common.as_ref(), method),
            })
        }
        "UnauthorizedMemberMessage" => {
            let m = parse!(pb::WebcastUnauthorizedMemberMessage);
            Event::UnauthorizedMember(ev::UnauthorizedMemberEvent {
                meta: meta(m.common.as_ref(), method),
                action: m.action,
                nickname: m.nick_name,
            })
        }
        _ => unknown(method, payload),
    };
    Ok(event)
}

/// An unknown method: keep the bytes, and read the common header when the message has one in
/// field 1 (nearly every `Webcast*` message does), so the event still has its ids.
fn unknown(method: &str, payload: Bytes) -> Event {
    let common = pb::WebcastInRoomBannerMessage::decode(payload.as_ref())
        .ok()
        .and_then(|m| m.common);
    Event::Unknown(ev::UnknownEvent {
        meta: meta(common.as_ref(), method),
        payload: payload.to_vec(),
    })
}

fn meta(common: Option<&pb::CommonMessageData>, method: &str) -> ev::EventMeta {
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

fn display_key(common: Option<&pb::CommonMessageData>) -> &str {
    common
        .and_then(|c| c.display_text.as_ref())
        .map(|t| t.key.as_str())
        .unwrap_or("")
}

fn first_url(img: Option<&pb::ImageModel>) -> Option<String> {
    img.and_then(|i| i.url_list.first()).cloned()
}

/// Picks the avatar URL people want: a 100x100 webp, then a 100x100 jpeg, then any URL that is
/// not a `shrink` variant, then the first (the preference order Node 1.x used).
fn preferred_avatar(urls: &[String]) -> Option<String> {
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
fn number_after(s: &str, prefix: &str) -> Option<u32> {
    let start = s.find(prefix)? + prefix.len();
    let digits: &str = &s[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn badge(b: pb::BadgeStruct) -> ev::Badge {
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
fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn opt_user(u: Option<pb::User>) -> Option<ev::User> {
    u.filter(|u| u.id != 0 || !u.display_id.is_empty())
        .map(user)
}

fn apply_identity(u: &mut ev::User, identity: Option<&pb::UserIdentity>) {
    if let Some(i) = identity {
        u.is_subscriber |= i.is_subscriber_of_anchor;
        u.is_moderator |= i.is_moderator_of_anchor;
    }
}

fn chat(m: pb::WebcastChatMessage, method: &str) -> ev::ChatEvent {
    let mut u = m.user.map(user).unwrap_or_default();
    apply_identity(&mut u, m.user_identity.as_ref());
    ev::ChatEvent {
        meta: meta(m.common.as_ref(), method),
        user: u,
        comment: m.content,
        language: m.content_language,
        emotes: m
            .emotes
            .into_iter()
            .map(|e| {
                let mut em = e.emote.map(emote_model).unwrap_or_default();
                em.index = Some(e.index.max(0) as u32);
                em
            })
            .collect(),
        at_user: opt_user(m.at_user),
    }
}

fn emote_model(e: pb::EmoteModel) -> ev::Emote {
    ev::Emote {
        image_url: first_url(e.image.as_ref()),
        emote_id: e.emote_id,
        index: None,
    }
}

fn gift(m: pb::WebcastGiftMessage, method: &str) -> ev::GiftEvent {
    let info = match m.gift {
        Some(g) => ev::GiftInfo {
            id: if g.id != 0 { g.id } else { m.gift_id } as u64,
            image_url: first_url(g.image.as_ref()).or_else(|| first_url(g.icon.as_ref())),
            name: g.name,
            diamond_count: g.diamond_count.max(0) as u32,
            gift_type: g.r#type,
            describe: g.describe,
        },
        None => ev::GiftInfo {
            id: m.gift_id as u64,
            ..ev::GiftInfo::default()
        },
    };
    // A single gift may arrive with repeat_count 0 on the wire; it is still one gift.
    let repeat_count = m.repeat_count.max(1) as u32;
    let repeat_end = m.repeat_end != 0;
    let mut u = m.user.map(user).unwrap_or_default();
    apply_identity(&mut u, m.user_identity.as_ref());
    ev::GiftEvent {
        meta: meta(m.common.as_ref(), method),
        user: u,
        to_user: opt_user(m.to_user),
        streaking: info.is_streakable() && !repeat_end,
        diamonds: u64::from(repeat_count) * u64::from(info.diamond_count),
        gift: info,
        repeat_count,
        repeat_end,
        group_id: m.group_id as u64,
        combo_count: m.combo_count.max(0) as u32,
    }
}

fn member(m: pb::WebcastMemberMessage, method: &str) -> Event {
    Event::Member(ev::MemberEvent {
        meta: meta(m.common.as_ref(), method),
        user: m.user.map(user).unwrap_or_default(),
        action: match m.action {
            1 => ev::MemberAction::Joined,
            3 => ev::MemberAction::Subscribed,
            _ => ev::MemberAction::Other,
        },
        action_id: m.action,
        member_count: m.member_count.max(0) as u64,
    })
}

fn like(m: pb::WebcastLikeMessage, method: &str) -> Event {
    Event::Like(ev::LikeEvent {
        meta: meta(m.common.as_ref(), method),
        user: m.user.map(user).unwrap_or_default(),
        count: m.count.max(0) as u32,
        total: m.total.max(0) as u64,
    })
}

fn social(m: pb::WebcastSocialMessage, method: &str) -> Event {
    let key = display_key(m.common.as_ref()).to_owned();
    Event::Social(ev::SocialEvent {
        meta: meta(m.common.as_ref(), method),
        user: m.user.map(user).unwrap_or_default(),
        action: ev::SocialAction::from_display_key(&key),
        users_joined: number_after(&key, "pm_mt_guidance_viewer_"),
        display_key: key,
        follow_count: m.follow_count.max(0) as u64,
        share_count: m.share_count.max(0) as u32,
    })
}

fn subscribe(m: pb::WebcastSubNotifyMessage, method: &str) -> Event {
    Event::Subscribe(ev::SubscribeEvent {
        meta: meta(m.common.as_ref(), method),
        user: m.user.map(user).unwrap_or_default(),
        sub_month: m.sub_month.clamp(0, i64::from(u32::MAX)) as u32,
        subscribe_type: m.subscribe_type,
        old_subscribe_status: m.old_subscribe_status,
        subscribing_status: m.subscribing_status,
    })
}

fn room_user(m: pb::WebcastRoomUserSeqMessage, method: &str) -> Event {
    Event::RoomUser(ev::RoomUserEvent {
        meta: meta(m.common.as_ref(), method),
        viewer_count: m.total.max(0) as u64,
        total_viewers: m.total_user.max(0) as u64,
        top_viewers: m
            .ranks
            .into_iter()
            .map(|c| ev::TopViewer {
                user: c.user.map(user).unwrap_or_default(),
                coin_count: c.score.max(0) as u64,
                rank: c.rank.clamp(0, i64::from(u32::MAX)) as u32,
            })
            .collect(),
    })
}

fn question(m: pb::WebcastQuestionNewMessage, method: &str) -> Event {
    let q = m.data.unwrap_or_default();
    Event::QuestionNew(ev::QuestionNewEvent {
        meta: meta(m.common.as_ref(), method),
        user: opt_user(q.user),
        question_id: q.question_id as u64,
        content: q.content,
    })
}

const BATTLE_ACTIONS: [&str; 12] = [
    "unknown",
    "invite",
    "reject",
    "cancel",
    "open",
    "finish",
    "cut_short",
    "accept",
    "quit_apply",
    "decline_quit",
    "decline_off_quit",
    "leave_linkmic",
];

fn battle(m: pb::WebcastLinkMicBattle, method: &str) -> Event {
    let settings = m.battle_settings.unwrap_or_default();
    let mut results: Vec<ev::BattleResult> = m
        .battle_result
        .into_iter()
        .map(|(uid, r)| ev::BattleResult {
            user_id: if r.user_id != 0 { r.user_id } else { uid } as u64,
            result: match r.result {
                0 => "win",
                1 => "lose",
                2 => "draw",
                _ => "other",
            }
            .to_owned(),
            score: r.score,
            diamond_score: r.diamond_score,
        })
        .collect();
    results.sort_by_key(|r| r.user_id);
    Event::LinkMicBattle(ev::LinkMicBattleEvent {
        meta: meta(m.common.as_ref(), method),
        battle_id: if m.battle_id != 0 {
            m.battle_id
        } else {
            settings.battle_id
        } as u64,
        action: usize::try_from(m.action)
            .ok()
            .and_then(|i| BATTLE_ACTIONS.get(i))
            .copied()
            .unwrap_or("other")
            .to_owned(),
        action_id: m.action,
        status: settings.status,
        duration: settings.duration.max(0) as u32,
        start_time_ms: settings.start_time_ms,
        anchors: m
            .anchors_info
            .into_iter()
            .map(|w| {
                let base = w.value.and_then(|v| v.user).unwrap_or_default();
                ev::BattleAnchor {
                    user_id: if base.user_id != 0 {
                        base.user_id
                    } else {
                        w.key
                    } as u64,
                    profile_picture_url: first_url(base.avatar_thumb.as_ref()),
                    unique_id: base.display_id,
                    nickname: base.nick_name,
                    room_id: (base.room_id != 0).then_some(base.room_id as u64),
                }
            })
            .collect(),
        results,
    })
}

fn armies(m: pb::WebcastLinkMicArmies, method: &str) -> Event {
    let mut armies: Vec<ev::BattleArmy> = m
        .armies
        .into_iter()
        .map(|(host, a)| ev::BattleArmy {
            host_user_id: host as u64,
            host_score: a.hostscore,
            supporters: a
                .user_armies
                .into_iter()
                .map(|s| ev::ArmySupporter {
                    user_id: s.user_id as u64,
                    profile_picture_url: first_url(s.avatar_thumb.as_ref()),
                    nickname: s.nickname,
                    score: s.score,
                    diamond_score: s.diamond_score,
                })
                .collect(),
        })
        .collect();
    armies.sort_by_key(|a| a.host_user_id);
    Event::LinkMicArmies(ev::LinkMicArmiesEvent {
        meta: meta(m.common.as_ref(), method),
        battle_id: m.battle_id as u64,
        trigger_reason: m.trigger_reason,
        armies,
        gift_id: m.gift_id as u64,
        from_user_id: m.from_user_id as u64,
        total_diamond_count: m.total_diamond_count.max(0) as u32,
    })
}

fn emote(m: pb::WebcastEmoteChatMessage, method: &str) -> Event {
    let mut u = m.user.map(user).unwrap_or_default();
    apply_identity(&mut u, m.user_identity.as_ref());
    Event::Emote(ev::EmoteEvent {
        meta: meta(m.common.as_ref(), method),
        user: u,
        emotes: m.emote_list.into_iter().map(emote_model).collect(),
    })
}

/// Control action 3 (ended by the host) and 4 (suspended) end the stream; 1 and 2 pause and
/// resume it (protocol.md §11.3, `ControlAction`).
fn control(m: pb::WebcastControlMessage, method: &str) -> Event {
    let meta = meta(m.common.as_ref(), method);
    match m.action {
        3 | 4 => Event::StreamEnd(ev::StreamEndEvent {
            meta,
            action: if m.action == 3 {
                ev::StreamEndAction::Ended
            } else {
                ev::StreamEndAction::Suspended
            },
            action_id: m.action,
            tips: m.tips,
        }),
        1 => Event::LivePaused(ev::LivePausedEvent { meta }),
        2 => Event::LiveResumed(ev::LiveResumedEvent { meta }),
        action => Event::Control(ev::ControlEvent {
            meta,
            action,
            tips: m.tips,
        }),
    }
}

fn envelope(m: pb::WebcastEnvelopeMessage, method: &str) -> Event {
    let info = m.envelope_info.unwrap_or_default();
    Event::Envelope(ev::EnvelopeEvent {
        meta: meta(m.common.as_ref(), method),
        envelope_id: info.envelope_id,
        business_type: info.business_type,
        diamond_count: info.diamond_count.max(0) as u32,
        people_count: info.people_count.max(0) as u32,
        send_user_name: info.send_user_name,
        send_user_id: info.send_user_id,
        display: m.display,
    })
}

fn barrage(m: pb::WebcastBarrageMessage, method: &str) -> Event {
    let content = m.content.unwrap_or_default();
    let user = m
        .user
        .or_else(|| m.user_grade_param.and_then(|p| p.user))
        .or_else(|| m.fans_level_param.and_then(|p| p.user));
    Event::Barrage(ev::BarrageEvent {
        meta: meta(m.common.as_ref(), method),
        msg_type: m.msg_type,
        content_key: content.key,
        content: content.default_pattern,
        user: opt_user(user),
    })
}

fn room_pin(m: pb::WebcastRoomPinMessage, method: &str) -> Event {
    Event::RoomPin(ev::RoomPinEvent {
        meta: meta(m.common.as_ref(), method),
        action: m.action,
        pinned_method: m.method,
        chat: m
            .chat_message
            .map(|c| Box::new(chat(*c, "WebcastChatMessage"))),
        operator: opt_user(m.operator),
        display_duration: m.display_duration,
    })
}

fn goal(m: pb::WebcastGoalUpdateMessage, method: &str) -> Event {
    let g = m.goal.unwrap_or_default();
    Event::GoalUpdate(ev::GoalUpdateEvent {
        meta: meta(m.common.as_ref(), method),
        goal_id: g.id as u64,
        description: g.description,
        sub_goals: g
            .sub_goals
            .into_iter()
            .map(|s| ev::SubGoal {
                id: s.id as u64,
                progress: s.progress,
                target: s.target,
                gift_name: s.gift.map(|g| g.name).unwrap_or_default(),
            })
            .collect(),
        contributor_id: m.contributor_id as u64,
        contribute_count: m.contribute_count,
    })
}

fn poll(m: pb::WebcastPollMessage, method: &str) -> Event {
    // message_type: 0 start, 1 end, 2 update (TikTokLiveJava's mapping, protocol.md §11.3).
    let phase = match m.message_type {
        0 => "start",
        1 => "end",
        2 => "update",
        _ => "other",
    };
    let (title, options) = if let Some(s) = m.start_content {
        (s.title, s.option_list)
    } else if let Some(u) = m.update_votes_content {
        (String::new(), u.option_list)
    } else if let Some(e) = m.end_content {
        (String::new(), e.option_list)
    } else {
        (String::new(), Vec::new())
    };
    let title = if title.is_empty() {
        m.poll_basic_info
            .as_ref()
            .map(|b| b.title.clone())
            .unwrap_or_default()
    } else {
        title
    };
    Event::Poll(ev::PollEvent {
        meta: meta(m.common.as_ref(), method),
        poll_id: m.poll_id as u64,
        phase: phase.to_owned(),
        title,
        options: options
            .into_iter()
            .map(|o| ev::PollOption {
                index: o.option_idx,
                text: o.display_content,
                votes: o.votes,
            })
            .collect(),
    })
}

fn rank_update(m: pb::WebcastRankUpdateMessage, method: &str) -> Event {
    Event::RankUpdate(ev::RankUpdateEvent {
        meta: meta(m.common.as_ref(), method),
        updates: m
            .updates
            .into_iter()
            .map(|u| ev::RankEntry {
                rank_type: u.rank_type,
                own_rank: u.own_rank,
                current_score: u.current_score,
                text: u
                    .default_content
                    .map(|t| t.default_pattern)
                    .unwrap_or_default(),
            })
            .collect(),
    })
}

fn caption(m: pb::WebcastCaptionMessage, method: &str) -> Event {
    Event::Caption(ev::CaptionEvent {
        meta: meta(m.common.as_ref(), method),
        timestamp_ms: m.timestamp_ms,
        duration_ms: m.duration_ms,
        lines: m
            .content
            .into_iter()
            .map(|c| ev::CaptionLine {
                language: c.lang,
                text: c.content,
            })
            .collect(),
        definite: m.definite,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn common(msg_id: i64) -> Option<pb::CommonMessageData> {
        Some(pb::CommonMessageData {
            method: "WebcastChatMessage".into(),
            msg_id,
            room_id: 7,
            create_time: 1_700_000_000_000,
            ..Default::default()
        })
    }

    #[test]
    fn chat_decodes_with_meta() {
        let m = pb::WebcastChatMessage {
            common: common(42),
            user: Some(pb::User {
                id: 99,
                display_id: "otter".into(),
                nickname: "Otter".into(),
                avatar_thumb: Some(pb::ImageModel {
                    url_list: vec![
                        "https://p.invalid/a~tplv-shrink:72:72.webp".into(),
                        "https://p.invalid/a~c5_100x100.webp".into(),
                    ],
                    ..Default::default()
                }),
                ..Default::default()
            }),
            content: "hi there".into(),
            ..Default::default()
        };
        let ev = decode_payload("WebcastChatMessage", &m.encode_to_vec()).unwrap();
        let Event::Chat(c) = ev else {
            panic!("not a chat: {ev:?}")
        };
        assert_eq!(c.meta.msg_id, 42);
        assert_eq!(c.meta.room_id, 7);
        assert_eq!(c.comment, "hi there");
        assert_eq!(c.user.unique_id, "otter");
        assert_eq!(
            c.user.profile_picture_url.as_deref(),
            Some("https://p.invalid/a~c5_100x100.webp")
        );
    }

    #[test]
    fn control_actions_map_to_lifecycle_kinds() {
        for (action, kind) in [
            (3, ev::EventKind::StreamEnd),
            (4, ev::EventKind::StreamEnd),
            (1, ev::EventKind::LivePaused),
            (2, ev::EventKind::LiveResumed),
            (9, ev::EventKind::Control),
        ] {
            let m = pb::WebcastControlMessage {
                common: common(1),
                action,
                ..Default::default()
            };
            let ev = decode_payload("WebcastControlMessage", &m.encode_to_vec()).unwrap();
            assert_eq!(ev.kind(), kind, "action {action}");
        }
    }

    #[test]
    fn unknown_method_keeps_bytes_and_ids() {
        let bytes = pb::WebcastInRoomBannerMessage { common: common(5) }.encode_to_vec();
        let ev = decode_payload("WebcastSomethingNewMessage", &bytes).unwrap();
        let Event::Unknown(u) = ev else {
            panic!("expected unknown")
        };
        assert_eq!(u.meta.method, "WebcastSomethingNewMessage");
        assert_eq!(u.meta.msg_id, 5);
        assert_eq!(u.payload, bytes);
    }

    #[test]
    fn bad_bytes_give_a_typed_error_and_the_batch_continues() {
        let good = pb::WebcastLikeMessage {
            common: common(1),
            count: 3,
            total: 10,
            ..Default::default()
        };
        let result = pb::ProtoMessageFetchResult {
            messages: vec![
                pb::BaseProtoMessage {
                    method: "WebcastChatMessage".into(),
                    payload: Bytes::from_static(&[0x0a, 0xff, 0xff]),
                    msg_id: 77,
                    ..Default::default()
                },
                pb::BaseProtoMessage {
                    method: "WebcastLikeMessage".into(),
                    payload: good.encode_to_vec().into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let out: Vec<_> = decode_events(&result).collect();
        assert_eq!(out.len(), 2);
        let err = out[0].as_ref().unwrap_err();
        assert_eq!(err.method(), "WebcastChatMessage");
        assert_eq!(err.msg_id(), 77);
        assert!(err.to_string().contains("payload base64: Cv//"), "{err}");
        let Ok(Event::Like(l)) = &out[1] else {
            panic!("expected like")
        };
        assert_eq!((l.count, l.total), (3, 10));
    }

    #[test]
    fn gift_streak_fields() {
        let m = pb::WebcastGiftMessage {
            common: common(3),
            gift_id: 5655,
            repeat_count: 4,
            repeat_end: 0,
            group_id: 123,
            gift: Some(pb::Gift {
                id: 5655,
                name: "Rose".into(),
                diamond_count: 1,
                r#type: 1,
                ..Default::default()
            }),
            ..Default::default()
        };
        let Event::Gift(g) = decode_payload("WebcastGiftMessage", &m.encode_to_vec()).unwrap()
        else {
            panic!()
        };
        assert!(g.streaking);
        assert_eq!(g.diamonds, 4);
        assert_eq!(g.group_id, 123);
    }

    #[test]
    fn social_follow_share_and_badges() {
        let mut c = common(8);
        c.as_mut().unwrap().display_text = Some(pb::Text {
            key: "pm_mt_guidance_viewer_7_share".into(),
            ..Default::default()
        });
        let m = pb::WebcastSocialMessage {
            common: c,
            user: Some(pb::User {
                id: 1,
                badge_list: vec![
                    pb::BadgeStruct {
                        scene_type: 8,
                        privilege_log_extra: Some(pb::PrivilegeLogExtra {
                            level: "12".into(),
                            ..Default::default()
                        }),
                        ..Default::default()
                    },
                    pb::BadgeStruct {
                        scene_type: 1,
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            ..Default::default()
        };
        let Event::Social(s) = decode_payload("WebcastSocialMessage", &m.encode_to_vec()).unwrap()
        else {
            panic!()
        };
        assert_eq!(s.action, ev::SocialAction::Share);
        assert_eq!(s.users_joined, Some(7));
        assert_eq!(s.user.gifter_level, Some(12));
        assert!(s.user.is_moderator);
    }
}
