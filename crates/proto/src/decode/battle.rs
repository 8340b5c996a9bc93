//! Battles and co-hosting (link mic): battles, scores, tasks, cards, punishments, notices, and
//! the co-host and multi-guest signalling.

use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use super::shared::{first_url, meta, opt_user, text, user};
use crate::webcast as pb;

/// A host in a battle, from its wrapper's key (the user id) and info.
fn battle_anchor(key: i64, info: Option<pb::BattleUserInfo>) -> ev::BattleAnchor {
    let base = info.and_then(|v| v.user).unwrap_or_default();
    ev::BattleAnchor {
        user_id: if base.user_id != 0 { base.user_id } else { key } as u64,
        profile_picture_url: first_url(base.avatar_thumb.as_ref()),
        unique_id: base.display_id,
        nickname: base.nick_name,
        room_id: (base.room_id != 0).then_some(base.room_id as u64),
    }
}

pub(super) const BATTLE_ACTIONS: [&str; 12] = [
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

pub(super) fn battle(m: pb::WebcastLinkMicBattle, method: &str) -> Event {
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
            .map(|w| battle_anchor(w.key, w.value))
            .collect(),
        results,
    })
}

pub(super) fn armies(m: pb::WebcastLinkMicArmies, method: &str) -> Event {
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

pub(super) fn link_mic_method(m: pb::WebcastLinkMicMethod, method: &str) -> Event {
    Event::LinkMicMethod(ev::LinkMicMethodEvent {
        meta: meta(m.common.as_ref(), method),
        message_type: m.message_type,
        user_id: m.user_id as u64,
        channel_id: m.channel_id as u64,
        fan_ticket: m.fan_ticket,
        total_linkmic_fan_ticket: m.total_linkmic_fan_ticket,
    })
}

pub(super) fn link_mic_fan_ticket(m: pb::WebcastLinkMicFanTicketMethod, method: &str) -> Event {
    Event::LinkMicFanTicketMethod(ev::LinkMicFanTicketEvent {
        meta: meta(m.common.as_ref(), method),
    })
}

pub(super) fn punish_finish(m: pb::WebcastLinkMicBattlePunishFinish, method: &str) -> Event {
    let settings = m.battle_settings.unwrap_or_default();
    Event::LinkMicBattlePunishFinish(ev::LinkMicBattlePunishFinishEvent {
        meta: meta(m.common.as_ref(), method),
        battle_id: if m.battle_id != 0 {
            m.battle_id
        } else {
            settings.battle_id
        } as u64,
        channel_id: m.channel_id as u64,
        operator_user_id: m.op_uid as u64,
        reason: match m.reason {
            0 => "time_up",
            1 => "cut_short",
            _ => "other",
        }
        .to_owned(),
        reason_id: m.reason,
        status: settings.status,
    })
}

pub(super) fn battle_task(m: pb::WebcastLinkmicBattleTaskMessage, method: &str) -> Event {
    let config = m.start.and_then(|s| s.config).unwrap_or_default();
    let target = config.target_config;
    let reward = config.reward_config;
    let update = m.task_update.unwrap_or_default();
    Event::LinkMicBattleTask(ev::LinkMicBattleTaskEvent {
        meta: meta(m.common.as_ref(), method),
        battle_id: m.battle_id as u64,
        task: match m.task_message_type {
            0 => "start",
            1 => "update",
            2 => "settle",
            3 => "reward",
            _ => "other",
        }
        .to_owned(),
        task_id: m.task_message_type,
        progress_target: target.as_ref().map(|t| t.progress_target),
        target_duration_secs: target.as_ref().map(|t| t.duration),
        reward_multiple: reward.as_ref().map(|r| r.reward_multiple),
        reward_duration_secs: reward.as_ref().map(|r| r.duration),
        progress: (m.task_message_type == 1).then_some(update.progress),
        from_user_id: update.from_user_id as u64,
        prompt_key: update.prompt_key,
        result: m.task_settle.map(|s| {
            match s.result {
                0 => "succeeded",
                1 => "failed",
                2 => "both_succeeded",
                _ => "other",
            }
            .to_owned()
        }),
        reward_succeeded: m.reward.map(|r| r.status == 0),
    })
}

const CARD_ACTIONS: [&str; 13] = [
    "other",
    "card_obtain_guide",
    "use_critical_strike_card",
    "use_smoke_card",
    "award_card_notice",
    "use_extra_time_card",
    "use_special_effect_card",
    "use_potion_card",
    "use_wave_card",
    "special_effect_notice",
    "use_top2_card",
    "use_top3_card",
    "use_vault_glove_card",
];

pub(super) fn item_card(m: pb::WebcastLinkMicBattleItemCard, method: &str) -> Event {
    let meta = meta(m.common.as_ref(), method);
    // Whichever "card used" content the message carries (they share one layout).
    let used = [
        m.use_critical_strike_card,
        m.use_smoke_card,
        m.use_extra_time_card,
        m.use_special_effect_card,
        m.use_potion_card,
        m.use_wave_card,
        m.use_top2_card,
        m.use_top3_card,
        m.use_vault_glove_card,
    ]
    .into_iter()
    .flatten()
    .next();
    let award = m.award_card_notice;
    let effect = m.special_effect_notice.unwrap_or_default();
    let (anchor_id, used_text) = match used {
        Some(u) => (u.anchor_id as u64, u.display_content),
        None => (0, None),
    };
    let (award_text, awarded) = match award {
        Some(a) => (a.display_content, a.awarded_users),
        None => (None, Vec::new()),
    };
    Event::LinkMicBattleItemCard(ev::LinkMicBattleItemCardEvent {
        meta,
        battle_id: m.battle_id as u64,
        action: usize::try_from(m.msg_type)
            .ok()
            .and_then(|i| CARD_ACTIONS.get(i))
            .copied()
            .unwrap_or("other")
            .to_owned(),
        action_id: m.msg_type,
        anchor_id,
        text: text(used_text.or(award_text)),
        awarded: awarded
            .into_iter()
            .map(|u| battle_anchor(0, Some(u)))
            .collect(),
        effect_score: effect.score,
        from_user_id: effect.from_user_id as u64,
        to_anchor_id: effect.to_anchor_id as u64,
    })
}

pub(super) fn battle_notice(m: pb::WebcastLinkmicBattleNoticeMessage, method: &str) -> Event {
    let guide = m.guide.unwrap_or_default();
    let plain = |t: Option<pb::PlainText>| t.map(|t| t.text).unwrap_or_default();
    Event::LinkMicBattleNotice(ev::LinkMicBattleNoticeEvent {
        meta: meta(m.common.as_ref(), method),
        notice_type: m.notice_type,
        content: text(m.notice.and_then(|n| n.content)),
        text: plain(guide.text),
        button_text: plain(guide.button),
        url: guide.url,
    })
}

fn link_users(users: Vec<pb::LinkListUser>) -> Vec<ev::LinkUser> {
    users
        .into_iter()
        .map(|u| ev::LinkUser {
            user: u.user.map(user).unwrap_or_default(),
            linkmic_id: u.linkmic_id_str,
            link_type: u.link_type,
            role_type: u.role_type,
        })
        .collect()
}

pub(super) fn link_message(m: pb::WebcastLinkMessage, method: &str) -> Event {
    let mut event = ev::LinkMessageEvent {
        meta: meta(m.common.as_ref(), method),
        message_type: m.message_type,
        linker_id: m.linker_id as u64,
        scene: m.scene,
        ..ev::LinkMessageEvent::default()
    };
    if let Some(c) = m.invite_content {
        event.from_user_id = c.from_user_id as u64;
        event.from_room_id = c.from_room_id as u64;
        event.from_user = opt_user(c.from_user);
    }
    if let Some(c) = m.reply_content {
        event.from_user_id = c.from_user_id as u64;
        event.from_room_id = c.from_room_id as u64;
        event.from_user = opt_user(c.from_user);
        event.to_user_id = c.to_user_id as u64;
        event.reply_status = Some(c.reply_status);
    }
    if let Some(c) = m.cancel_content {
        event.from_user_id = c.from_user_id as u64;
        event.to_user_id = c.to_user_id as u64;
    }
    if let Some(c) = m.kick_out_content {
        event.from_user_id = c.from_user_id as u64;
        event.kickout_reason = Some(c.kickout_reason);
    }
    if let Some(c) = m.leave_content {
        event.leave_user_id = c.user_id as u64;
    }
    if let Some(c) = m.list_change_content {
        event.linked_users = link_users(c.linked_users);
        event.applied_users = link_users(c.applied_users);
        event.connecting_users = link_users(c.connecting_users);
    }
    Event::LinkMessage(event)
}

fn player(p: Option<pb::LinkPlayer>, linkmic_id: String) -> Option<ev::LinkPlayer> {
    p.map(|p| ev::LinkPlayer {
        user_id: p.user_id as u64,
        room_id: p.room_id as u64,
        linkmic_id,
        user_type: 0,
    })
}

fn players(list: Vec<pb::LinkLayerListUser>) -> Vec<ev::LinkPlayer> {
    list.into_iter()
        .filter_map(|u| {
            let user_type = u.user_type;
            player(u.user, u.linkmic_id).map(|mut p| {
                p.user_type = user_type;
                p
            })
        })
        .collect()
}

pub(super) fn link_layer(m: pb::WebcastLinkLayerMessage, method: &str) -> Event {
    let mut event = ev::LinkLayerEvent {
        meta: meta(m.common.as_ref(), method),
        message_type: m.message_type,
        channel_id: m.channel_id as u64,
        scene: m.scene,
        source: m.source,
        ..ev::LinkLayerEvent::default()
    };
    if let Some(c) = m.create_channel_content {
        event.player = player(c.owner, c.owner_link_mic_id);
    }
    if let Some(c) = m.invite_content {
        event.player = player(c.invitor, c.invitor_link_mic_id);
        event.invitee = player(c.invitee, c.invitee_link_mic_id);
    }
    if let Some(c) = m.apply_content {
        event.player = player(c.applier, c.applier_link_mic_id);
    }
    if let Some(c) = m.reply_invite_content {
        event.player = player(c.invitee, c.invitee_link_mic_id);
        event.reply_status = Some(c.reply_status);
    }
    if let Some(c) = m.kick_out_content {
        event.player = player(c.offliner, String::new());
        event.reason = Some(i64::from(c.kickout_reason));
    }
    if let Some(c) = m.leave_content {
        event.player = player(c.leaver, String::new());
        event.reason = Some(c.leave_reason);
    }
    if let Some(c) = m.finish_content {
        event.player = player(c.owner, String::new());
        event.reason = Some(c.finish_reason);
    }
    if let Some(list) = m.list_change_content.and_then(|c| c.list) {
        event.linked = players(list.linked_list);
        event.applied = players(list.applied_list);
        event.invited = players(list.invited_list);
        event.ready = players(list.ready_list);
    }
    Event::LinkLayer(event)
}

pub(super) fn link_state(m: pb::WebcastLinkStateMessage, method: &str) -> Event {
    let layout = m.layout.unwrap_or_default();
    Event::LinkState(ev::LinkStateEvent {
        meta: meta(m.common.as_ref(), method),
        channel_id: m.channel_id as u64,
        scene: m.scene,
        version: m.version,
        state_type: m.state_type,
        layout_id: layout.layout_id,
        layout_key: layout.layout_key,
        users: m
            .user_states
            .into_iter()
            .filter_map(|s| player(s.user, s.linkmic_id))
            .collect(),
    })
}

pub(super) fn link_mic_layout_state(
    m: pb::WebcastLinkMicLayoutStateMessage,
    method: &str,
) -> Event {
    Event::LinkMicLayoutState(ev::LinkMicLayoutStateEvent {
        meta: meta(m.common.as_ref(), method),
        channel_id: m.channel_id as u64,
        scene: m.scene,
        version: m.version,
    })
}
