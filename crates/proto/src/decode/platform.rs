//! Platform notices: moderation and safety, TikTok's delivery probes, game partnerships,
//! shopping and boosts.

use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use super::shared::{meta, punish, text};
use crate::webcast as pb;

pub(super) fn access_control(m: pb::WebcastAccessControlMessage, method: &str) -> Event {
    let captcha = m.captcha.unwrap_or_default();
    Event::AccessControl(ev::AccessControlEvent {
        meta: meta(m.common.as_ref(), method),
        captcha_record_id: captcha.captcha_record_id as u64,
        verify_duration_secs: captcha.verify_duration_in_sec,
    })
}

pub(super) fn access_recall(m: pb::WebcastAccessRecallMessage, method: &str) -> Event {
    Event::AccessRecall(ev::AccessRecallEvent {
        meta: meta(m.common.as_ref(), method),
        status: m.status,
        duration: m.duration,
        end_time: m.end_time,
        scene: m.scene,
        notice: text(m.notice),
        content: text(m.content),
        punish: punish(m.punish_info),
    })
}

pub(super) fn perception(m: pb::WebcastPerceptionMessage, method: &str) -> Event {
    let dialog = m.dialog.unwrap_or_default();
    Event::Perception(ev::PerceptionEvent {
        meta: meta(m.common.as_ref(), method),
        title: text(dialog.title),
        sub_title: text(dialog.sub_title),
        icon_type: dialog.icon_type,
        target_user_id: dialog.target_user_id as u64,
        punish: punish(m.punish_info),
        end_time: i64::from(m.end_time),
        show_violation_warning: m.show_violation_warning,
        toast: text(m.toast),
        float_text: text(m.float_text),
    })
}

pub(super) fn room_verify(m: pb::WebcastRoomVerifyMessage, method: &str) -> Event {
    Event::RoomVerify(ev::RoomVerifyEvent {
        meta: meta(m.common.as_ref(), method),
        action: m.action,
        content: m.content,
        notice_type: m.notice_type,
        close_room: m.close_room,
    })
}

pub(super) fn msg_detect(m: pb::WebcastMsgDetectMessage, method: &str) -> Event {
    let times = m.t_info.unwrap_or_default();
    Event::MsgDetect(ev::MsgDetectEvent {
        meta: meta(m.common.as_ref(), method),
        detect_type: m.d_type,
        trigger_by: m.trigger_by,
        from_region: m.from_region,
        client_start_ms: times.client_start_ms,
        api_recv_time_ms: times.api_recv_time_ms,
        api_send_to_goim_ms: times.api_send_to_goim_ms,
    })
}

pub(super) fn partnership_punish(m: pb::WebcastPartnershipPunishMessage, method: &str) -> Event {
    Event::PartnershipPunish(ev::PartnershipPunishEvent {
        meta: meta(m.common.as_ref(), method),
        punish: punish(m.punish_info),
    })
}

pub(super) fn drops_update(m: pb::WebcastPartnershipDropsUpdateMessage, method: &str) -> Event {
    Event::PartnershipDropsUpdate(ev::PartnershipDropsUpdateEvent {
        meta: meta(m.common.as_ref(), method),
        change_mode: m.change_mode,
        drops_id: m.drops_id,
        task_id: m.task_id,
        event_id: m.event_id,
        anchor_id: m.anchor_uid as u64,
    })
}

pub(super) fn game_offline(m: pb::WebcastPartnershipGameOfflineMessage, method: &str) -> Event {
    Event::PartnershipGameOffline(ev::PartnershipGameOfflineEvent {
        meta: meta(m.common.as_ref(), method),
        games: m
            .offline_game_list
            .into_iter()
            .map(|g| ev::OfflineGame {
                task_id: g.task_id,
                game_id: g.game_id,
                toast_title: g.toast_title,
                toast_text: g.toast_text,
                offline_type: g.offline_type,
                task_type: g.task_type,
            })
            .collect(),
    })
}

pub(super) fn live_shopping(m: pb::WebcastOecLiveShoppingMessage, method: &str) -> Event {
    Event::OecLiveShopping(ev::OecLiveShoppingEvent {
        meta: meta(m.common.as_ref(), method),
        action_type: m.action_type,
        product_count: m.live_product_number,
        product: m.pop_product.map(|p| ev::ShopProduct {
            product_id: p.product_id as u64,
            title: p.title,
            price: p.price,
            image_url: p.image_url,
            open_url: p.open_url,
        }),
        card_type: m.card_type,
    })
}

pub(super) fn boost_card(m: pb::WebcastBoostCardMessage, method: &str) -> Event {
    Event::BoostCard(ev::BoostCardEvent {
        meta: meta(m.common.as_ref(), method),
        cards: m
            .cards
            .into_iter()
            .map(|c| ev::BoostCard {
                card_id: c.m_card_id as u64,
                task_source: c.task_source,
                task_id: c.task_id as u64,
            })
            .collect(),
    })
}
