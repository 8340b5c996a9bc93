//! Hostile input (issue 9): huge frames, gzip bombs, deeply nested and wrong-typed protobuf,
//! invalid UTF-8 in strings, negative and absurd counts, and servers that answer slowly byte by
//! byte. Each ends in a typed error (never a panic, a hang or an unbounded buffer), and the
//! connection or the replay carries on with what follows.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use prost::Message as _;
use ttlive_eventbus::{Event, EventKind, EventSource, SourceEnd, SourceErrorKind, SourceItem};
use ttlive_proto::webcast as pb;
use ttlive_proto::{CodecError, FrameLimits};
use ttlive_signer::{EulerSigner, RoomIdInfo, SignError, SignRequest, SignedConnection, Signer};
use ttlive_source_mock::{
    FakeServer, Header, Pace, Recording, RecordingError, RecordingReader, ReplaySource,
    ScriptFrame, Unit, UnitKind, UserState,
};
use ttlive_source_tiktok::{TikTokError, TikTokSource, WebClient};

const ROOM: u64 = 7_460_000_000_000_888_001;
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)";

// ---------------------------------------------------------------------------------------------
// Building blocks

fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn key(field: u32, wire: u8, out: &mut Vec<u8>) {
    varint((u64::from(field) << 3) | u64::from(wire), out);
}

fn len_field(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// `depth` nested unknown groups (field 99): prost must stop at its recursion limit.
fn nested_groups(depth: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(depth * 4);
    for _ in 0..depth {
        key(99, 3, &mut out);
    }
    for _ in 0..depth {
        key(99, 4, &mut out);
    }
    out
}

/// `depth` nested length-delimited `common` fields (field 1 inside field 1 …): not a valid
/// CommonMessageData past the first level.
fn nested_messages(depth: usize) -> Vec<u8> {
    let mut inner: Vec<u8> = Vec::new();
    for _ in 0..depth {
        let mut wrap = Vec::with_capacity(inner.len() + 6);
        len_field(1, &inner, &mut wrap);
        inner = wrap;
    }
    inner
}

fn common(method: &str, id: u64) -> pb::CommonMessageData {
    pb::CommonMessageData {
        method: method.to_owned(),
        msg_id: id as i64,
        room_id: ROOM as i64,
        create_time: 1_767_290_400_000,
        ..Default::default()
    }
}

fn chat(id: u64, text: &str) -> pb::BaseProtoMessage {
    let m = pb::WebcastChatMessage {
        common: Some(common("WebcastChatMessage", id)),
        user: Some(pb::User {
            id: 42,
            nickname: "hostile".into(),
            ..Default::default()
        }),
        content: text.to_owned(),
        ..Default::default()
    };
    raw("WebcastChatMessage", id, m.encode_to_vec())
}

fn raw(method: &str, id: u64, payload: Vec<u8>) -> pb::BaseProtoMessage {
    pb::BaseProtoMessage {
        method: method.to_owned(),
        payload: payload.into(),
        msg_id: id as i64,
        ..Default::default()
    }
}

/// A chat whose `content` (field 3, a string) holds invalid UTF-8.
fn chat_bad_utf8(id: u64) -> pb::BaseProtoMessage {
    let mut p = common("WebcastChatMessage", id).encode_to_vec();
    let mut payload = Vec::new();
    len_field(1, &p, &mut payload);
    len_field(3, b"ok \xff\xfe\xc0 not utf-8", &mut payload);
    p.clear();
    raw("WebcastChatMessage", id, payload)
}

/// A chat whose `content` (a string) is sent as a varint, and whose `common` is a fixed64.
fn chat_wrong_types(id: u64) -> pb::BaseProtoMessage {
    let mut payload = Vec::new();
    key(1, 1, &mut payload);
    payload.extend_from_slice(&7u64.to_le_bytes());
    key(3, 0, &mut payload);
    varint(12345, &mut payload);
    raw("WebcastChatMessage", id, payload)
}

fn stream_end(id: u64) -> pb::BaseProtoMessage {
    let m = pb::WebcastControlMessage {
        common: Some(common("WebcastControlMessage", id)),
        action: 3,
        ..Default::default()
    };
    raw("WebcastControlMessage", id, m.encode_to_vec())
}

fn batch(messages: Vec<pb::BaseProtoMessage>) -> pb::ProtoMessageFetchResult {
    pb::ProtoMessageFetchResult {
        messages,
        cursor: "t-1_r-1_d-1_u-1_h-1_n-1".into(),
        ..Default::default()
    }
}

// ---------------------------------------------------------------------------------------------
// The codec

#[test]
fn a_huge_frame_is_refused_before_it_is_parsed() {
    let limits = FrameLimits {
        max_frame_bytes: 64 * 1024,
        ..FrameLimits::default()
    };
    let frame = ttlive_proto::msg_frame(1, &batch(vec![chat(1, &"x".repeat(100_000))]), false);
    match ttlive_proto::decode_msg_frame(&frame, &limits) {
        Err(CodecError::FrameTooLarge { len, max }) => {
            assert_eq!((len, max), (frame.len(), 64 * 1024));
        }
        other => panic!("expected FrameTooLarge, got {other:?}"),
    }
    // The default cap is 16 MiB.
    let big = vec![0u8; ttlive_proto::DEFAULT_MAX_FRAME_BYTES + 1];
    assert!(matches!(
        ttlive_proto::decode_msg_frame(&big, &FrameLimits::default()),
        Err(CodecError::FrameTooLarge { .. })
    ));
}

#[test]
fn a_gzip_bomb_stops_at_the_decompression_cap() {
    // 32 MiB of zeros gzip to ~32 KiB.
    let zeros = vec![0u8; 32 * 1024 * 1024];
    let gz = ttlive_proto::gzip(&zeros);
    drop(zeros);
    assert!(gz.len() < 256 * 1024, "{}", gz.len());
    let frame = pb::WebcastPushFrame {
        log_id: 1,
        payload_type: "msg".into(),
        payload_encoding: "pb".into(),
        headers: vec![pb::PushHeader {
            key: "compress_type".into(),
            value: "gzip".into(),
        }],
        payload: gz.into(),
        ..Default::default()
    }
    .encode_to_vec();
    let limits = FrameLimits {
        max_decompressed_bytes: 1024 * 1024,
        ..FrameLimits::default()
    };
    let started = Instant::now();
    match ttlive_proto::decode_msg_frame(&frame, &limits) {
        Err(CodecError::DecompressedTooLarge { max }) => assert_eq!(max, 1024 * 1024),
        other => panic!("expected DecompressedTooLarge, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // And the default cap (8 MiB) holds too.
    assert!(matches!(
        ttlive_proto::decode_msg_frame(&frame, &FrameLimits::default()),
        Err(CodecError::DecompressedTooLarge { .. })
    ));
    // A gzip header on a payload that is not gzip, and a truncated gzip stream.
    let mut not_gzip = pb::WebcastPushFrame::decode(frame.as_slice()).unwrap();
    not_gzip.payload = b"plain bytes".to_vec().into();
    assert!(matches!(
        ttlive_proto::decode_msg_frame(&not_gzip.encode_to_vec(), &limits),
        Err(CodecError::NotGzip)
    ));
    let mut truncated = pb::WebcastPushFrame::decode(frame.as_slice()).unwrap();
    let short = ttlive_proto::gzip(&batch(vec![chat(1, "hi")]).encode_to_vec());
    truncated.payload = short[..short.len() / 2].to_vec().into();
    assert!(matches!(
        ttlive_proto::decode_msg_frame(&truncated.encode_to_vec(), &limits),
        Err(CodecError::Gzip(_))
    ));
}

#[test]
fn deeply_nested_protobuf_is_an_error_not_a_stack_overflow() {
    for depth in [101, 1_000, 100_000] {
        // As a push frame, as a fetch result inside a frame, and as a message payload.
        let groups = nested_groups(depth);
        assert!(
            ttlive_proto::decode_push_frame(&groups).is_err(),
            "push frame, depth {depth}"
        );
        let frame = pb::WebcastPushFrame {
            log_id: 1,
            payload_type: "msg".into(),
            payload: groups.clone().into(),
            ..Default::default()
        }
        .encode_to_vec();
        assert!(matches!(
            ttlive_proto::decode_msg_frame(&frame, &FrameLimits::default()),
            Err(CodecError::Protobuf { .. })
        ));
        for method in [
            "WebcastChatMessage",
            "WebcastGiftMessage",
            "WebcastLinkMicArmies",
        ] {
            let e = ttlive_proto::decode_payload(method, &groups).unwrap_err();
            assert!(e.to_string().contains(method), "{e}");
        }
        let nested = nested_messages(depth.min(5_000));
        assert!(ttlive_proto::decode_payload("WebcastChatMessage", &nested).is_err());
    }
}

#[test]
fn wrong_types_and_invalid_utf8_are_typed_decode_errors_and_the_batch_goes_on() {
    let result = batch(vec![
        chat(1, "first"),
        chat_bad_utf8(2),
        chat(3, "third"),
        chat_wrong_types(4),
        raw("WebcastGiftMessage", 5, vec![0xff; 64]),
        raw("WebcastSomethingNew", 6, vec![0xff, 0x00, 0x13]),
        chat(7, "last"),
    ]);
    let items: Vec<_> = ttlive_proto::decode_events(&result).collect();
    assert_eq!(items.len(), 7);
    let ok: Vec<u64> = items
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(Event::msg_id)
        .collect();
    let errs: Vec<String> = items
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(ToString::to_string)
        .collect();
    // An unknown method is kept (as an unknown event), not an error.
    assert_eq!(ok, vec![1, 3, 6, 7], "{errs:?}");
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].contains("WebcastChatMessage"), "{errs:?}");
    assert!(errs[2].contains("WebcastGiftMessage"), "{errs:?}");
}

#[test]
fn negative_and_absurd_counts_are_clamped() {
    let like = pb::WebcastLikeMessage {
        common: Some(common("WebcastLikeMessage", 1)),
        count: -5,
        total: i64::MIN,
        ..Default::default()
    };
    let member = pb::WebcastMemberMessage {
        common: Some(common("WebcastMemberMessage", 2)),
        member_count: i32::MIN,
        action: 1,
        ..Default::default()
    };
    let viewers = pb::WebcastRoomUserSeqMessage {
        common: Some(common("WebcastRoomUserSeqMessage", 3)),
        total: -1,
        total_user: i64::MIN,
        ..Default::default()
    };
    let gift = pb::WebcastGiftMessage {
        common: Some(common("WebcastGiftMessage", 4)),
        gift_id: -1,
        repeat_count: i32::MAX,
        repeat_end: -7,
        combo_count: i32::MIN,
        gift: Some(pb::Gift {
            id: -1,
            diamond_count: i32::MAX,
            ..Default::default()
        }),
        ..Default::default()
    };
    let negative_gift = pb::WebcastGiftMessage {
        common: Some(common("WebcastGiftMessage", 5)),
        repeat_count: -100,
        gift: Some(pb::Gift {
            id: 5655,
            diamond_count: -9,
            ..Default::default()
        }),
        ..Default::default()
    };
    let result = batch(vec![
        raw("WebcastLikeMessage", 1, like.encode_to_vec()),
        raw("WebcastMemberMessage", 2, member.encode_to_vec()),
        raw("WebcastRoomUserSeqMessage", 3, viewers.encode_to_vec()),
        raw("WebcastGiftMessage", 4, gift.encode_to_vec()),
        raw("WebcastGiftMessage", 5, negative_gift.encode_to_vec()),
    ]);
    let events: Vec<Event> = ttlive_proto::decode_events(&result)
        .map(|r| r.unwrap())
        .collect();
    let json: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    // Clamped to 0 (a zero may be left out of the JSON).
    let zero = |v: &serde_json::Value, k: &str| v.get(k).is_none_or(|x| x == 0);
    assert!(
        zero(&json[0], "count") && zero(&json[0], "total"),
        "{}",
        json[0]
    );
    assert!(zero(&json[1], "member_count"), "{}", json[1]);
    assert!(zero(&json[2], "viewer_count"), "{}", json[2]);
    let Event::Gift(g) = &events[3] else {
        panic!("{:?}", events[3])
    };
    // u32 × u32 in u64: no overflow.
    assert_eq!(
        g.diamonds,
        u64::from(g.repeat_count) * u64::from(g.gift.diamond_count)
    );
    let Event::Gift(g) = &events[4] else {
        panic!("{:?}", events[4])
    };
    assert_eq!(g.repeat_count, 1);
    assert_eq!(g.gift.diamond_count, 0);
}

// ---------------------------------------------------------------------------------------------
// Through the live connection and the replay

fn signer(base: &str) -> Arc<dyn Signer> {
    Arc::new(
        EulerSigner::builder()
            .base_url(base)
            .use_env(false)
            .no_proxy()
            .build()
            .unwrap(),
    )
}

#[derive(Default, Debug)]
struct Run {
    ids: Vec<u64>,
    kinds: Vec<EventKind>,
    errors: Vec<(SourceErrorKind, String)>,
    end: Option<SourceEnd>,
}

async fn drain(mut src: impl EventSource, limit: Duration) -> Run {
    let mut run = Run::default();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, src.next())
            .await
            .expect("the source did not end in time")
        {
            SourceItem::Event(e) => {
                run.kinds.push(e.kind());
                if !e.kind().is_lifecycle() {
                    run.ids.push(e.msg_id());
                }
            }
            SourceItem::Error(e) => run.errors.push((e.kind(), e.to_string())),
            SourceItem::End(end) => {
                run.end = Some(end);
                return run;
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn hostile_messages_in_a_live_stream_are_errors_and_the_socket_carries_on() {
    let frames = vec![
        ScriptFrame::new(0, vec![chat(101, "a"), chat_bad_utf8(102), chat(103, "b")]),
        ScriptFrame::new(10, vec![chat_wrong_types(104), chat(105, "c")]),
        ScriptFrame::new(
            20,
            vec![
                raw("WebcastChatMessage", 106, nested_groups(50_000)),
                chat(107, &"🎉".repeat(10_000)),
            ],
        ),
        ScriptFrame::new(
            30,
            vec![raw(
                "WebcastGiftMessage",
                108,
                vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f],
            )],
        ),
        ScriptFrame::new(40, vec![chat(109, "d"), stream_end(110)]),
    ];
    let srv = FakeServer::builder()
        .user_with_room("fakeuser", UserState::Live, ROOM)
        .script(vec![chat(100, "history")], frames)
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap();
    let base = srv.base_url();
    let src = TikTokSource::builder("fakeuser")
        .signer(signer(&base))
        .web_url(&base)
        .webcast_url(&base)
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
        .start()
        .unwrap();
    let run = drain(src, Duration::from_secs(30)).await;
    assert_eq!(run.end, Some(SourceEnd::StreamEnded), "{run:?}");
    assert_eq!(run.ids, vec![100, 101, 103, 105, 107, 109, 110], "{run:?}");
    assert_eq!(run.errors.len(), 4, "{:?}", run.errors);
    assert!(
        run.errors
            .iter()
            .all(|(k, _)| *k == SourceErrorKind::Decode),
        "{:?}",
        run.errors
    );
    assert!(!run.kinds.contains(&EventKind::Reconnecting), "{run:?}");
    srv.shutdown().await;
}

fn recording_with(units: Vec<Unit>) -> Recording {
    let mut rec = Recording::new(Header::new(ROOM));
    rec.units = units;
    rec
}

#[tokio::test]
async fn a_replay_of_hostile_units_reports_each_and_carries_on() {
    let good = |id: u64| ttlive_proto::msg_frame(id, &batch(vec![chat(id, "ok")]), true);
    let bomb = {
        let zeros = vec![0u8; 16 * 1024 * 1024];
        pb::WebcastPushFrame {
            log_id: 9,
            payload_type: "msg".into(),
            headers: vec![pb::PushHeader {
                key: "compress_type".into(),
                value: "gzip".into(),
            }],
            payload: ttlive_proto::gzip(&zeros).into(),
            ..Default::default()
        }
        .encode_to_vec()
    };
    let rec = recording_with(vec![
        Unit::new(
            0,
            UnitKind::SignFetch,
            b"\xff\xff\xff not a fetch result".to_vec(),
        ),
        Unit::new(1, UnitKind::PushFrame, good(1)),
        Unit::new(2, UnitKind::PushFrame, b"\x00\x01garbage".to_vec()),
        Unit::new(3, UnitKind::PushFrame, bomb),
        Unit::new(4, UnitKind::PushFrame, nested_groups(100_000)),
        Unit::new(5, UnitKind::PushFrame, good(2)),
        Unit::new(
            6,
            UnitKind::PushFrame,
            ttlive_proto::msg_frame(3, &batch(vec![chat_bad_utf8(3), chat(4, "after")]), true),
        ),
    ]);
    // Written out, with a corrupt line and an over-long base64 line in the middle.
    let mut bytes = rec.to_bytes();
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(
        3,
        "{\"t_ms\":2,\"kind\":\"push_frame\",\"data_b64\":\"!!!not base64\"}",
    );
    lines.insert(4, "this is not json at all");
    lines.insert(5, "{\"t_ms\":-1,\"kind\":\"alien\",\"data_b64\":\"\"}");
    bytes = (lines.join("\n") + "\n").into_bytes();
    let reader = RecordingReader::from_bytes(bytes.clone()).unwrap();
    let items: Vec<Result<Unit, RecordingError>> = reader.collect();
    let bad: Vec<u64> = items
        .iter()
        .filter_map(|r| r.as_ref().err())
        .map(RecordingError::line)
        .collect();
    assert_eq!(bad, vec![4, 5, 6], "{items:?}");
    assert_eq!(items.iter().filter(|r| r.is_ok()).count(), 7);

    // The replay decodes what is good and reports the rest.
    let run = drain(
        ReplaySource::new(Recording::from_bytes(bytes).unwrap_or(rec)).pace(Pace::Instant),
        Duration::from_secs(30),
    )
    .await;
    assert!(
        matches!(
            run.end,
            Some(SourceEnd::Finished) | Some(SourceEnd::StreamEnded)
        ),
        "{run:?}"
    );
    assert_eq!(run.ids, vec![1, 2, 4], "{run:?}");
    assert!(
        run.errors.len() >= 5,
        "every bad unit is reported: {:?}",
        run.errors
    );
}

#[test]
fn a_truncated_or_garbage_recording_is_a_typed_error() {
    let rec = recording_with(vec![Unit::new(
        0,
        UnitKind::PushFrame,
        ttlive_proto::msg_frame(1, &batch(vec![chat(1, "x")]), false),
    )]);
    let bytes = rec.to_bytes();
    // Cut inside the last line.
    let cut = &bytes[..bytes.len() - 5];
    let items: Vec<_> = RecordingReader::from_bytes(cut.to_vec()).unwrap().collect();
    assert!(
        matches!(items.last(), Some(Err(RecordingError::Truncated { .. }))),
        "{items:?}"
    );
    for garbage in [
        &b""[..],
        b"\xff\xfe\x00",
        b"{\"format\":\"ttlive-recording\",\"version\":99}\n",
        b"{\"format\":\"something else\",\"version\":1}\n",
        b"\x1f\x8b\x08\x00garbage gzip",
        b"[1,2,3]\n",
    ] {
        assert!(
            RecordingReader::from_bytes(garbage.to_vec()).is_err(),
            "{garbage:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Slow and oversized servers (raw sockets on 127.0.0.1)

/// A server that answers every connection with `head` and then `body_len` bytes dribbled one
/// at a time every `gap` (or at once when `gap` is zero), for at most `max_secs`.
fn dribbler(
    head: String,
    body_len: usize,
    gap: Duration,
    max_secs: u64,
) -> (SocketAddr, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(max_secs);
        while Instant::now() < until && !stop2.load(Ordering::Relaxed) {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            let head = head.clone();
            let stop3 = stop2.clone();
            std::thread::spawn(move || {
                let _ = s.set_nonblocking(false);
                let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
                let mut req = [0u8; 4096];
                let _ = s.read(&mut req);
                if gap.is_zero() {
                    let _ = s.write_all(head.as_bytes());
                    let chunk = vec![b'a'; 64 * 1024];
                    let mut left = body_len;
                    while left > 0 {
                        let k = left.min(chunk.len());
                        if s.write_all(&chunk[..k]).is_err() {
                            return;
                        }
                        left -= k;
                    }
                    return;
                }
                let bytes = head
                    .into_bytes()
                    .into_iter()
                    .chain(std::iter::repeat_n(b'a', body_len));
                for b in bytes {
                    if stop3.load(Ordering::Relaxed)
                        || Instant::now() >= until
                        || s.write_all(&[b]).is_err()
                    {
                        return;
                    }
                    std::thread::sleep(gap);
                }
            });
        }
    });
    (addr, stop)
}

fn slow_head() -> String {
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n".to_owned()
}

#[tokio::test]
async fn a_web_host_that_dribbles_bytes_times_out() {
    let (addr, stop) = dribbler(slow_head(), 100_000, Duration::from_millis(40), 20);
    let base = format!("http://{addr}");
    let web = WebClient::new(&base, &base, UA, None, Duration::from_millis(700)).unwrap();
    let started = Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(10), web.room_from_page("someone"))
        .await
        .expect("hung on a slow server")
        .unwrap_err();
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    assert!(took < Duration::from_secs(3), "took {took:?}: {err}");
    let text = error_chain(&err);
    assert!(
        text.contains("timed out") || text.contains("timeout"),
        "not a timeout: {text}"
    );
    assert!(
        matches!(
            err,
            TikTokError::Http { .. } | TikTokError::BadResponse { .. }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_sign_server_that_dribbles_bytes_times_out() {
    let (addr, stop) = dribbler(slow_head(), 100_000, Duration::from_millis(40), 20);
    let signer = EulerSigner::builder()
        .base_url(format!("http://{addr}"))
        .use_env(false)
        .no_proxy()
        .connect_timeout(Duration::from_millis(500))
        .read_timeout(Duration::from_millis(500))
        .request_timeout(Duration::from_millis(900))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = tokio::time::timeout(
        Duration::from_secs(10),
        signer.sign(&SignRequest::new("7000")),
    )
    .await
    .expect("hung on a slow sign server")
    .unwrap_err();
    stop.store(true, Ordering::Relaxed);
    assert!(started.elapsed() < Duration::from_secs(3), "{err}");
    assert!(matches!(err, SignError::Timeout { .. }), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn oversized_bodies_are_refused_at_their_caps() {
    // Sign server: a 2 MiB body against a 64 KiB cap, with and without Content-Length.
    for with_length in [true, false] {
        let head = if with_length {
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 2097152\r\n\r\n"
                .to_owned()
        } else {
            "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nConnection: close\r\n\r\n"
                .to_owned()
        };
        let (addr, stop) = dribbler(head, 2 * 1024 * 1024, Duration::ZERO, 20);
        let signer = EulerSigner::builder()
            .base_url(format!("http://{addr}"))
            .use_env(false)
            .no_proxy()
            .max_body_bytes(64 * 1024)
            .build()
            .unwrap();
        let err = signer.sign(&SignRequest::new("7000")).await.unwrap_err();
        stop.store(true, Ordering::Relaxed);
        assert!(
            matches!(err, SignError::BodyTooLarge { max: 65536, .. }),
            "{err:?}"
        );
    }
    // Web host: 9 MiB against the 8 MiB cap.
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n".to_owned();
    let (addr, stop) = dribbler(head, 9 * 1024 * 1024, Duration::ZERO, 20);
    let base = format!("http://{addr}");
    let web = WebClient::new(&base, &base, UA, None, Duration::from_secs(10)).unwrap();
    let err = web.room_from_page("someone").await.unwrap_err();
    stop.store(true, Ordering::Relaxed);
    assert!(matches!(err, TikTokError::BadResponse { .. }), "{err:?}");
}

/// A signer that hands out a push server that never finishes its upgrade.
#[derive(Debug)]
struct SlowPushSigner {
    push: String,
}

#[async_trait::async_trait]
impl Signer for SlowPushSigner {
    async fn sign(&self, request: &SignRequest) -> Result<SignedConnection, SignError> {
        let mut c = SignedConnection::default();
        c.room_id = request.room_id().to_owned();
        c.push_server = self.push.clone();
        c.user_agent = UA.to_owned();
        c.route_params = BTreeMap::from([("wrss".to_owned(), "x".to_owned())]);
        c.fetch_result = Some(batch(vec![chat(1, "history")]));
        Ok(c)
    }

    async fn resolve_room_id(&self, _unique_id: &str) -> Result<RoomIdInfo, SignError> {
        Err(SignError::Config("not used".into()))
    }
}

#[tokio::test]
async fn a_push_server_that_dribbles_its_upgrade_times_out_and_gives_up() {
    let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        .to_owned();
    let (addr, stop) = dribbler(head, 10_000, Duration::from_millis(40), 30);
    let src = TikTokSource::builder(&ROOM.to_string())
        .signer(Arc::new(SlowPushSigner {
            push: format!("ws://{addr}/webcast/im/ws_proxy/ws_reuse_supplement/"),
        }))
        .web_url(format!("http://{addr}"))
        .webcast_url(format!("http://{addr}"))
        .enrich_gifts(false)
        .check_live(false)
        .timeouts(Duration::from_secs(2), Duration::from_millis(600))
        .backoff(Duration::from_millis(10), Duration::from_millis(20))
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
        .max_attempts(Some(2))
        .start()
        .unwrap();
    let started = Instant::now();
    let run = drain(src, Duration::from_secs(15)).await;
    stop.store(true, Ordering::Relaxed);
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    let Some(SourceEnd::Fatal(e)) = &run.end else {
        panic!("expected giving up, got {run:?}")
    };
    assert!(e.to_string().contains("gave up after 2 attempts"), "{e}");
    assert!(
        run.errors
            .iter()
            .all(|(k, _)| *k == SourceErrorKind::Timeout),
        "{:?}",
        run.errors
    );
    // The history from the sign result came through once, though the socket never opened.
    assert_eq!(run.ids, vec![1]);
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(" <- ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}
