//! Wire messages → typed [`Event`]s.
//!
//! [`decode_payload`] turns the bytes of one inner message (a `BaseProtoMessage.payload`) into an
//! event, chosen by the message's `method` name. [`decode_events`] does it for every message of a
//! `ProtoMessageFetchResult`: one failing message becomes a [`DecodeError`] in its place and the
//! rest of the batch still comes through. A method this library has no type for becomes an
//! [`Event::Unknown`] carrying the method name and the raw bytes.
//!
//! This file is the dispatcher: it picks the wire type by method name and hands the parsed
//! message to the conversion of its family, one module each, named like the event model's:
//! [`shared`] (header, users, pictures, display texts), [`chat`], [`gift`], [`room`],
//! [`battle`], [`platform`] and [`lifecycle`].

use std::fmt;

use base64::Engine as _;
use bytes::Bytes;
use prost::Message;
use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use crate::webcast as pb;

mod battle;
mod chat;
mod gift;
mod lifecycle;
mod platform;
mod room;
mod shared;

use shared::meta;
pub use shared::user;

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
        // chat, social and Q&A
        "ChatMessage" => Event::Chat(chat::chat(parse!(pb::WebcastChatMessage), method)),
        "EmoteChatMessage" => chat::emote(parse!(pb::WebcastEmoteChatMessage), method),
        "MemberMessage" => chat::member(parse!(pb::WebcastMemberMessage), method),
        "LikeMessage" => chat::like(parse!(pb::WebcastLikeMessage), method),
        "SocialMessage" => chat::social(parse!(pb::WebcastSocialMessage), method),
        "SubNotifyMessage" => chat::subscribe(parse!(pb::WebcastSubNotifyMessage), method),
        "QuestionNewMessage" => chat::question(parse!(pb::WebcastQuestionNewMessage), method),
        "QuestionSelectedMessage" => {
            chat::question_selected(parse!(pb::WebcastQuestionSelectedMessage), method)
        }
        "QuestionDeleteMessage" => {
            chat::question_delete(parse!(pb::WebcastQuestionDeleteMessage), method)
        }
        "QuestionSlideDownMessage" => {
            chat::question_slide_down(parse!(pb::WebcastQuestionSlideDownMessage), method)
        }
        "ImDeleteMessage" => chat::im_delete(parse!(pb::WebcastImDeleteMessage), method),
        "UnauthorizedMemberMessage" => {
            chat::unauthorized_member(parse!(pb::WebcastUnauthorizedMemberMessage), method)
        }
        "BarrageMessage" => chat::barrage(parse!(pb::WebcastBarrageMessage), method),
        "RoomPinMessage" => chat::room_pin(parse!(pb::WebcastRoomPinMessage), method),
        "SubscriptionGuideMessage" => {
            chat::subscription_guide(parse!(pb::WebcastSubscriptionGuideMessage), method)
        }
        "SubPinEventMessage" => chat::sub_pin(parse!(pb::WebcastSubPinEventMessage), method),
        // gifts, goals and treasure
        "GiftMessage" => Event::Gift(gift::gift(parse!(pb::WebcastGiftMessage), method)),
        "EnvelopeMessage" => gift::envelope(parse!(pb::WebcastEnvelopeMessage), method),
        "GoalUpdateMessage" => gift::goal(parse!(pb::WebcastGoalUpdateMessage), method),
        "GiftBroadcastMessage" => {
            gift::gift_broadcast(parse!(pb::WebcastGiftBroadcastMessage), method)
        }
        "GiftPromptMessage" => gift::gift_prompt(parse!(pb::WebcastGiftPromptMessage), method),
        "GiftPanelUpdateMessage" => {
            gift::gift_panel_update(parse!(pb::WebcastGiftPanelUpdateMessage), method)
        }
        "GiftDynamicRestrictionMessage" => {
            gift::gift_dynamic_restriction(parse!(pb::WebcastGiftDynamicRestrictionMessage), method)
        }
        "GiftCollectionUpdateMessage" => {
            gift::gift_collection(parse!(pb::WebcastGiftCollectionUpdateMessage), method)
        }
        "DonationStickerModifyMethod" => {
            gift::donation_sticker(parse!(pb::WebcastDonationStickerModifyMethod), method)
        }
        // room stats, ranks and notices
        "RoomUserSeqMessage" => room::room_user(parse!(pb::WebcastRoomUserSeqMessage), method),
        "RoomMessage" => room::room_message(parse!(pb::WebcastRoomMessage), method),
        "LiveIntroMessage" => room::live_intro(parse!(pb::WebcastLiveIntroMessage), method),
        "SystemMessage" => room::system(parse!(pb::WebcastSystemMessage), method),
        "PollMessage" => room::poll(parse!(pb::WebcastPollMessage), method),
        "RankUpdateMessage" => room::rank_update(parse!(pb::WebcastRankUpdateMessage), method),
        "RankTextMessage" => room::rank_text(parse!(pb::WebcastRankTextMessage), method),
        "HourlyRankRewardMessage" => {
            room::hourly_rank(parse!(pb::WebcastHourlyRankRewardMessage), method)
        }
        "WeeklyRankRewardMessage" => {
            room::weekly_rank_reward(parse!(pb::WebcastWeeklyRankRewardMessage), method)
        }
        "CaptionMessage" => room::caption(parse!(pb::WebcastCaptionMessage), method),
        "RoomNotifyMessage" => room::room_notify(parse!(pb::WebcastRoomNotifyMessage), method),
        "NoticeMessage" => room::notice(parse!(pb::WebcastNoticeMessage), method),
        "ToastMessage" => room::toast(parse!(pb::WebcastToastMessage), method),
        "BottomMessage" => room::bottom(parse!(pb::WebcastBottomMessage), method),
        "CapsuleMessage" => room::capsule(parse!(pb::WebcastCapsuleMessage), method),
        "InRoomBannerMessage" => {
            room::in_room_banner(parse!(pb::WebcastInRoomBannerMessage), method)
        }
        "MarqueeAnnouncementMessage" => {
            room::marquee(parse!(pb::WebcastMarqueeAnnouncementMessage), method)
        }
        "LiveGameIntroMessage" => {
            room::live_game_intro(parse!(pb::WebcastLiveGameIntroMessage), method)
        }
        "GameRankNotifyMessage" => {
            room::game_rank_notify(parse!(pb::WebcastGameRankNotifyMessage), method)
        }
        "GuideMessage" => room::guide(parse!(pb::WebcastGuideMessage), method),
        "SpeakerMessage" => room::speaker(parse!(pb::WebcastSpeakerMessage), method),
        "HashtagMessage" => room::hashtag(parse!(pb::WebcastHashtagMessage), method),
        "SubTimerStickerMessage" => {
            room::sub_timer_sticker(parse!(pb::WebcastSubTimerStickerMessage), method)
        }
        "ViewerPicksUpdateMessage" => {
            room::viewer_picks(parse!(pb::WebcastViewerPicksUpdateMessage), method)
        }
        "PictionaryStartMessage" => {
            room::pictionary_start(parse!(pb::WebcastPictionaryStartMessage), method)
        }
        "PictionaryUpdateMessage" => {
            room::pictionary_update(parse!(pb::WebcastPictionaryUpdateMessage), method)
        }
        "PictionaryEndMessage" => {
            room::pictionary_end(parse!(pb::WebcastPictionaryEndMessage), method)
        }
        "PictionaryExitMessage" => {
            room::pictionary_exit(parse!(pb::WebcastPictionaryExitMessage), method)
        }
        // battles and co-hosting
        "LinkMicBattle" => battle::battle(parse!(pb::WebcastLinkMicBattle), method),
        "LinkMicArmies" => battle::armies(parse!(pb::WebcastLinkMicArmies), method),
        "LinkMicMethod" => battle::link_mic_method(parse!(pb::WebcastLinkMicMethod), method),
        "LinkMicFanTicketMethod" => {
            battle::link_mic_fan_ticket(parse!(pb::WebcastLinkMicFanTicketMethod), method)
        }
        "LinkMicBattlePunishFinish" => {
            battle::punish_finish(parse!(pb::WebcastLinkMicBattlePunishFinish), method)
        }
        "LinkmicBattleTaskMessage" => {
            battle::battle_task(parse!(pb::WebcastLinkmicBattleTaskMessage), method)
        }
        "LinkMicBattleItemCard" => {
            battle::item_card(parse!(pb::WebcastLinkMicBattleItemCard), method)
        }
        "LinkmicBattleNoticeMessage" => {
            battle::battle_notice(parse!(pb::WebcastLinkmicBattleNoticeMessage), method)
        }
        "LinkMessage" => battle::link_message(parse!(pb::WebcastLinkMessage), method),
        "LinkLayerMessage" => battle::link_layer(parse!(pb::WebcastLinkLayerMessage), method),
        "LinkStateMessage" => battle::link_state(parse!(pb::WebcastLinkStateMessage), method),
        "LinkMicLayoutStateMessage" => {
            battle::link_mic_layout_state(parse!(pb::WebcastLinkMicLayoutStateMessage), method)
        }
        // platform notices
        "AccessControlMessage" => {
            platform::access_control(parse!(pb::WebcastAccessControlMessage), method)
        }
        "AccessRecallMessage" => {
            platform::access_recall(parse!(pb::WebcastAccessRecallMessage), method)
        }
        "PerceptionMessage" => platform::perception(parse!(pb::WebcastPerceptionMessage), method),
        "RoomVerifyMessage" => platform::room_verify(parse!(pb::WebcastRoomVerifyMessage), method),
        "MsgDetectMessage" => platform::msg_detect(parse!(pb::WebcastMsgDetectMessage), method),
        "PartnershipPunishMessage" => {
            platform::partnership_punish(parse!(pb::WebcastPartnershipPunishMessage), method)
        }
        "PartnershipDropsUpdateMessage" => {
            platform::drops_update(parse!(pb::WebcastPartnershipDropsUpdateMessage), method)
        }
        "PartnershipGameOfflineMessage" => {
            platform::game_offline(parse!(pb::WebcastPartnershipGameOfflineMessage), method)
        }
        "OecLiveShoppingMessage" => {
            platform::live_shopping(parse!(pb::WebcastOecLiveShoppingMessage), method)
        }
        "BoostCardMessage" => platform::boost_card(parse!(pb::WebcastBoostCardMessage), method),
        // lifecycle
        "ControlMessage" => lifecycle::control(parse!(pb::WebcastControlMessage), method),
        _ => unknown(method, payload),
    };
    Ok(event)
}

/// An unknown method: keep the bytes, and read the common header when the message has one in
/// field 1 (nearly every `Webcast*` message does), so the event still has its ids.
fn unknown(method: &str, payload: Bytes) -> Event {
    let common = pb::MessageHeader::decode(payload.as_ref())
        .ok()
        .and_then(|m| m.common);
    Event::Unknown(ev::UnknownEvent {
        meta: meta(common.as_ref(), method),
        payload: payload.to_vec(),
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
        let bytes = pb::MessageHeader { common: common(5) }.encode_to_vec();
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
