//! The demo recording, ReplaySource, and the eventbus conformance suite.

use std::collections::BTreeSet;
use std::time::Duration;

use ttlive_eventbus::conformance::Conformance;
use ttlive_eventbus::{Event, EventSource, SocialAction, SourceEnd, SourceItem};
use ttlive_source_mock::{
    DEMO_RECORDING_BYTES, DEMO_ROOM_ID, Pace, Recording, ReplaySource, UnitKind, demo_recording,
    generate_demo_recording,
};

async fn drain(mut src: ReplaySource) -> (Vec<Event>, usize, SourceEnd) {
    let mut events = Vec::new();
    let mut errors = 0;
    loop {
        match src.next().await {
            SourceItem::Event(e) => events.push(e),
            SourceItem::Error(_) => errors += 1,
            SourceItem::End(end) => return (events, errors, end),
            _ => {}
        }
    }
}

#[test]
fn checked_in_demo_equals_the_generator() {
    let generated = generate_demo_recording().to_bytes();
    assert!(
        generated == DEMO_RECORDING_BYTES,
        "data/demo.ttlrec is stale: run `cargo run -p ttlive-source-mock --example generate_demo_recording`"
    );
    assert!(DEMO_RECORDING_BYTES.len() < 700 * 1024, "demo too big");
}

#[test]
fn demo_has_the_expected_shape() {
    let rec = demo_recording();
    assert_eq!(rec.header.room_id, DEMO_ROOM_ID);
    assert_eq!(rec.header.unique_id, "fakeuser");
    assert_eq!(rec.units[0].kind, UnitKind::SignFetch);
    let frames: Vec<_> = rec
        .units
        .iter()
        .filter(|u| u.kind == UnitKind::PushFrame)
        .collect();
    assert!(frames.len() > 100);
    assert!(rec.duration_ms() >= 170_000 && rec.duration_ms() <= 200_000);
    let mut last_log = 0;
    let mut last_seq = 0;
    for f in frames {
        let d = ttlive_proto::decode_msg_frame(&f.data, &Default::default()).unwrap();
        assert_eq!(d.header("compress_type"), Some("gzip"));
        assert!(f.data.windows(3).any(|w| w == ttlive_proto::GZIP_MAGIC));
        let log_id = d.log_id() as u64;
        let r = d.result.unwrap();
        assert!(r.need_ack);
        assert!(log_id > last_log);
        last_log = log_id;
        let seq: u64 = r
            .internal_ext
            .split("|seq:")
            .nth(1)
            .unwrap()
            .split('|')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(seq > last_seq && r.internal_ext.starts_with("fetch_time:"));
        last_seq = seq;
        assert!(r.cursor.starts_with("t-"));
    }
}

#[tokio::test(start_paused = true)]
async fn demo_decodes_to_the_expected_kinds() {
    let (events, errors, end) =
        drain(ReplaySource::new(demo_recording()).pace(Pace::Instant)).await;
    assert_eq!(errors, 0);
    assert_eq!(end, SourceEnd::StreamEnded);
    assert!(matches!(events[0], Event::Connected(_)));
    assert!(events.last().unwrap().is_stream_end());
    let kinds: BTreeSet<&str> = events.iter().map(|e| e.name()).collect();
    for k in [
        "connected",
        "chat",
        "gift",
        "member",
        "like",
        "social",
        "roomUser",
        "questionNew",
        "linkMicBattle",
        "linkMicArmies",
        "emote",
        "streamEnd",
    ] {
        assert!(kinds.contains(k), "missing {k}: {kinds:?}");
    }
    let mut follow = false;
    let mut share = false;
    let mut top = false;
    let mut streak_progress = 0;
    let mut streak_final = None;
    let mut single = false;
    for e in &events {
        match e {
            Event::Social(s) if s.action == SocialAction::Follow => {
                follow |= s.display_key == "pm_main_follow_message_viewer_2";
            }
            Event::Social(s) if s.action == SocialAction::Share => {
                share |= s.display_key == "pm_mt_guidance_share";
            }
            Event::RoomUser(r) => top |= !r.top_viewers.is_empty() && r.viewer_count > 0,
            Event::Gift(g)
                if g.gift.gift_type == 1 && g.gift.name == "Rose" && g.repeat_count > 1 =>
            {
                if g.repeat_end {
                    streak_final = Some(g.repeat_count);
                } else {
                    streak_progress += 1;
                }
            }
            Event::Gift(g) if g.gift.gift_type != 1 => single = true,
            _ => {}
        }
    }
    assert!(follow && share && top && single);
    assert!(streak_progress >= 3);
    assert_eq!(streak_final, Some(5));
    // Every event but `connected` carries the room and a message id.
    for e in &events[1..] {
        assert_eq!(e.room_id(), DEMO_ROOM_ID);
        assert_ne!(e.msg_id(), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn real_time_pace_follows_the_offsets() {
    let start = tokio::time::Instant::now();
    let (events, _, _) = drain(ReplaySource::new(demo_recording()).pace(Pace::RealTime)).await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(179_000) && took <= Duration::from_millis(181_000),
        "{took:?}"
    );
    let start = tokio::time::Instant::now();
    let (fast, _, _) = drain(ReplaySource::new(demo_recording()).pace(Pace::Speed(10.0))).await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(17_900) && took <= Duration::from_millis(18_100),
        "{took:?}"
    );
    assert_eq!(events, fast);
}

#[tokio::test(start_paused = true)]
async fn replay_source_conforms() {
    let report = Conformance::new()
        .max_items(100_000)
        .cancel_safe()
        .run(|| ReplaySource::new(demo_recording()))
        .await
        .expect("conformance");
    assert!(report.events > 300, "{}", report.events);
    assert_eq!(report.end, SourceEnd::StreamEnded);
}

#[tokio::test(start_paused = true)]
async fn replay_of_a_broken_file_conforms_and_reports_errors() {
    let mut bytes = demo_recording().to_bytes();
    bytes.truncate(bytes.len() / 2);
    let report = Conformance::new()
        .max_items(100_000)
        .run(move || {
            ReplaySource::from_bytes(bytes.clone())
                .unwrap()
                .pace(Pace::Instant)
        })
        .await
        .expect("conformance");
    assert_eq!(report.errors, 1);
    assert_eq!(report.end, SourceEnd::Finished);
}

#[tokio::test(start_paused = true)]
async fn record_then_replay_gives_identical_events() {
    let original = demo_recording();
    let dir = std::env::temp_dir().join(format!("ttlive-mock-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["session.ttlrec", "session.ttlrec.gz"] {
        let path = dir.join(name);
        // Record unit by unit through the writer, as a live tap would.
        let mut w = ttlive_source_mock::RecordingWriter::create(&path, &original.header).unwrap();
        for u in &original.units {
            w.write_unit(u).unwrap();
        }
        w.finish().unwrap();
        let back = Recording::open(&path).unwrap();
        assert_eq!(back, original);
        let (a, _, _) = drain(ReplaySource::new(original.clone()).pace(Pace::Instant)).await;
        let (b, errs, _) = drain(ReplaySource::open(&path).unwrap().pace(Pace::Instant)).await;
        assert_eq!(errs, 0);
        assert_eq!(a, b);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
