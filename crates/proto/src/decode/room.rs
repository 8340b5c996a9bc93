//! Room stats, ranks and notices: viewer counts, system texts, the intro, ranks and rank
//! rewards, polls, captions, notices, toasts, banners and prompts, the streamed game, the
//! topic, stickers, viewer picks and the drawing game.

use ttlive_eventbus as ev;
use ttlive_eventbus::Event;

use super::shared::{common_text, meta, opt_image, opt_user, punish, room_notice, text, user};
use crate::webcast as pb;

pub(super) fn room_user(m: pb::WebcastRoomUserSeqMessage, method: &str) -> Event {
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
        // Filled by the pipeline's aggregates.
        viewer_peak: None,
    })
}

pub(super) fn poll(m: pb::WebcastPollMessage, method: &str) -> Event {
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

pub(super) fn rank_update(m: pb::WebcastRankUpdateMessage, method: &str) -> Event {
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

pub(super) fn caption(m: pb::WebcastCaptionMessage, method: &str) -> Event {
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

pub(super) fn room_message(m: pb::WebcastRoomMessage, method: &str) -> Event {
    Event::RoomMessage(ev::RoomMessageEvent {
        meta: meta(m.common.as_ref(), method),
        content: m.content,
    })
}

pub(super) fn live_intro(m: pb::WebcastLiveIntroMessage, method: &str) -> Event {
    Event::LiveIntro(ev::LiveIntroEvent {
        meta: meta(m.common.as_ref(), method),
        user: opt_user(m.user),
        content: m.content,
        language: m.content_language,
    })
}

pub(super) fn system(m: pb::WebcastSystemMessage, method: &str) -> Event {
    Event::System(ev::SystemEvent {
        meta: meta(m.common.as_ref(), method),
        message: m.message,
    })
}

pub(super) fn rank_text(m: pb::WebcastRankTextMessage, method: &str) -> Event {
    Event::RankText(ev::RankTextEvent {
        meta: meta(m.common.as_ref(), method),
        scene: m.scene,
        owner_idx_before_update: m.owner_idx_before_update,
        owner_idx_after_update: m.owner_idx_after_update,
        self_text: text(m.self_get_badge_msg),
        other_text: text(m.other_get_badge_msg),
        cur_user_id: m.cur_user_id as u64,
        content: text(m.content),
        rank_type: m.rank_type,
    })
}

fn border(b: pb::BorderInfo) -> ev::AvatarBorder {
    ev::AvatarBorder {
        icon: opt_image(b.icon),
        level: b.level,
        source: b.source,
    }
}

pub(super) fn hourly_rank(m: pb::WebcastHourlyRankRewardMessage, method: &str) -> Event {
    Event::HourlyRank(ev::HourlyRankEvent {
        meta: meta(m.common.as_ref(), method),
        winners: m
            .winners
            .into_iter()
            .map(|w| ev::RankWinner {
                user_id: w.user_id as u64,
                asset_id: w.asset_id as u64,
                notice: w.notify.map(room_notice),
                border: w.avatar_border.map(border),
            })
            .collect(),
    })
}

pub(super) fn weekly_rank_reward(m: pb::WebcastWeeklyRankRewardMessage, method: &str) -> Event {
    Event::WeeklyRankReward(ev::WeeklyRankRewardEvent {
        meta: meta(m.common.as_ref(), method),
        border: m.border.map(border),
        notice: m.notify.map(room_notice),
    })
}

pub(super) fn room_notify(m: pb::WebcastRoomNotifyMessage, method: &str) -> Event {
    Event::RoomNotify(ev::RoomNotifyEvent {
        meta: meta(m.common.as_ref(), method),
        notice: room_notice(m),
    })
}

pub(super) fn notice(m: pb::WebcastNoticeMessage, method: &str) -> Event {
    Event::Notice(ev::NoticeEvent {
        meta: meta(m.common.as_ref(), method),
        content: m.content,
        notice_type: m.notice_type,
        style: m.style,
        title: text(m.title),
        violation_reason: text(m.violation_reason),
        display_text: text(m.display_text),
        tips_title: text(m.tips_title),
        tips_url: m.tips_url,
        notice_title: text(m.notice_title),
        notice_content: text(m.notice_content),
        scene: m.scene,
    })
}

pub(super) fn toast(m: pb::WebcastToastMessage, method: &str) -> Event {
    Event::Toast(ev::ToastEvent {
        meta: meta(m.common.as_ref(), method),
        text: common_text(m.common),
        display_duration_ms: m.display_duration_millisecond,
        delay_display_duration_ms: m.delay_display_duration_millisecond,
        scene: m.scene,
    })
}

pub(super) fn bottom(m: pb::WebcastBottomMessage, method: &str) -> Event {
    Event::BottomMessage(ev::BottomMessageEvent {
        meta: meta(m.common.as_ref(), method),
        text: common_text(m.common),
        content: m.content,
        show_type: m.show_type,
        duration: m.duration,
        biz_type: m.biz_type,
        violation_user_id: m.violation_user_id as u64,
        punish: punish(m.punish_info),
        detail_url: m.detail_url,
    })
}

pub(super) fn capsule(m: pb::WebcastCapsuleMessage, method: &str) -> Event {
    Event::Capsule(ev::CapsuleEvent {
        meta: meta(m.common.as_ref(), method),
        icon: opt_image(m.icon),
        description: text(m.desc),
        button_text: text(m.button_text),
        schema: m.schema,
        capsule_type: m.r#type,
        scene: m.scene,
        sub_scene: m.sub_scene,
    })
}

pub(super) fn in_room_banner(m: pb::WebcastInRoomBannerMessage, method: &str) -> Event {
    Event::InRoomBanner(ev::InRoomBannerEvent {
        meta: meta(m.common.as_ref(), method),
        json: m.json,
    })
}

pub(super) fn marquee(m: pb::WebcastMarqueeAnnouncementMessage, method: &str) -> Event {
    Event::MarqueeAnnouncement(ev::MarqueeAnnouncementEvent {
        meta: meta(m.common.as_ref(), method),
        scene: m.message_scene,
        notices: m
            .message_entity
            .into_iter()
            .filter_map(|e| e.notify)
            .map(room_notice)
            .collect(),
    })
}

pub(super) fn live_game_intro(m: pb::WebcastLiveGameIntroMessage, method: &str) -> Event {
    Event::LiveGameIntro(ev::LiveGameIntroEvent {
        meta: meta(m.common.as_ref(), method),
        content: text(m.content),
        has_rank_info: m.has_rank_info,
    })
}

pub(super) fn game_rank_notify(m: pb::WebcastGameRankNotifyMessage, method: &str) -> Event {
    Event::GameRankNotify(ev::GameRankNotifyEvent {
        meta: meta(m.common.as_ref(), method),
        msg_type: m.msg_type,
        text: text(m.notify_text),
    })
}

pub(super) fn guide(m: pb::WebcastGuideMessage, method: &str) -> Event {
    Event::Guide(ev::GuideEvent {
        meta: meta(m.common.as_ref(), method),
        guide_type: m.guide_type,
        gift_id: m.gift_id as u64,
        description: m.description,
        duration: m.duration,
        display_style: m.display_style,
        scene: m.scene,
    })
}

pub(super) fn speaker(m: pb::WebcastSpeakerMessage, method: &str) -> Event {
    Event::Speaker(ev::SpeakerEvent {
        meta: meta(m.common.as_ref(), method),
    })
}

pub(super) fn hashtag(m: pb::WebcastHashtagMessage, method: &str) -> Event {
    let tag = m.hashtag.unwrap_or_default();
    Event::Hashtag(ev::HashtagEvent {
        meta: meta(m.common.as_ref(), method),
        hashtag_id: tag.id as u64,
        title: tag.title,
        text: common_text(m.common),
        image: opt_image(tag.image),
    })
}

pub(super) fn sub_timer_sticker(m: pb::WebcastSubTimerStickerMessage, method: &str) -> Event {
    let s = m.sticker.unwrap_or_default();
    Event::SubTimerSticker(ev::SubTimerStickerEvent {
        meta: meta(m.common.as_ref(), method),
        sticker_id: s.sticker_id as u64,
        text: s.text,
        duration_secs: s.duration,
        remaining_secs: s.remaining,
        update_time: s.update_time,
    })
}

pub(super) fn viewer_picks(m: pb::WebcastViewerPicksUpdateMessage, method: &str) -> Event {
    let info = m.info.unwrap_or_default();
    Event::ViewerPicksUpdate(ev::ViewerPicksUpdateEvent {
        meta: meta(m.common.as_ref(), method),
        update_type: m.update_type,
        picks_id: info.viewer_picks_id as u64,
        status: info.status,
        round_duration_secs: info.round_duration_sec,
        start_time_ms: info.start_time_ms,
        end_time_ms: info.end_time_ms,
        picks: info
            .gift_pick_list
            .into_iter()
            .map(|p| {
                let pick = p.gift_pick.unwrap_or_default();
                ev::ViewerPick {
                    gift_id: pick.gift_id as u64,
                    description: pick.customized_desc,
                    gift_price: pick.gift_price,
                    pick_id: pick.gift_pick_id as u64,
                    score: p.score,
                }
            })
            .collect(),
    })
}

pub(super) fn pictionary_start(m: pb::WebcastPictionaryStartMessage, method: &str) -> Event {
    let round = m.round.unwrap_or_default();
    Event::PictionaryStart(ev::PictionaryStartEvent {
        meta: meta(m.common.as_ref(), method),
        round_id: round.round_id as u64,
        game_id: round.game_id as u64,
        start_time: round.start_time,
        end_time: round.end_time,
    })
}

pub(super) fn pictionary_update(m: pb::WebcastPictionaryUpdateMessage, method: &str) -> Event {
    Event::PictionaryUpdate(ev::PictionaryUpdateEvent {
        meta: meta(m.common.as_ref(), method),
        round_id: m.round_id as u64,
    })
}

pub(super) fn pictionary_end(m: pb::WebcastPictionaryEndMessage, method: &str) -> Event {
    Event::PictionaryEnd(ev::PictionaryEndEvent {
        meta: meta(m.common.as_ref(), method),
        round_id: m.round_id as u64,
        word: m.word,
    })
}

pub(super) fn pictionary_exit(m: pb::WebcastPictionaryExitMessage, method: &str) -> Event {
    Event::PictionaryExit(ev::PictionaryExitEvent {
        meta: meta(m.common.as_ref(), method),
        game_id: m.game_id as u64,
    })
}
