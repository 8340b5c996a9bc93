//! `ttlive-decode-bench`: our side of the decode comparison with the Node library.
//!
//! ```text
//! ttlive-decode-bench write DIR        # push frames built from the real fixtures -> DIR/*.bin
//! ttlive-decode-bench run DIR [SECS]   # decode them on one thread, print the throughput
//! ```
//!
//! `run` times, over the same frames, one after the other on one thread:
//!
//! * `full`: what a connection does per WebSocket message: push frame → gunzip →
//!   `ProtoMessageFetchResult` → every message into its typed [`Event`]
//!   (`decode_msg_frame_bytes` + `decode_events`, the events collected into a `Vec`);
//! * `gunzip`: only the decompression of the frames' payloads;
//! * `protobuf`: only the protobuf parsing (push frame, fetch result, and every inner message
//!   into its prost type, no conversion) on already decompressed payloads.
//!
//! Each stage runs in passes over all frames for `SECS` seconds (default 5) after one warm-up
//! pass; the fastest pass gives the rate (the least disturbed by other processes). The last line is JSON for `decode_compare.sh`.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use prost::Message as _;
use ttlive_eventbus::Event;
use ttlive_proto::webcast as pb;
use ttlive_proto::{FrameLimits, decode_events, decode_msg_frame_bytes, frame_payload};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("write") => {
            let dir = args.get(1).context("usage: write DIR")?;
            write(Path::new(dir))
        }
        Some("run") => {
            let dir = args.get(1).context("usage: run DIR [SECS]")?;
            let secs: f64 = args.get(2).map_or(Ok(5.0), |s| s.parse())?;
            run(Path::new(dir), Duration::from_secs_f64(secs))
        }
        _ => {
            eprintln!("usage: ttlive-decode-bench write DIR | run DIR [SECS]");
            std::process::exit(2);
        }
    }
}

fn write(dir: &Path) -> anyhow::Result<()> {
    let messages = ttlive_bench::load_messages(&ttlive_bench::fixtures_dir())?;
    let batches = ttlive_bench::batches(&messages);
    let frames = ttlive_bench::push_frames(&batches, true);
    std::fs::create_dir_all(dir)?;
    let mut bytes = 0;
    for (i, f) in frames.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:05}.bin")), f)?;
        bytes += f.len();
    }
    println!(
        "wrote {} frames ({} messages, {} bytes gzip'd) to {}",
        frames.len(),
        messages.len(),
        bytes,
        dir.display()
    );
    Ok(())
}

fn read_frames(dir: &Path) -> anyhow::Result<Vec<Bytes>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    paths.sort();
    anyhow::ensure!(!paths.is_empty(), "no frames in {}", dir.display());
    paths
        .iter()
        .map(|p| Ok(Bytes::from(std::fs::read(p)?)))
        .collect()
}

/// Fastest pass of `f` over all frames, among passes run for `budget` after one warm-up pass.
/// The fastest pass is the estimate least disturbed by other processes on a shared machine.
fn time_passes(budget: Duration, mut f: impl FnMut() -> usize) -> Duration {
    black_box(f());
    let mut passes = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || passes.len() < 3 {
        let t = Instant::now();
        black_box(f());
        passes.push(t.elapsed());
    }
    passes.into_iter().min().unwrap_or_default()
}

/// Parses one inner message into its prost type (the same choice of type as the decoder),
/// without converting it into an event.
fn parse_inner(m: &pb::BaseProtoMessage) -> bool {
    let short = m.method.strip_prefix("Webcast").unwrap_or(&m.method);
    let p = m.payload.as_ref();
    macro_rules! by_short {
        ($($name:literal => $ty:ident),* $(,)?) => {
            match short {
                $($name => pb::$ty::decode(p).map(|v| { black_box(v); }).is_ok(),)*
                _ => pb::MessageHeader::decode(p).map(|v| { black_box(v); }).is_ok(),
            }
        };
    }
    by_short!(
        "ChatMessage" => WebcastChatMessage,
        "GiftMessage" => WebcastGiftMessage,
        "MemberMessage" => WebcastMemberMessage,
        "LikeMessage" => WebcastLikeMessage,
        "SocialMessage" => WebcastSocialMessage,
        "SubNotifyMessage" => WebcastSubNotifyMessage,
        "RoomUserSeqMessage" => WebcastRoomUserSeqMessage,
        "QuestionNewMessage" => WebcastQuestionNewMessage,
        "LinkMicBattle" => WebcastLinkMicBattle,
        "LinkMicArmies" => WebcastLinkMicArmies,
        "EmoteChatMessage" => WebcastEmoteChatMessage,
        "ControlMessage" => WebcastControlMessage,
        "EnvelopeMessage" => WebcastEnvelopeMessage,
        "RoomMessage" => WebcastRoomMessage,
        "LiveIntroMessage" => WebcastLiveIntroMessage,
        "BarrageMessage" => WebcastBarrageMessage,
        "RoomPinMessage" => WebcastRoomPinMessage,
        "GoalUpdateMessage" => WebcastGoalUpdateMessage,
        "PollMessage" => WebcastPollMessage,
        "RankUpdateMessage" => WebcastRankUpdateMessage,
        "CaptionMessage" => WebcastCaptionMessage,
        "ImDeleteMessage" => WebcastImDeleteMessage,
        "LinkMicMethod" => WebcastLinkMicMethod,
        "LinkMicFanTicketMethod" => WebcastLinkMicFanTicketMethod,
        "UnauthorizedMemberMessage" => WebcastUnauthorizedMemberMessage,
        "QuestionSelectedMessage" => WebcastQuestionSelectedMessage,
        "QuestionDeleteMessage" => WebcastQuestionDeleteMessage,
        "QuestionSlideDownMessage" => WebcastQuestionSlideDownMessage,
        "SubscriptionGuideMessage" => WebcastSubscriptionGuideMessage,
        "SubPinEventMessage" => WebcastSubPinEventMessage,
        "GiftBroadcastMessage" => WebcastGiftBroadcastMessage,
        "GiftPromptMessage" => WebcastGiftPromptMessage,
        "GiftPanelUpdateMessage" => WebcastGiftPanelUpdateMessage,
        "GiftDynamicRestrictionMessage" => WebcastGiftDynamicRestrictionMessage,
        "GiftCollectionUpdateMessage" => WebcastGiftCollectionUpdateMessage,
        "DonationStickerModifyMethod" => WebcastDonationStickerModifyMethod,
        "SystemMessage" => WebcastSystemMessage,
        "RankTextMessage" => WebcastRankTextMessage,
        "HourlyRankRewardMessage" => WebcastHourlyRankRewardMessage,
        "WeeklyRankRewardMessage" => WebcastWeeklyRankRewardMessage,
        "RoomNotifyMessage" => WebcastRoomNotifyMessage,
        "NoticeMessage" => WebcastNoticeMessage,
        "ToastMessage" => WebcastToastMessage,
        "BottomMessage" => WebcastBottomMessage,
        "CapsuleMessage" => WebcastCapsuleMessage,
        "InRoomBannerMessage" => WebcastInRoomBannerMessage,
        "MarqueeAnnouncementMessage" => WebcastMarqueeAnnouncementMessage,
        "LiveGameIntroMessage" => WebcastLiveGameIntroMessage,
        "GameRankNotifyMessage" => WebcastGameRankNotifyMessage,
        "GuideMessage" => WebcastGuideMessage,
        "SpeakerMessage" => WebcastSpeakerMessage,
        "HashtagMessage" => WebcastHashtagMessage,
        "SubTimerStickerMessage" => WebcastSubTimerStickerMessage,
        "ViewerPicksUpdateMessage" => WebcastViewerPicksUpdateMessage,
        "PictionaryStartMessage" => WebcastPictionaryStartMessage,
        "PictionaryUpdateMessage" => WebcastPictionaryUpdateMessage,
        "PictionaryEndMessage" => WebcastPictionaryEndMessage,
        "PictionaryExitMessage" => WebcastPictionaryExitMessage,
        "LinkMicBattlePunishFinish" => WebcastLinkMicBattlePunishFinish,
        "LinkmicBattleTaskMessage" => WebcastLinkmicBattleTaskMessage,
        "LinkMicBattleItemCard" => WebcastLinkMicBattleItemCard,
        "LinkmicBattleNoticeMessage" => WebcastLinkmicBattleNoticeMessage,
        "LinkMessage" => WebcastLinkMessage,
        "LinkLayerMessage" => WebcastLinkLayerMessage,
        "LinkStateMessage" => WebcastLinkStateMessage,
        "LinkMicLayoutStateMessage" => WebcastLinkMicLayoutStateMessage,
        "AccessControlMessage" => WebcastAccessControlMessage,
        "AccessRecallMessage" => WebcastAccessRecallMessage,
        "PerceptionMessage" => WebcastPerceptionMessage,
        "RoomVerifyMessage" => WebcastRoomVerifyMessage,
        "MsgDetectMessage" => WebcastMsgDetectMessage,
        "PartnershipPunishMessage" => WebcastPartnershipPunishMessage,
        "PartnershipDropsUpdateMessage" => WebcastPartnershipDropsUpdateMessage,
        "PartnershipGameOfflineMessage" => WebcastPartnershipGameOfflineMessage,
        "OecLiveShoppingMessage" => WebcastOecLiveShoppingMessage,
        "BoostCardMessage" => WebcastBoostCardMessage,
    )
}

fn run(dir: &Path, budget: Duration) -> anyhow::Result<()> {
    let frames = read_frames(dir)?;
    let limits = FrameLimits::default();

    // Correctness first, and the message count: every message becomes an event.
    let mut messages = 0usize;
    let mut errors = 0usize;
    for f in &frames {
        let d = decode_msg_frame_bytes(f.clone(), &limits)?;
        let r = d.result.context("not a msg frame")?;
        for e in decode_events(&r) {
            messages += 1;
            errors += usize::from(e.is_err());
        }
    }

    let full = time_passes(budget, || {
        let mut n = 0;
        for f in &frames {
            let d = decode_msg_frame_bytes(f.clone(), &limits).expect("valid frame");
            if let Some(r) = d.result {
                let events: Vec<Event> = decode_events(&r).filter_map(Result::ok).collect();
                n += events.len();
                black_box(events);
            }
        }
        n
    });

    if std::env::var_os("TTLIVE_BENCH_FULL_ONLY").is_some() {
        // For profiling the full path alone.
        println!(
            "full: {:.0} frames/s",
            frames.len() as f64 / full.as_secs_f64()
        );
        return Ok(());
    }

    let pushed: Vec<pb::WebcastPushFrame> = frames
        .iter()
        .map(|f| ttlive_proto::decode_push_frame_bytes(f.clone()).expect("valid frame"))
        .collect();
    let gunzip = time_passes(budget, || {
        let mut n = 0;
        for f in &pushed {
            n += frame_payload(f, &limits).expect("valid gzip").len();
        }
        n
    });

    let payloads: Vec<Bytes> = pushed
        .iter()
        .map(|f| frame_payload(f, &limits).expect("valid gzip"))
        .collect();
    let protobuf = time_passes(budget, || {
        let mut n = 0;
        for (f, p) in frames.iter().zip(&payloads) {
            black_box(ttlive_proto::decode_push_frame_bytes(f.clone()).expect("valid frame"));
            let r = ttlive_proto::decode_fetch_result_bytes(p.clone()).expect("valid batch");
            n += r.messages.iter().filter(|m| parse_inner(m)).count();
        }
        n
    });

    let secs = full.as_secs_f64();
    let frames_per_s = frames.len() as f64 / secs;
    let msgs_per_s = messages as f64 / secs;
    let gunzip_share = gunzip.as_secs_f64() / secs;
    let protobuf_share = protobuf.as_secs_f64() / secs;
    println!(
        "rust ttlive-proto: {} frames, {} messages ({} decode errors)",
        frames.len(),
        messages,
        errors
    );
    println!(
        "  full path (frame -> typed events): {:.0} frames/s, {:.0} messages/s ({:.1} us/frame)",
        frames_per_s,
        msgs_per_s,
        secs * 1e6 / frames.len() as f64
    );
    println!(
        "  of which gunzip {:.0}%, protobuf parsing {:.0}%, conversion to events {:.0}%",
        gunzip_share * 100.0,
        protobuf_share * 100.0,
        (1.0 - gunzip_share - protobuf_share) * 100.0
    );
    println!(
        "{{\"impl\":\"rust\",\"mode\":\"full\",\"frames\":{},\"messages\":{},\"frames_per_s\":{:.1},\"messages_per_s\":{:.1},\"gunzip_share\":{:.4},\"protobuf_share\":{:.4}}}",
        frames.len(),
        messages,
        frames_per_s,
        msgs_per_s,
        gunzip_share,
        protobuf_share
    );
    Ok(())
}
