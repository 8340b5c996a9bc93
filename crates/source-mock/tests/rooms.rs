//! Many rooms on one fake server: their own room ids and msg ids, exact delivery records,
//! schedules seen through the web routes, stream ends, `check_alive` in bulk, route counts.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use common::{Follower, get_json, http_client, user_room};
use tokio::time::Instant;
use ttlive_source_mock::{
    FakeServer, MsgIdParts, Pace, ScheduleSet, ScriptFrame, UserState, numbered_room,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_rooms_have_their_own_room_ids_and_msg_ids_and_deliver_exactly_what_they_record() {
    let s = FakeServer::builder()
        .rooms(60)
        .rate(40.0)
        .start()
        .await
        .unwrap();
    let base = s.base_url();
    let mut room_ids = HashSet::new();
    let mut followers = Vec::new();
    for i in 0..60 {
        let user = numbered_room(i, 60);
        let (status, room_id) = user_room(&base, &user).await;
        assert_eq!(status, 2, "{user}");
        assert_eq!(room_id, s.room_id(&user));
        assert!(room_ids.insert(room_id), "{user} shares room id {room_id}");
        followers.push(Follower::open(&s, room_id).await);
    }
    // The server counts a socket once its task runs; give it a moment.
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.all_room_stats().iter().any(|r| r.sockets_open != 1) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for st in s.all_room_stats() {
        assert_eq!((st.sockets_open, st.sockets_ever), (1, 1), "{}", st.user);
    }
    let until = Instant::now() + Duration::from_millis(1500);
    let reads = followers.into_iter().map(|mut f| async move {
        f.read_until(until).await;
        f.finish().await;
        f
    });
    let followers = futures_util::future::join_all(reads).await;
    let mut all_ids = HashSet::new();
    for (i, f) in followers.iter().enumerate() {
        let user = numbered_room(i, 60);
        let got = f.distinct_sorted();
        assert!(got.len() >= 40, "{user}: only {} messages", got.len());
        for id in &got {
            let parts = MsgIdParts::of(*id).unwrap();
            assert_eq!((parts.room, parts.stream), (i, 0), "{user}: {id}");
            assert!(
                all_ids.insert(*id),
                "msg id {id} of {user} seen in another room"
            );
        }
        // Exact delivery: the server's record of what it pushed is what the client got.
        assert_eq!(s.pushed_msg_ids(&user), got, "{user}");
        let stats = s.room_stats(&user).unwrap();
        assert_eq!(stats.sockets_ever, 1, "{user}");
        assert_eq!(stats.room_id, f.room_id);
    }
    s.shutdown().await;
}

#[tokio::test]
async fn recorded_users_get_distinct_room_ids_and_rewritten_msg_ids() {
    let frames: Vec<ScriptFrame> = (0..5)
        .map(|i| ScriptFrame::new(i * 10, vec![common::chat(1, 100 + i as i64, "chat")]))
        .collect();
    let s = FakeServer::builder()
        .user("first", UserState::Live)
        .user("second", UserState::Live)
        .script(vec![common::chat(1, 99, "history")], frames)
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap();
    let (a, b) = (s.room_id("first"), s.room_id("second"));
    assert_ne!(a, b);
    let mut fa = Follower::open(&s, a).await;
    let mut fb = Follower::open(&s, b).await;
    let until = Instant::now() + Duration::from_secs(3);
    fa.read_until(until).await;
    fb.read_until(until).await;
    fa.finish().await;
    fb.finish().await;
    // The first live user plays the script as it is; the second gets ids of its own.
    assert_eq!(fa.distinct_sorted(), vec![99, 100, 101, 102, 103, 104]);
    let ib = fb.distinct_sorted();
    assert_eq!(ib.len(), 6);
    assert!(
        ib.iter().all(|id| *id > 7_000_000_000_000_000_000),
        "{ib:?}"
    );
    assert_eq!(s.pushed_msg_ids("first"), fa.distinct_sorted());
    assert_eq!(s.pushed_msg_ids("second"), ib);
}

#[tokio::test]
async fn a_schedule_moves_a_room_offline_live_ended_and_live_again_with_new_room_ids() {
    let schedule =
        ScheduleSet::parse("room0001=offline:400ms,live:800ms,end,offline:400ms,live").unwrap();
    let s = FakeServer::builder()
        .rooms(3)
        .schedules(schedule)
        .start()
        .await
        .unwrap();
    let base = s.base_url();
    // Poll the web route as a go-live detector would, and keep each change.
    let mut seen: Vec<(i64, u64)> = Vec::new();
    let deadline = Instant::now() + Duration::from_millis(2500);
    while Instant::now() < deadline {
        let now = user_room(&base, "room0001").await;
        if seen.last() != Some(&now) {
            seen.push(now);
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    assert_eq!(seen.len(), 4, "{seen:?}");
    let [(s0, id0), (s1, id1), (s2, id2), (s3, id3)] = seen[..] else {
        unreachable!()
    };
    assert_eq!((s0, s1, s2, s3), (4, 2, 4, 2), "{seen:?}");
    // Each stream has its own room id; the ended stream keeps its id while offline.
    assert_ne!(id0, id1);
    assert_eq!(id1, id2);
    assert_ne!(id2, id3);
    assert_ne!(id0, id3);
    // check_alive: only the current stream's id is alive.
    let v = get_json(&format!(
        "{base}/webcast/room/check_alive/?room_ids={id0},{id1},{id3}"
    ))
    .await;
    let alive: Vec<bool> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["alive"].as_bool().unwrap())
        .collect();
    assert_eq!(alive, vec![false, false, true]);
    let st = s.room_stats("room0001").unwrap();
    assert_eq!((st.streams_started, st.streams_ended, st.stream), (2, 1, 2));
    // The rooms without an entry stayed live on their first stream.
    assert_eq!(s.room_stats("room0000").unwrap().streams_ended, 0);
}

#[tokio::test]
async fn a_stream_end_sends_the_control_message_closes_and_the_next_stream_has_a_new_room_id() {
    let s = FakeServer::builder()
        .rooms(2)
        .rate(20.0)
        .start()
        .await
        .unwrap();
    let old = s.room_id("room0001");
    let mut f = Follower::open(&s, old).await;
    f.read_until(Instant::now() + Duration::from_millis(500))
        .await;
    assert!(s.end_stream("room0001", 3).unwrap());
    f.read_until(Instant::now() + Duration::from_secs(5)).await;
    assert!(f.closed, "the socket closes after a stream end");
    assert_eq!(f.ends, vec![3]);
    // No message is lost at the end: everything up to the control message arrived, in order.
    let seqs: Vec<u64> = f
        .distinct_sorted()
        .iter()
        .map(|id| MsgIdParts::of(*id).unwrap().seq)
        .collect();
    assert_eq!(
        seqs,
        (seqs[0]..seqs[0] + seqs.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(s.pushed_msg_ids("room0001"), f.distinct_sorted());
    assert_eq!(user_room(&s.base_url(), "room0001").await, (4, old));
    assert!(!s.end_stream("room0001", 3).unwrap(), "already ended");

    // A socket on the old room id gets the end at once.
    let mut late = Follower::open(&s, old).await;
    late.read_until(Instant::now() + Duration::from_secs(5))
        .await;
    assert!(late.closed && late.ends == vec![3]);

    let new = s.go_live("room0001").unwrap().unwrap();
    assert_ne!(new, old);
    assert_eq!(user_room(&s.base_url(), "room0001").await, (2, new));
    let mut f = Follower::open(&s, new).await;
    f.read_until(Instant::now() + Duration::from_millis(400))
        .await;
    assert!(!f.closed && !f.ids.is_empty());
    assert!(
        f.ids
            .iter()
            .all(|id| MsgIdParts::of(*id).unwrap().stream == 1)
    );
    // A suspension is action 4.
    assert!(s.end_stream("room0001", 4).unwrap());
    f.read_until(Instant::now() + Duration::from_secs(5)).await;
    assert_eq!(f.ends, vec![4]);
}

#[tokio::test]
async fn check_alive_answers_a_hundred_room_ids_at_once() {
    let s = FakeServer::builder().rooms(100).start().await.unwrap();
    let mut ended = BTreeSet::new();
    for i in (0..100).step_by(7) {
        let user = numbered_room(i, 100);
        s.end_stream(&user, 3).unwrap();
        ended.insert(s.room_id(&user));
    }
    let ids: Vec<u64> = (0..100)
        .map(|i| s.room_id(&numbered_room(i, 100)))
        .collect();
    let list = ids.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
    let v = get_json(&format!(
        "{}/webcast/room/check_alive/?aid=1988&room_ids={list}",
        s.base_url()
    ))
    .await;
    let data = v["data"].as_array().unwrap();
    assert_eq!(data.len(), 100);
    for (d, id) in data.iter().zip(&ids) {
        assert_eq!(d["room_id_str"], id.to_string());
        assert_eq!(d["alive"].as_bool().unwrap(), !ended.contains(id), "{id}");
    }
    assert_eq!(s.route("room/check_alive").total, 1);
}

#[tokio::test]
async fn requests_are_counted_per_route_per_second_and_served_as_json() {
    let s = FakeServer::builder().rooms(3).start().await.unwrap();
    let base = s.base_url();
    for _ in 0..7 {
        user_room(&base, "room0002").await;
    }
    let unknown = get_json(&format!("{base}/api-live/user/room/?uniqueId=nobody")).await;
    assert_eq!(unknown["statusCode"], 19_881_007);
    let _ = http_client()
        .get(format!("{base}/webcast/room/info/?room_id=1"))
        .send()
        .await
        .unwrap();
    let api = s.route("api-live/user/room");
    assert_eq!(api.total, 8);
    assert_eq!(api.per_second.iter().map(|(_, n)| n).sum::<u64>(), 8);
    assert!(api.peak_rate(1) >= 1.0);
    assert_eq!(s.route("room/info").total, 1);
    let v = get_json(&format!("{base}/_fake/stats")).await;
    assert_eq!(v["routes"]["api-live/user/room"]["total"], 8);
    assert_eq!(v["rooms"].as_array().unwrap().len(), 3);
    assert_eq!(v["rooms"][2]["user"], "room0002");
    let pushed = get_json(&format!("{base}/_fake/rooms/room0002/pushed")).await;
    assert!(pushed["msg_ids"].is_array());
}

#[tokio::test]
async fn numbered_rooms_get_more_digits_past_ten_thousand() {
    assert_eq!(numbered_room(3, 60), "room0003");
    assert_eq!(numbered_room(9999, 10_000), "room9999");
    assert_eq!(numbered_room(42, 10_001), "room00042");
}

#[tokio::test]
async fn a_room_without_traffic_still_ends_cleanly() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(0.0)
        .start()
        .await
        .unwrap();
    let mut f = Follower::open(&s, s.room_id("room0000")).await;
    f.read_until(Instant::now() + Duration::from_millis(300))
        .await;
    assert!(f.ids.is_empty() && !f.closed);
    assert!(s.end_stream("room0000", 3).unwrap());
    f.read_until(Instant::now() + Duration::from_secs(5)).await;
    assert!(f.closed && f.ends == vec![3]);
    assert_eq!(s.pushed_msg_ids("room0000"), f.distinct_sorted());
}

#[tokio::test]
async fn polling_a_numbered_room_hands_out_every_message_once_in_order() {
    use prost::Message as _;
    let s = FakeServer::builder()
        .rooms(1)
        .rate(100.0)
        .start()
        .await
        .unwrap();
    let room = s.room_id("room0000");
    let client = http_client();
    let mut cursor = String::new();
    let mut seqs = Vec::new();
    for _ in 0..8 {
        let body = client
            .get(format!(
                "{}/webcast/im/fetch/?room_id={room}&cursor={cursor}",
                s.base_url()
            ))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let r = ttlive_proto::webcast::ProtoMessageFetchResult::decode(body).unwrap();
        seqs.extend(
            r.messages
                .iter()
                .map(|m| MsgIdParts::of(m.msg_id as u64).unwrap().seq),
        );
        cursor = r.cursor;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seqs.len() > 50, "{}", seqs.len());
    assert_eq!(
        seqs,
        (seqs[0]..seqs[0] + seqs.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(s.route("im/fetch").total, 8);
}

#[tokio::test]
async fn a_recorded_room_ended_and_live_again_plays_its_next_stream_with_new_ids() {
    let frames: Vec<ScriptFrame> = (0..40)
        .map(|i| ScriptFrame::new(i * 100, vec![common::chat(1, 100 + i as i64, "chat")]))
        .collect();
    let s = FakeServer::builder()
        .user("host", UserState::Live)
        .script(vec![common::chat(1, 99, "history")], frames)
        .start()
        .await
        .unwrap();
    let first = s.room_id("host");
    let mut f = Follower::open(&s, first).await;
    f.read_until(Instant::now() + Duration::from_millis(700))
        .await;
    assert!(s.end_stream("host", 3).unwrap());
    f.read_until(Instant::now() + Duration::from_secs(5)).await;
    assert!(f.closed && f.ends == vec![3]);
    assert_eq!(s.pushed_msg_ids("host"), f.distinct_sorted());
    let second = s.go_live("host").unwrap().unwrap();
    assert_ne!(second, first);
    let mut g = Follower::open(&s, second).await;
    g.read_until(Instant::now() + Duration::from_millis(700))
        .await;
    g.finish().await;
    let ids = g.distinct_sorted();
    assert!(ids.len() > 3, "{ids:?}");
    assert!(
        ids.iter().all(|id| !f.ids.contains(id)),
        "a new stream has new msg ids"
    );
    let mut all = f.distinct_sorted();
    all.extend(&ids);
    all.sort_unstable();
    assert_eq!(s.pushed_msg_ids("host"), all);
}
