//! Chat, social and Q&A: comments, emotes, joins, likes, follows and shares, subscriptions,
//! questions, banners, pinned messages and pinned subscriber cards.

use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use super::shared::{
    apply_identity, display_key, emote_model, meta, number_after, opt_user, text, user,
};
use crate::webcast as pb;

pub(super) fn chat(m: pb::WebcastChatMessage, method: &str) -> ev::ChatEvent {
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

pub(super) fn member(m: pb::WebcastMemberMessage, method: &str) -> Event {
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

pub(super) fn like(m: pb::WebcastLikeMessage, method: &str) -> Event {
    Event::Like(ev::LikeEvent {
        meta: meta(m.common.as_ref(), method),
        user: m.user.map(user).unwrap_or_default(),
        count: m.count.max(0) as u32,
        total: m.total.max(0) as u64,
        // Filled by the pipeline's aggregates.
        user_total: None,
        room_total: None,
    })
}

pub(super) fn social(m: pb::WebcastSocialMessage, method: &str) -> Event {
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

pub(super) fn subscribe(m: pb::WebcastSubNotifyMessage, method: &str) -> Event {
    Event::Subscribe(ev::SubscribeEvent {
        meta: meta(m.common.as_ref(), method),
        user: m.user.map(user).unwrap_or_default(),
        sub_month: m.sub_month.clamp(0, i64::from(u32::MAX)) as u32,
        subscribe_type: m.subscribe_type,
        old_subscribe_status: m.old_subscribe_status,
        subscribing_status: m.subscribing_status,
    })
}

pub(super) fn question(m: pb::WebcastQuestionNewMessage, method: &str) -> Event {
    let q = m.data.unwrap_or_default();
    Event::QuestionNew(ev::QuestionNewEvent {
        meta: meta(m.common.as_ref(), method),
        user: opt_user(q.user),
        question_id: q.question_id as u64,
        content: q.content,
    })
}

pub(super) fn emote(m: pb::WebcastEmoteChatMessage, method: &str) -> Event {
    let mut u = m.user.map(user).unwrap_or_default();
    apply_identity(&mut u, m.user_identity.as_ref());
    Event::Emote(ev::EmoteEvent {
        meta: meta(m.common.as_ref(), method),
        user: u,
        emotes: m.emote_list.into_iter().map(emote_model).collect(),
    })
}

pub(super) fn barrage(m: pb::WebcastBarrageMessage, method: &str) -> Event {
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

pub(super) fn room_pin(m: pb::WebcastRoomPinMessage, method: &str) -> Event {
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

pub(super) fn question_selected(m: pb::WebcastQuestionSelectedMessage, method: &str) -> Event {
    let q = m.data.unwrap_or_default();
    Event::QuestionSelected(ev::QuestionSelectedEvent {
        meta: meta(m.common.as_ref(), method),
        user: opt_user(q.user),
        question_id: q.question_id as u64,
        content: q.content,
    })
}

pub(super) fn question_delete(m: pb::WebcastQuestionDeleteMessage, method: &str) -> Event {
    Event::QuestionDelete(ev::QuestionDeleteEvent {
        meta: meta(m.common.as_ref(), method),
        question_id: m.question_id as u64,
    })
}

pub(super) fn question_slide_down(m: pb::WebcastQuestionSlideDownMessage, method: &str) -> Event {
    Event::QuestionSlideDown(ev::QuestionSlideDownEvent {
        meta: meta(m.common.as_ref(), method),
        question_id: m.question_id as u64,
    })
}

pub(super) fn subscription_guide(m: pb::WebcastSubscriptionGuideMessage, method: &str) -> Event {
    Event::SubscriptionGuide(ev::SubscriptionGuideEvent {
        meta: meta(m.common.as_ref(), method),
        content: text(m.content),
        button_text: text(m.button_text),
        schema: m.schema,
        scene: m.scene,
    })
}

pub(super) fn sub_pin(m: pb::WebcastSubPinEventMessage, method: &str) -> Event {
    let card = m.card.unwrap_or_default();
    let plain = |t: Option<pb::SubPinCardText>| t.map(|t| t.content).unwrap_or_default();
    Event::SubPinEvent(ev::SubPinEvent {
        meta: meta(m.common.as_ref(), method),
        action: m.action_type,
        card_id: card.id as u64,
        card_type: card.r#type,
        title: plain(card.title),
        description: plain(card.desc),
        goal: card.goal_pin_card.map(|g| ev::SubGoalCard {
            goal_id: g.goal_id as u64,
            description: plain(g.desc),
            target: g.target,
            progress: g.progress,
        }),
        operator_user_id: m.operator_user_id as u64,
        time_to_live: card.time_to_live,
    })
}

pub(super) fn im_delete(m: pb::WebcastImDeleteMessage, method: &str) -> Event {
    Event::ImDelete(ev::ImDeleteEvent {
        meta: meta(m.common.as_ref(), method),
        delete_msg_ids: m.delete_msg_ids.into_iter().map(|v| v as u64).collect(),
        delete_user_ids: m.delete_user_ids.into_iter().map(|v| v as u64).collect(),
    })
}

pub(super) fn unauthorized_member(m: pb::WebcastUnauthorizedMemberMessage, method: &str) -> Event {
    Event::UnauthorizedMember(ev::UnauthorizedMemberEvent {
        meta: meta(m.common.as_ref(), method),
        action: m.action,
        nickname: m.nick_name,
    })
}
