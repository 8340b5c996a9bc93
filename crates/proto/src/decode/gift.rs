//! Gifts, goals and treasure: gifts, treasure chests, stream goals, gift broadcasts, the gift
//! panel's own signals, gift collections and donation stickers.

use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use super::shared::{apply_identity, first_url, meta, opt_image, opt_user, room_notice, user};
use crate::webcast as pb;

/// A wire gift description.
pub(super) fn gift_info(g: pb::Gift) -> ev::GiftInfo {
    ev::GiftInfo {
        id: g.id as u64,
        image_url: first_url(g.image.as_ref()).or_else(|| first_url(g.icon.as_ref())),
        name: g.name,
        diamond_count: g.diamond_count.max(0) as u32,
        gift_type: g.r#type,
        describe: g.describe,
    }
}

pub(super) fn gift(m: pb::WebcastGiftMessage, method: &str) -> ev::GiftEvent {
    let mut info = m.gift.map(gift_info).unwrap_or_default();
    if info.id == 0 {
        info.id = m.gift_id as u64;
    }
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

pub(super) fn envelope(m: pb::WebcastEnvelopeMessage, method: &str) -> Event {
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

pub(super) fn goal(m: pb::WebcastGoalUpdateMessage, method: &str) -> Event {
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

pub(super) fn gift_broadcast(m: pb::WebcastGiftBroadcastMessage, method: &str) -> Event {
    Event::GiftBroadcast(ev::GiftBroadcastEvent {
        meta: meta(m.common.as_ref(), method),
        from_user_id: m.from_user_id as u64,
        icon: opt_image(m.left_icon),
        notice: m.notify.map(room_notice),
    })
}

pub(super) fn gift_prompt(m: pb::WebcastGiftPromptMessage, method: &str) -> Event {
    Event::GiftPrompt(ev::GiftPromptEvent {
        meta: meta(m.common.as_ref(), method),
        title: m.title,
        body: m.body,
        block_num_days: m.block_num_days,
        order_id: m.order_id,
        order_timestamp: m.order_timestamp,
        pop_up_schema: m.pop_up_schema,
    })
}

pub(super) fn gift_panel_update(m: pb::WebcastGiftPanelUpdateMessage, method: &str) -> Event {
    Event::GiftPanelUpdate(ev::GiftPanelUpdateEvent {
        meta: meta(m.common.as_ref(), method),
        panel_room_id: m.room_id as u64,
        timestamp: m.timestamp,
    })
}

fn ids(v: Vec<i64>) -> Vec<u64> {
    v.into_iter().map(|id| id as u64).collect()
}

pub(super) fn gift_dynamic_restriction(
    m: pb::WebcastGiftDynamicRestrictionMessage,
    method: &str,
) -> Event {
    let r = m.dynamic_restriction.unwrap_or_default();
    let scenes = r.scenes.unwrap_or_default();
    Event::GiftDynamicRestriction(ev::GiftDynamicRestrictionEvent {
        meta: meta(m.common.as_ref(), method),
        normal_hidden_gift_ids: ids(scenes.normal_hidden_gids),
        match_hidden_gift_ids: ids(scenes.match_hidden_gids),
        cohost_hidden_gift_ids: ids(scenes.cohost_hidden_gids),
        multiguest_hidden_gift_ids: ids(scenes.multiguest_hidden_gids),
        receivers: r
            .receivers
            .into_iter()
            .map(|r| ev::GiftReceiverRestriction {
                user_id: r.user_id as u64,
                hidden_gift_ids: ids(r.hidden_gids),
            })
            .collect(),
    })
}

pub(super) fn gift_collection(m: pb::WebcastGiftCollectionUpdateMessage, method: &str) -> Event {
    Event::GiftCollectionUpdate(ev::GiftCollectionUpdateEvent {
        meta: meta(m.common.as_ref(), method),
        gift: m
            .collection
            .and_then(|c| c.gift)
            .map(gift_info)
            .unwrap_or_default(),
    })
}

pub(super) fn donation_sticker(m: pb::WebcastDonationStickerModifyMethod, method: &str) -> Event {
    let sticker = m.sticker.unwrap_or_default();
    let org = sticker.organisation.unwrap_or_default();
    Event::DonationStickerModify(ev::DonationStickerEvent {
        meta: meta(m.common.as_ref(), method),
        campaign_id: sticker.campaign_id as u64,
        organisation: org.name,
        description: org.description,
        url: org.url,
        donate_url: org.donate_url,
        logo: opt_image(org.logo),
        organisation_id: org.id,
    })
}
