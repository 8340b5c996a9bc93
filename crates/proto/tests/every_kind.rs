//! Every webcast method the Node library (tiktok-live-connector 2.5) maps to an event comes out
//! typed, under Node's event name for the kinds typed here first; the kinds no real capture
//! shows decode their fields from messages built here; arbitrary bytes never panic any of them.

use proptest::prelude::*;
use prost::Message;
use ttlive_eventbus::{Event, EventKind, TextPiece};
use ttlive_proto::decode_payload;
use ttlive_proto::webcast as pb;

/// Node 2.5's method → event map (its `WebcastEventMap`, plus `WebcastGiftMessage`), with the
/// name this library gives the event. The 29 kinds typed before keep their names: Node's
/// `subNotify` is `subscribe` here, and a control message is `controlMessage` unless it ends,
/// pauses or resumes the stream.
const NODE_METHODS: &[(&str, &str)] = &[
    ("WebcastChatMessage", "chat"),
    ("WebcastGiftMessage", "gift"),
    ("WebcastMemberMessage", "member"),
    ("WebcastRoomUserSeqMessage", "roomUser"),
    ("WebcastSocialMessage", "social"),
    ("WebcastLikeMessage", "like"),
    ("WebcastQuestionNewMessage", "questionNew"),
    ("WebcastLinkMicBattle", "linkMicBattle"),
    ("WebcastLinkMicArmies", "linkMicArmies"),
    ("WebcastLiveIntroMessage", "liveIntro"),
    ("WebcastEmoteChatMessage", "emote"),
    ("WebcastEnvelopeMessage", "envelope"),
    ("WebcastBarrageMessage", "barrage"),
    ("WebcastSystemMessage", "system"),
    ("WebcastGoalUpdateMessage", "goalUpdate"),
    ("WebcastRoomMessage", "roomMessage"),
    ("WebcastCaptionMessage", "captionMessage"),
    ("WebcastControlMessage", "controlMessage"),
    ("WebcastImDeleteMessage", "imDelete"),
    ("WebcastInRoomBannerMessage", "inRoomBanner"),
    ("WebcastRankUpdateMessage", "rankUpdate"),
    ("WebcastPollMessage", "pollMessage"),
    ("WebcastRankTextMessage", "rankText"),
    (
        "WebcastLinkMicBattlePunishFinish",
        "linkMicBattlePunishFinish",
    ),
    ("WebcastLinkmicBattleTaskMessage", "linkMicBattleTask"),
    ("WebcastLinkMicFanTicketMethod", "linkMicFanTicketMethod"),
    ("WebcastLinkMicMethod", "linkMicMethod"),
    ("WebcastUnauthorizedMemberMessage", "unauthorizedMember"),
    ("WebcastOecLiveShoppingMessage", "oecLiveShopping"),
    ("WebcastMsgDetectMessage", "msgDetect"),
    ("WebcastLinkMessage", "linkMessage"),
    ("WebcastLinkLayerMessage", "linkLayer"),
    ("WebcastRoomPinMessage", "roomPin"),
    ("WebcastAccessControlMessage", "accessControl"),
    ("WebcastAccessRecallMessage", "accessRecall"),
    ("WebcastBoostCardMessage", "boostCard"),
    ("WebcastBottomMessage", "bottomMessage"),
    ("WebcastCapsuleMessage", "capsule"),
    ("WebcastGameRankNotifyMessage", "gameRankNotify"),
    ("WebcastGiftBroadcastMessage", "giftBroadcast"),
    (
        "WebcastGiftDynamicRestrictionMessage",
        "giftDynamicRestriction",
    ),
    ("WebcastGiftPanelUpdateMessage", "giftPanelUpdate"),
    ("WebcastGiftPromptMessage", "giftPrompt"),
    ("WebcastGuideMessage", "guide"),
    ("WebcastHourlyRankRewardMessage", "hourlyRank"),
    ("WebcastLinkMicLayoutStateMessage", "linkMicLayoutState"),
    ("WebcastLinkStateMessage", "linkState"),
    ("WebcastLiveGameIntroMessage", "liveGameIntro"),
    ("WebcastMarqueeAnnouncementMessage", "marqueeAnnouncement"),
    ("WebcastNoticeMessage", "notice"),
    (
        "WebcastPartnershipDropsUpdateMessage",
        "partnershipDropsUpdate",
    ),
    (
        "WebcastPartnershipGameOfflineMessage",
        "partnershipGameOffline",
    ),
    ("WebcastPartnershipPunishMessage", "partnershipPunish"),
    ("WebcastPerceptionMessage", "perception"),
    ("WebcastRoomNotifyMessage", "roomNotify"),
    ("WebcastRoomVerifyMessage", "roomVerify"),
    ("WebcastSpeakerMessage", "speaker"),
    ("WebcastSubNotifyMessage", "subscribe"),
    ("WebcastSubPinEventMessage", "subPinEvent"),
    ("WebcastToastMessage", "toast"),
    ("WebcastViewerPicksUpdateMessage", "viewerPicksUpdate"),
    ("WebcastLinkMicBattleItemCard", "linkMicBattleItemCard"),
];

/// Kinds typed beyond Node, from the real captures (their method, their name here).
const OBSERVED_METHODS: &[(&str, &str)] = &[
    ("WebcastQuestionSelectedMessage", "questionSelected"),
    ("WebcastQuestionDeleteMessage", "questionDelete"),
    ("WebcastQuestionSlideDownMessage", "questionSlideDown"),
    ("WebcastPictionaryStartMessage", "pictionaryStart"),
    ("WebcastPictionaryUpdateMessage", "pictionaryUpdate"),
    ("WebcastPictionaryEndMessage", "pictionaryEnd"),
    ("WebcastPictionaryExitMessage", "pictionaryExit"),
    ("WebcastSubscriptionGuideMessage", "subscriptionGuide"),
    ("WebcastSubTimerStickerMessage", "subTimerSticker"),
    ("WebcastLinkmicBattleNoticeMessage", "linkMicBattleNotice"),
    ("WebcastWeeklyRankRewardMessage", "weeklyRankReward"),
    ("WebcastHashtagMessage", "hashtag"),
    ("WebcastGiftCollectionUpdateMessage", "giftCollectionUpdate"),
    (
        "WebcastDonationStickerModifyMethod",
        "donationStickerModify",
    ),
];

fn common(method: &str) -> Option<pb::CommonMessageData> {
    Some(pb::CommonMessageData {
        method: method.into(),
        msg_id: 7_400_000_000_000_000_501,
        room_id: 7_400_000_000_000_000_001,
        create_time: 1_700_000_000_000,
        ..Default::default()
    })
}

fn decode(method: &str, bytes: Vec<u8>) -> Event {
    let ev = decode_payload(method, &bytes).unwrap_or_else(|e| panic!("{method}: {e}"));
    assert_eq!(ev.meta().method, method);
    ev
}

#[test]
fn every_method_node_names_decodes_to_a_typed_event_named_like_node() {
    assert_eq!(
        NODE_METHODS.len(),
        62,
        "Node's 61 mapped methods and the gift message"
    );
    for &(method, name) in NODE_METHODS.iter().chain(OBSERVED_METHODS) {
        let header = pb::MessageHeader {
            common: common(method),
        };
        let ev = decode(method, header.encode_to_vec());
        assert_eq!(ev.name(), name, "{method}");
        assert_ne!(ev.kind(), EventKind::Unknown, "{method}");
        // The ids come from the header, wherever the kind keeps it.
        if method != "WebcastWeeklyRankRewardMessage" {
            assert_eq!(ev.msg_id(), 7_400_000_000_000_000_501, "{method}");
            assert_eq!(ev.room_id(), 7_400_000_000_000_000_001, "{method}");
        }
        // The JSON `type` is the name, and the event survives a JSON round trip.
        let json = serde_json::to_value(&ev).unwrap();
        assert_eq!(json["type"], name, "{method}");
        assert_eq!(
            serde_json::from_value::<Event>(json).unwrap(),
            ev,
            "{method}"
        );
    }
    assert_eq!(
        EventKind::from_name("pictionaryStart"),
        Some(EventKind::PictionaryStart)
    );
}

fn text(key: &str, pattern: &str, pieces: Vec<pb::TextPiece>) -> Option<pb::Text> {
    Some(pb::Text {
        key: key.into(),
        default_pattern: pattern.into(),
        pieces,
        ..Default::default()
    })
}

fn string_piece(s: &str) -> pb::TextPiece {
    pb::TextPiece {
        r#type: 1,
        string_value: s.into(),
        ..Default::default()
    }
}

// The Node kinds no real capture shows, each decoded from a message built here with invented
// values, field by field.

#[test]
fn system_toast_notice_and_speaker_decode_their_fields() {
    let m = pb::WebcastSystemMessage {
        common: common("WebcastSystemMessage"),
        message: "Welcome to the LIVE".into(),
    };
    let Event::System(e) = decode("WebcastSystemMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!(e.message, "Welcome to the LIVE");

    let mut c = common("WebcastToastMessage");
    c.as_mut().unwrap().display_text =
        text("pm_toast", "{0:string} joined", vec![string_piece("Kit")]);
    let m = pb::WebcastToastMessage {
        common: c,
        display_duration_millisecond: 3000,
        delay_display_duration_millisecond: 500,
        scene: "room".into(),
    };
    let Event::Toast(e) = decode("WebcastToastMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!(e.text.render(), "Kit joined");
    assert_eq!(
        (
            e.display_duration_ms,
            e.delay_display_duration_ms,
            e.scene.as_str()
        ),
        (3000, 500, "room")
    );

    let m = pb::WebcastNoticeMessage {
        common: common("WebcastNoticeMessage"),
        content: "Keep it friendly".into(),
        notice_type: 4,
        title: text("pm_notice_title", "Community guidelines", vec![]),
        tips_url: "https://example.invalid/rules".into(),
        scene: "live".into(),
        ..Default::default()
    };
    let Event::Notice(e) = decode("WebcastNoticeMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!(e.content, "Keep it friendly");
    assert_eq!(e.notice_type, 4);
    assert_eq!(e.title.key, "pm_notice_title");
    assert_eq!(e.tips_url, "https://example.invalid/rules");

    let m = pb::WebcastSpeakerMessage {
        common: common("WebcastSpeakerMessage"),
    };
    assert_eq!(
        decode("WebcastSpeakerMessage", m.encode_to_vec()).kind(),
        EventKind::Speaker
    );
}

#[test]
fn gift_panel_prompt_and_restriction_decode_their_fields() {
    let m = pb::WebcastGiftPromptMessage {
        common: common("WebcastGiftPromptMessage"),
        title: "Take a break".into(),
        body: "You sent many gifts today".into(),
        block_num_days: 2,
        order_id: "order-1".into(),
        order_timestamp: 1_700_000_000,
        pop_up_schema: "sslocal://invented".into(),
        ..Default::default()
    };
    let Event::GiftPrompt(e) = decode("WebcastGiftPromptMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!((e.title.as_str(), e.block_num_days), ("Take a break", 2));
    assert_eq!(e.order_id, "order-1");

    let m = pb::WebcastGiftPanelUpdateMessage {
        common: common("WebcastGiftPanelUpdateMessage"),
        room_id: 7_400_000_000_000_000_009,
        timestamp: 1_700_000_000_123,
        ..Default::default()
    };
    let Event::GiftPanelUpdate(e) = decode("WebcastGiftPanelUpdateMessage", m.encode_to_vec())
    else {
        panic!()
    };
    assert_eq!(e.panel_room_id, 7_400_000_000_000_000_009);
    assert_eq!(e.timestamp, 1_700_000_000_123);

    let m = pb::WebcastGiftDynamicRestrictionMessage {
        common: common("WebcastGiftDynamicRestrictionMessage"),
        dynamic_restriction: Some(pb::DynamicRestriction {
            scenes: Some(pb::SceneRestriction {
                normal_hidden_gids: vec![5655],
                match_hidden_gids: vec![1, 2],
                ..Default::default()
            }),
            receivers: vec![pb::ReceiverRestriction {
                user_id: 99,
                hidden_gids: vec![7934],
            }],
        }),
    };
    let Event::GiftDynamicRestriction(e) =
        decode("WebcastGiftDynamicRestrictionMessage", m.encode_to_vec())
    else {
        panic!()
    };
    assert_eq!(e.normal_hidden_gift_ids, vec![5655]);
    assert_eq!(e.match_hidden_gift_ids, vec![1, 2]);
    assert_eq!(e.receivers[0].user_id, 99);
    assert_eq!(e.receivers[0].hidden_gift_ids, vec![7934]);
}

#[test]
fn guide_game_intro_and_game_rank_decode_their_fields() {
    let m = pb::WebcastGuideMessage {
        common: common("WebcastGuideMessage"),
        guide_type: 3,
        gift_id: 5655,
        description: "Send a Rose to vote".into(),
        duration: 5,
        display_style: 1,
        scene: "poll".into(),
    };
    let Event::Guide(e) = decode("WebcastGuideMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!((e.guide_type, e.gift_id), (3, 5655));
    assert_eq!(e.description, "Send a Rose to vote");

    let m = pb::WebcastLiveGameIntroMessage {
        common: common("WebcastLiveGameIntroMessage"),
        content: text("pm_game_intro", "Playing chess", vec![]),
        has_rank_info: true,
    };
    let Event::LiveGameIntro(e) = decode("WebcastLiveGameIntroMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!(e.content.pattern, "Playing chess");
    assert!(e.has_rank_info);

    let m = pb::WebcastGameRankNotifyMessage {
        common: common("WebcastGameRankNotifyMessage"),
        msg_type: 1,
        notify_text: text("", "Now No. {0:string}", vec![string_piece("3")]),
    };
    let Event::GameRankNotify(e) = decode("WebcastGameRankNotifyMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!(e.msg_type, 1);
    assert_eq!(e.text.render(), "Now No. 3");
}

#[test]
fn access_control_partnerships_and_boosts_decode_their_fields() {
    let m = pb::WebcastAccessControlMessage {
        common: common("WebcastAccessControlMessage"),
        captcha: Some(pb::AccessControlCaptcha {
            captcha_record_id: 4242,
            room_id: 1,
            verify_duration_in_sec: 60,
        }),
    };
    let Event::AccessControl(e) = decode("WebcastAccessControlMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!((e.captcha_record_id, e.verify_duration_secs), (4242, 60));

    let m = pb::WebcastPartnershipPunishMessage {
        common: common("WebcastPartnershipPunishMessage"),
        punish_info: Some(pb::PunishEventInfo {
            punish_type: "ban".into(),
            punish_reason: "INVENTED_REASON".into(),
            violation_uid_str: "6900000000000000042".into(),
            punish_type_id: 25,
            ..Default::default()
        }),
    };
    let Event::PartnershipPunish(e) = decode("WebcastPartnershipPunishMessage", m.encode_to_vec())
    else {
        panic!()
    };
    let p = e.punish.unwrap();
    assert_eq!(p.reason, "INVENTED_REASON");
    assert_eq!(
        p.violation_user_id, 6_900_000_000_000_000_042,
        "read from the string id"
    );
    assert_eq!(p.punish_type_id, 25);

    let m = pb::WebcastPartnershipGameOfflineMessage {
        common: common("WebcastPartnershipGameOfflineMessage"),
        offline_game_list: vec![pb::OfflineGameInfo {
            task_id: "t1".into(),
            game_id: "g1".into(),
            toast_title: "Task over".into(),
            offline_type: 2,
            ..Default::default()
        }],
    };
    let Event::PartnershipGameOffline(e) =
        decode("WebcastPartnershipGameOfflineMessage", m.encode_to_vec())
    else {
        panic!()
    };
    assert_eq!(e.games[0].game_id, "g1");
    assert_eq!(e.games[0].offline_type, 2);

    let m = pb::WebcastBoostCardMessage {
        common: common("WebcastBoostCardMessage"),
        cards: vec![pb::BoostCard {
            m_card_id: 11,
            task_source: 1,
            task_id: 12,
        }],
    };
    let Event::BoostCard(e) = decode("WebcastBoostCardMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!((e.cards[0].card_id, e.cards[0].task_id), (11, 12));
}

#[test]
fn link_state_layout_and_viewer_picks_decode_their_fields() {
    let m = pb::WebcastLinkStateMessage {
        common: common("WebcastLinkStateMessage"),
        channel_id: 555,
        scene: 4,
        version: 9,
        state_type: 3,
        layout: Some(pb::LinkLayoutState {
            layout_id: "grid-4".into(),
            layout_key: "grid".into(),
        }),
        user_states: vec![pb::LinkUserState {
            user: Some(pb::LinkPlayer {
                room_id: 1,
                user_id: 77,
            }),
            linkmic_id: "lm-77".into(),
            audio_muted: 2,
            ..Default::default()
        }],
        ..Default::default()
    };
    let Event::LinkState(e) = decode("WebcastLinkStateMessage", m.encode_to_vec()) else {
        panic!()
    };
    assert_eq!(
        (e.channel_id, e.scene, e.version, e.state_type),
        (555, 4, 9, 3)
    );
    assert_eq!(e.layout_id, "grid-4");
    assert_eq!(e.users[0].user_id, 77);
    assert_eq!(e.users[0].linkmic_id, "lm-77");

    let m = pb::WebcastLinkMicLayoutStateMessage {
        common: common("WebcastLinkMicLayoutStateMessage"),
        channel_id: 556,
        scene: 2,
        version: 3,
    };
    let Event::LinkMicLayoutState(e) =
        decode("WebcastLinkMicLayoutStateMessage", m.encode_to_vec())
    else {
        panic!()
    };
    assert_eq!((e.channel_id, e.scene, e.version), (556, 2, 3));

    let m = pb::WebcastViewerPicksUpdateMessage {
        common: common("WebcastViewerPicksUpdateMessage"),
        update_type: 2,
        info: Some(pb::ViewerPicksInfo {
            viewer_picks_id: 31,
            status: 1,
            round_duration_sec: 300,
            gift_pick_list: vec![pb::GiftPickWithScore {
                gift_pick: Some(pb::GiftPick {
                    gift_id: 5655,
                    customized_desc: "Sing a song".into(),
                    gift_price: 1,
                    gift_pick_id: 8,
                    ..Default::default()
                }),
                score: 40,
            }],
            ..Default::default()
        }),
    };
    let Event::ViewerPicksUpdate(e) = decode("WebcastViewerPicksUpdateMessage", m.encode_to_vec())
    else {
        panic!()
    };
    assert_eq!(
        (e.update_type, e.picks_id, e.round_duration_secs),
        (2, 31, 300)
    );
    assert_eq!(e.picks[0].gift_id, 5655);
    assert_eq!(e.picks[0].description, "Sing a song");
    assert_eq!(e.picks[0].score, 40);
}

#[test]
fn display_text_pieces_keep_users_gifts_and_strings_in_order() {
    let mut c = common("WebcastRoomNotifyMessage");
    c.as_mut().unwrap().display_text = text(
        "pm_mt_live_gift_platform_announcement",
        "{0:user} sent {1:gift} to {2:user}",
        vec![
            pb::TextPiece {
                r#type: 11,
                user_value: Some(pb::TextPieceUser {
                    user: Some(pb::User {
                        id: 1,
                        nickname: "River".into(),
                        ..Default::default()
                    }),
                    with_colon: false,
                }),
                ..Default::default()
            },
            pb::TextPiece {
                r#type: 12,
                gift_value: Some(pb::TextPieceGift {
                    gift_id: 9101,
                    name_ref: Some(pb::TextPiecePatternRef {
                        key: "live_gift_9101".into(),
                        default_pattern: "Lion".into(),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            },
            pb::TextPiece {
                r#type: 11,
                user_value: Some(pb::TextPieceUser {
                    user: Some(pb::User {
                        id: 2,
                        display_id: "otter_host".into(),
                        ..Default::default()
                    }),
                    with_colon: false,
                }),
                ..Default::default()
            },
        ],
    );
    let m = pb::WebcastRoomNotifyMessage {
        common: c,
        ..Default::default()
    };
    let Event::RoomNotify(e) = decode("WebcastRoomNotifyMessage", m.encode_to_vec()) else {
        panic!()
    };
    let pieces = &e.notice.text.pieces;
    assert!(matches!(&pieces[0], TextPiece::User(u) if u.id == 1));
    assert!(matches!(&pieces[1], TextPiece::Gift { gift_id: 9101, name } if name == "Lion"));
    assert_eq!(e.notice.text.render(), "River sent Lion to otter_host");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any bytes under any typed method give an event or a typed error naming the method.
    #[test]
    fn arbitrary_bytes_never_panic_any_typed_method(
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        for &(method, _) in NODE_METHODS.iter().chain(OBSERVED_METHODS) {
            match decode_payload(method, &bytes) {
                Ok(ev) => prop_assert_eq!(ev.meta().method.as_str(), method),
                Err(e) => prop_assert_eq!(e.method(), method),
            }
        }
    }

    /// Rendering a display text never panics, whatever its pattern and pieces.
    #[test]
    fn rendering_any_display_text_never_panics(
        pattern in ".{0,64}",
        strings in proptest::collection::vec(".{0,8}", 0..4),
    ) {
        let text = ttlive_eventbus::DisplayText {
            pattern,
            pieces: strings.into_iter().map(TextPiece::String).collect(),
            ..Default::default()
        };
        let _ = text.render();
    }

    /// A well-formed header followed by arbitrary bytes: same promise.
    #[test]
    fn header_then_garbage_never_panics(
        tail in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        for &(method, _) in NODE_METHODS.iter().chain(OBSERVED_METHODS) {
            let mut bytes = pb::MessageHeader { common: common(method) }.encode_to_vec();
            bytes.extend_from_slice(&tail);
            let _ = decode_payload(method, &bytes);
        }
    }
}
