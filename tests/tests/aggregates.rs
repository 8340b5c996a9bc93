//! The session aggregates on a recording: a recorded session (gzip'd push frames of invented
//! wire messages) with like totals that arrive stale and out of order and gift streaks that
//! interleave, replayed through the real decoder, gives per-user like totals that only grow,
//! the right peaks, diamonds from finished streaks only, follows, shares, and `roomStats`
//! events decided by event time.

use std::time::Duration;

use prost::Message;
use ttlive_eventbus::{Event, EventSource, RoomStatsEvent, SourceItem};
use ttlive_proto::Aggregates;
use ttlive_proto::webcast as pb;
use ttlive_source_mock::{Header, Pace, Recording, ReplaySource, Unit, UnitKind};

const ROOM: u64 = 7_400_000_000_000_000_001;
const START_MS: i64 = 1_700_000_000_000;

/// Builds the wire messages of the invented session, one helper per method.
struct Session {
    next_id: i64,
    messages: Vec<(u64, pb::BaseProtoMessage)>,
}

impl Session {
    fn common(&mut self, method: &str, at_ms: i64) -> Option<pb::CommonMessageData> {
        self.next_id += 1;
        Some(pb::CommonMessageData {
            method: method.into(),
            msg_id: 7_400_000_000_000_100_000 + self.next_id,
            room_id: ROOM as i64,
            create_time: START_MS + at_ms,
            ..Default::default()
        })
    }

    fn push(&mut self, at_ms: i64, method: &str, payload: Vec<u8>, msg_id: i64) {
        self.messages.push((
            at_ms as u64,
            pb::BaseProtoMessage {
                method: method.into(),
                payload: payload.into(),
                msg_id,
                ..Default::default()
            },
        ));
    }

    fn user(id: i64) -> Option<pb::User> {
        Some(pb::User {
            id,
            display_id: format!("viewer_{id}"),
            nickname: format!("Viewer {id}"),
            ..Default::default()
        })
    }

    fn like(&mut self, at_ms: i64, who: i64, count: i32, total: i64) {
        let common = self.common("WebcastLikeMessage", at_ms);
        let id = common.as_ref().unwrap().msg_id;
        let m = pb::WebcastLikeMessage {
            common,
            count,
            total,
            user: Self::user(who),
            ..Default::default()
        };
        self.push(at_ms, "WebcastLikeMessage", m.encode_to_vec(), id);
    }

    #[allow(clippy::too_many_arguments)]
    fn gift(
        &mut self,
        at_ms: i64,
        who: i64,
        group: i64,
        gift_type: i32,
        price: i32,
        count: i32,
        end: bool,
    ) {
        let common = self.common("WebcastGiftMessage", at_ms);
        let id = common.as_ref().unwrap().msg_id;
        let gift_id = if gift_type == 1 { 5655 } else { 6064 };
        let m = pb::WebcastGiftMessage {
            common,
            gift_id,
            repeat_count: count,
            repeat_end: i32::from(end),
            group_id: group,
            user: Self::user(who),
            gift: Some(pb::Gift {
                id: gift_id,
                name: if gift_type == 1 { "Rose" } else { "GG" }.into(),
                diamond_count: price,
                r#type: gift_type,
                ..Default::default()
            }),
            ..Default::default()
        };
        self.push(at_ms, "WebcastGiftMessage", m.encode_to_vec(), id);
    }

    fn viewers(&mut self, at_ms: i64, total: i64) {
        let common = self.common("WebcastRoomUserSeqMessage", at_ms);
        let id = common.as_ref().unwrap().msg_id;
        let m = pb::WebcastRoomUserSeqMessage {
            common,
            total,
            ..Default::default()
        };
        self.push(at_ms, "WebcastRoomUserSeqMessage", m.encode_to_vec(), id);
    }

    fn social(&mut self, at_ms: i64, who: i64, key: &str) {
        let mut common = self.common("WebcastSocialMessage", at_ms);
        common.as_mut().unwrap().display_text = Some(pb::Text {
            key: key.into(),
            ..Default::default()
        });
        let id = common.as_ref().unwrap().msg_id;
        let m = pb::WebcastSocialMessage {
            common,
            user: Self::user(who),
            ..Default::default()
        };
        self.push(at_ms, "WebcastSocialMessage", m.encode_to_vec(), id);
    }

    fn stream_end(&mut self, at_ms: i64) {
        let common = self.common("WebcastControlMessage", at_ms);
        let id = common.as_ref().unwrap().msg_id;
        let m = pb::WebcastControlMessage {
            common,
            action: 3,
            ..Default::default()
        };
        self.push(at_ms, "WebcastControlMessage", m.encode_to_vec(), id);
    }

    /// The session as a recording: two or three messages per gzip'd push frame.
    fn recording(self) -> Recording {
        let mut rec = Recording::new(Header::new(ROOM).with_unique_id("invented_host"));
        for (i, chunk) in self.messages.chunks(3).enumerate() {
            let at = chunk[0].0;
            let result = pb::ProtoMessageFetchResult {
                messages: chunk.iter().map(|(_, m)| m.clone()).collect(),
                cursor: format!("cursor-{i}"),
                ..Default::default()
            };
            rec.units.push(Unit::new(
                at,
                UnitKind::PushFrame,
                ttlive_proto::msg_frame(100 + i as u64, &result, true),
            ));
        }
        rec
    }
}

fn invented_session() -> Recording {
    let mut s = Session {
        next_id: 0,
        messages: Vec::new(),
    };
    s.viewers(0, 120);
    // Like totals as different servers report them: stale and out of order.
    s.like(1_000, 1, 5, 1_000);
    s.like(1_500, 2, 3, 1_040);
    s.gift(2_000, 1, 10, 1, 1, 1, false); // viewer 1's Rose streak starts
    s.like(2_500, 1, 2, 1_020); // a stale server: the total goes back
    s.gift(3_000, 2, 20, 1, 1, 1, false); // viewer 2's streak starts
    s.gift(3_500, 1, 10, 1, 1, 5, false);
    s.like(4_000, 1, 7, 990); // staler still
    s.gift(4_500, 3, 30, 2, 100, 1, false); // a non-streakable gift, final as it is
    s.gift(5_000, 2, 20, 1, 1, 4, false);
    s.viewers(6_000, 340);
    s.gift(6_500, 1, 10, 1, 1, 9, true); // viewer 1's streak ends at 9
    s.like(7_000, 2, 1, 1_055);
    s.gift(7_500, 2, 20, 1, 1, 7, true); // viewer 2's streak ends at 7
    s.social(8_000, 4, "pm_main_follow_message_viewer_2");
    s.social(8_500, 4, "pm_main_follow_message_viewer_2"); // the same follower again
    s.social(9_000, 5, "pm_mt_guidance_share");
    s.viewers(20_000, 200);
    s.like(21_000, 1, 4, 1_050); // below the peak
    s.stream_end(22_000);
    s.recording()
}

#[tokio::test]
async fn a_replayed_session_gives_monotone_like_totals_peaks_and_finished_gift_diamonds() {
    // Through the file format and back, then the real decoder.
    let bytes = invented_session().to_bytes();
    let mut source = ReplaySource::new(Recording::from_bytes(bytes).unwrap()).pace(Pace::Instant);
    let mut agg = Aggregates::new().with_stats_interval(Duration::from_secs(10));
    let mut likes = Vec::new();
    let mut peaks = Vec::new();
    let mut stats: Vec<RoomStatsEvent> = Vec::new();
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), source.next())
            .await
            .expect("the replay ends");
        let mut ev = match item {
            SourceItem::Event(ev) => ev,
            SourceItem::End(_) => break,
            other => panic!("unexpected {other:?}"),
        };
        if let Some(s) = agg.observe(&mut ev) {
            stats.push(s);
        }
        match &ev {
            Event::Like(l) => likes.push((l.user.id, l.total, l.user_total, l.room_total)),
            Event::RoomUser(r) => peaks.push(r.viewer_peak),
            _ => {}
        }
    }
    assert_eq!(
        likes,
        vec![
            (1, 1_000, Some(5), Some(1_000)),
            (2, 1_040, Some(3), Some(1_040)),
            (1, 1_020, Some(7), Some(1_040)),
            (1, 990, Some(14), Some(1_040)),
            (2, 1_055, Some(4), Some(1_055)),
            (1, 1_050, Some(18), Some(1_055)),
        ],
        "(user, raw total, user_total, room_total)"
    );
    assert_eq!(peaks, vec![Some(120), Some(340), Some(340)]);

    let snap = agg.snapshot(ROOM).expect("the room was seen");
    assert_eq!(snap.likes, 1_055);
    assert_eq!(snap.session_likes, 5 + 3 + 2 + 7 + 1 + 4);
    assert_eq!(snap.likers, 2);
    assert_eq!((snap.viewers, snap.viewer_peak), (200, 340));
    assert_eq!(
        snap.diamonds,
        9 + 7 + 100,
        "finished streaks and the single gift only"
    );
    assert_eq!(snap.gifts, 3);
    assert_eq!((snap.follows, snap.shares), (1, 1));

    // roomStats: after each room update that changed the figures, after 10 s of event time
    // without one, and at the stream end, with the final figures.
    let at: Vec<i64> = stats
        .iter()
        .map(|s| s.meta.create_time - START_MS)
        .collect();
    assert_eq!(at, vec![0, 6_000, 20_000, 22_000]);
    let last = stats.last().unwrap();
    assert_eq!(last.meta.room_id, ROOM);
    assert_eq!((last.diamonds, last.likes, last.follows), (116, 1_055, 1));
    let json = serde_json::to_value(Event::RoomStats(last.clone())).unwrap();
    assert_eq!(json["type"], "roomStats");
    assert_eq!(json["viewer_peak"], 340);
}
