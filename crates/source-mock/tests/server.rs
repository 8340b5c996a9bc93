//! The fake server over real loopback sockets: routes, sign, push, client log, faults.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use ttlive_proto::webcast as pb;
use ttlive_proto::{DecodedFrame, FrameLimits, decode_events, decode_msg_frame};
use ttlive_source_mock::{ClientRecord, FakeServer, Fault, Pace, ScriptFrame, Trigger, UserState};

use common::{T, Ws, chat, http_client, ws_connect};

async fn next_binary(ws: &mut Ws) -> Option<Vec<u8>> {
    loop {
        match tokio::time::timeout(T, ws.next()).await.ok()?? {
            Ok(Message::Binary(b)) => return Some(b.to_vec()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn next_msg(ws: &mut Ws) -> Option<DecodedFrame> {
    loop {
        let b = next_binary(ws).await?;
        let d = decode_msg_frame(&b, &FrameLimits::default()).unwrap();
        if d.payload_type() == "msg" {
            return Some(d);
        }
    }
}

async fn get(url: &str) -> reqwest::Response {
    http_client().get(url).send().await.unwrap()
}

async fn sign(server: &FakeServer, query: &str) -> pb::ProtoMessageFetchResult {
    let r = get(&format!("{}/webcast/fetch?{query}", server.base_url())).await;
    assert_eq!(r.status(), 200);
    pb::ProtoMessageFetchResult::decode(r.bytes().await.unwrap()).unwrap()
}

fn stream_end(id: i64) -> pb::BaseProtoMessage {
    let m = pb::WebcastControlMessage {
        action: 3,
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastControlMessage".into(),
        payload: m.encode_to_vec().into(),
        msg_id: id,
        ..Default::default()
    }
}

fn script(n: usize) -> Vec<ScriptFrame> {
    (0..n)
        .map(|i| {
            ScriptFrame::new(
                i as u64 * 10,
                vec![chat(1, 100 + i as i64, &format!("chat {i}"))],
            )
        })
        .collect()
}

async fn scripted_server(n: usize) -> FakeServer {
    FakeServer::builder()
        .user_with_room("fakeuser", UserState::Live, 1)
        .script(vec![chat(1, 99, "history")], script(n))
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn web_routes() {
    let s = FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .user("sleepy", UserState::Offline)
        .user("ghost", UserState::Unknown)
        .start()
        .await
        .unwrap();
    let base = s.base_url();
    let room = s.room_id("fakeuser");
    assert_eq!(room, ttlive_source_mock::DEMO_ROOM_ID);
    let page = get(&format!("{base}/@fakeuser/live?aid=1988"))
        .await
        .text()
        .await
        .unwrap();
    let tag = r#"<script id="SIGI_STATE" type="application/json">"#;
    let json = page
        .split(tag)
        .nth(1)
        .unwrap()
        .split("</script>")
        .next()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(
        v["LiveRoom"]["liveRoomUserInfo"]["user"]["roomId"],
        room.to_string()
    );
    assert_eq!(v["LiveRoom"]["liveRoomUserInfo"]["user"]["status"], 2);
    assert_eq!(v["LiveRoom"]["liveRoomUserInfo"]["liveRoom"]["status"], 2);
    let page = get(&format!("{base}/@sleepy/live"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#""status":4"#));
    let page = get(&format!("{base}/@ghost/live"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(tag) && !page.contains("LiveRoom"));

    for path in ["/api-live/user/room/", "/api-live/user/room"] {
        let v: serde_json::Value = serde_json::from_str(
            &get(&format!("{base}{path}?uniqueId=fakeuser&sourceType=54"))
                .await
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(v["statusCode"], 0);
        assert_eq!(v["message"], "");
        assert_eq!(v["data"]["user"]["roomId"], room.to_string());
        assert_eq!(v["data"]["liveRoom"]["status"], 2);
    }
    let v: serde_json::Value = serde_json::from_str(
        &get(&format!("{base}/api-live/user/room/?uniqueId=ghost"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["message"], "user_not_found");

    let v: serde_json::Value = serde_json::from_str(
        &get(&format!("{base}/webcast/room/info/?room_id={room}"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["status_code"], 0);
    assert_eq!(v["data"]["status"], 2);
    let offline = s.room_id("sleepy");
    let v: serde_json::Value = serde_json::from_str(
        &get(&format!(
            "{base}/webcast/room/check_alive/?room_ids={room},{offline}"
        ))
        .await
        .text()
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(v["data"][0]["alive"], true);
    assert_eq!(v["data"][1]["alive"], false);
    let v: serde_json::Value = serde_json::from_str(
        &get(&format!("{base}/webcast/gift/list/"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        v["data"]["gifts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["name"] == "Rose" && g["type"] == 1)
    );
    let v: serde_json::Value = serde_json::from_str(
        &get(&format!("{base}/webcast/anchors/fakeuser/room_id"))
            .await
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(v["room_id"], room.to_string());
    assert_eq!(v["is_live"], true);
    assert_eq!(v["ok"], true);
    s.shutdown().await;
}

#[tokio::test]
async fn sign_routes_answer_protobuf_with_cookies() {
    let s = scripted_server(3).await;
    let client = http_client();
    for (url, key) in [
        (
            format!(
                "{}/webcast/rooms/1/connect?client=ttlive-rust",
                s.base_url()
            ),
            Some(("x-api-key", "k1")),
        ),
        (
            format!("{}/webcast/fetch?room_id=1&apiKey=k2", s.base_url()),
            None,
        ),
        (
            format!("{}/webcast/fetch?room_id=1", s.base_url()),
            Some(("x-jwt-key", "jwt")),
        ),
        (format!("{}/webcast/fetch?room_id=1", s.base_url()), None),
    ] {
        let mut req = client.get(&url);
        if let Some((k, v)) = key {
            req = req.header(k, v);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200);
        let cookie = r.headers()["x-set-tt-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.starts_with("ttwid=") && cookie.contains("tt-target-idc=useast2a"),
            "{cookie}"
        );
        assert_eq!(r.headers()["x-room-id"], "1");
        assert!(r.headers().contains_key("x-request-id") && r.headers().contains_key("x-agent-id"));
        let res = pb::ProtoMessageFetchResult::decode(r.bytes().await.unwrap()).unwrap();
        assert!(!res.cursor.is_empty() && !res.internal_ext.is_empty());
        assert_eq!(res.push_server, s.push_url());
        assert!(res.push_server.starts_with("ws://127.0.0.1:"));
        assert!(res.route_params.values().any(|v| !v.is_empty()));
        assert!(res.is_first);
        assert_eq!(res.messages.len(), 1);
    }
    let log = s.client_log();
    let https: Vec<_> = log.iter().filter_map(ClientRecord::as_http).collect();
    assert_eq!(https[0].header("x-api-key"), Some("k1"));
    assert_eq!(https[1].query_param("apiKey").as_deref(), Some("k2"));
    assert_eq!(https[2].header("X-JWT-Key"), Some("jwt"));
}

async fn open_push(s: &FakeServer, extra: &str) -> Ws {
    let res = sign(s, "room_id=1").await;
    let url = format!("{}?aid=1988&room_id=1{extra}", res.push_server);
    ws_connect(&url).await.unwrap()
}

#[tokio::test]
async fn push_gzip_enter_room_heartbeat_ack_and_log() {
    let s = scripted_server(4).await;
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(
        ttlive_proto::enter_room_frame(1, 4242).into(),
    ))
    .await
    .unwrap();
    let resp = decode_msg_frame(
        &next_binary(&mut ws).await.unwrap(),
        &FrameLimits::default(),
    )
    .unwrap();
    assert_eq!(resp.payload_type(), "im_enter_room_resp");
    ws.send(Message::Binary(ttlive_proto::heartbeat_frame(1, 1).into()))
        .await
        .unwrap();
    let mut texts = Vec::new();
    for _ in 0..4 {
        let f = next_msg(&mut ws).await.unwrap();
        assert_eq!(f.header("compress_type"), Some("gzip"));
        assert!(f.frame.payload.starts_with(&ttlive_proto::GZIP_MAGIC));
        assert!(f.need_ack() && f.log_id() != 0);
        let r = f.result.as_ref().unwrap();
        for e in decode_events(r) {
            if let ttlive_eventbus::Event::Chat(c) = e.unwrap() {
                texts.push(c.comment);
            }
        }
        ws.send(Message::Binary(
            ttlive_proto::ack_frame(f.log_id() as u64, &r.internal_ext).into(),
        ))
        .await
        .unwrap();
    }
    assert_eq!(texts, ["chat 0", "chat 1", "chat 2", "chat 3"]);
    let log = s
        .wait_for(T, |log| {
            log.iter()
                .filter(|r| matches!(r, ClientRecord::Ack { .. }))
                .count()
                == 4
        })
        .await
        .unwrap();
    assert!(log.iter().any(|r| matches!(
        r,
        ClientRecord::EnterRoom {
            room_id: 1,
            enter_unique_id: 4242,
            ..
        }
    )));
    assert!(log.iter().any(|r| matches!(
        r,
        ClientRecord::Heartbeat {
            room_id: 1,
            seq: 1,
            ..
        }
    )));
    assert!(log.iter().any(|r| matches!(
        r,
        ClientRecord::WsOpen {
            gzip: true,
            start_frame: 0,
            ..
        }
    )));
    let ack = log
        .iter()
        .find_map(|r| match r {
            ClientRecord::Ack {
                payload, log_id, ..
            } => Some((payload.clone(), *log_id)),
            _ => None,
        })
        .unwrap();
    assert!(String::from_utf8(ack.0).unwrap().starts_with("fetch_time:"));
    assert_ne!(ack.1, 0);
}

#[tokio::test]
async fn push_without_compress_is_raw() {
    let s = scripted_server(2).await;
    let mut ws = open_push(&s, "").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    let f = next_msg(&mut ws).await.unwrap();
    assert_eq!(f.header("compress_type"), None);
    assert!(!f.frame.payload.starts_with(&ttlive_proto::GZIP_MAGIC));
    assert_eq!(f.result.unwrap().messages.len(), 1);
}

#[tokio::test]
async fn cursor_resumes_without_duplicates_or_loss() {
    let s = scripted_server(8).await;
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    let mut all = Vec::new();
    while all.len() < 8 {
        all.push(next_msg(&mut ws).await.unwrap());
    }
    drop(ws);
    let cursor = all[2].result.as_ref().unwrap().cursor.clone();
    // Resume through the WebSocket URL.
    let mut ws = open_push(&s, &format!("&compress=gzip&cursor={cursor}")).await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    let mut resumed = Vec::new();
    while resumed.len() < 5 {
        resumed.push(next_msg(&mut ws).await.unwrap().log_id());
    }
    let expected: Vec<i64> = all[3..].iter().map(DecodedFrame::log_id).collect();
    assert_eq!(resumed, expected);
    // Resume through the sign request: no history, a cursor at the same place.
    let res = sign(&s, &format!("room_id=1&cursor={cursor}")).await;
    assert!(res.messages.is_empty());
    let mut ws = ws_connect(&format!("{}?cursor={}", res.push_server, res.cursor))
        .await
        .unwrap();
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    assert_eq!(next_msg(&mut ws).await.unwrap().log_id(), all[3].log_id());
}

#[tokio::test]
async fn stream_end_closes_the_socket() {
    let s = FakeServer::builder()
        .user_with_room("fakeuser", UserState::Live, 1)
        .script(
            vec![],
            vec![
                ScriptFrame::new(0, vec![chat(1, 5, "last")]),
                ScriptFrame::new(5, vec![stream_end(6)]),
            ],
        )
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap();
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    assert!(next_msg(&mut ws).await.is_some());
    let end = next_msg(&mut ws).await.unwrap();
    let ev = decode_events(end.result.as_ref().unwrap())
        .next()
        .unwrap()
        .unwrap();
    assert!(ev.is_stream_end());
    assert!(
        next_msg(&mut ws).await.is_none(),
        "socket should close after the stream end"
    );
}

#[tokio::test]
async fn fault_drop_after_frames() {
    let s = scripted_server(6).await;
    s.inject(Fault::DropAfterFrames(2), Trigger::Once);
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    assert!(next_msg(&mut ws).await.is_some());
    assert!(next_msg(&mut ws).await.is_some());
    assert!(next_msg(&mut ws).await.is_none());
    // One-shot: the next connection gets everything.
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    for _ in 0..6 {
        assert!(next_msg(&mut ws).await.is_some());
    }
}

#[tokio::test]
async fn fault_stall_keeps_the_socket_open_and_silent() {
    let s = scripted_server(3).await;
    s.inject(Fault::Stall, Trigger::Always);
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    let silent = tokio::time::timeout(Duration::from_millis(2_500), ws.next()).await;
    assert!(silent.is_err(), "a stalled socket sends nothing");
    // Still open: frames are still read and logged.
    ws.send(Message::Binary(ttlive_proto::heartbeat_frame(1, 7).into()))
        .await
        .unwrap();
    s.wait_for(T, |l| {
        l.iter()
            .any(|r| matches!(r, ClientRecord::Heartbeat { seq: 7, .. }))
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn fault_reject_upgrade_with_200_and_handshake_msg() {
    let s = scripted_server(1).await;
    s.inject(
        Fault::RejectUpgrade("illegal secret key".into()),
        Trigger::Once,
    );
    let addr = s.addr();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /webcast/im/ws_proxy/ws_reuse_supplement/?room_id=1 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(T, tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).to_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("handshake-msg: illegal secret key"), "{head}");
    // A real client sees the refusal as an error.
    s.inject(Fault::RejectUpgrade("blocked".into()), Trigger::Once);
    assert!(ws_connect(&s.push_url()).await.is_err());
    // And then upgrades work again.
    assert!(ws_connect(&s.push_url()).await.is_ok());
}

#[tokio::test]
async fn fault_sign_errors() {
    let s = scripted_server(1).await;
    let url = format!("{}/webcast/rooms/1/connect", s.base_url());
    s.inject(
        Fault::SignRateLimited {
            retry_after_secs: 7,
        },
        Trigger::Once,
    );
    let r = get(&url).await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(r.headers()["ratelimit-remaining"], "7");
    assert!(
        r.headers().contains_key("x-ratelimit-reset")
            && r.headers().contains_key("ratelimit-reset")
    );
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["code"], 429);
    assert!(v["message"].is_string() && v["limit_label"].is_string());
    assert_eq!(get(&url).await.status(), 200);

    s.inject(Fault::SignUnauthorized, Trigger::EveryN(2));
    assert_eq!(get(&url).await.status(), 200);
    let r = get(&url).await;
    assert_eq!(r.status(), 401);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["code"], 401);
    assert_eq!(get(&url).await.status(), 200);
    assert_eq!(get(&url).await.status(), 401);
    s.clear_faults();

    s.inject(Fault::SignServerError, Trigger::Once);
    let r = get(&format!("{}/webcast/fetch?room_id=1", s.base_url())).await;
    assert_eq!(r.status(), 500);
    let v: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(v["code"], 500);
}

#[tokio::test]
async fn fault_malformed_and_oversized_frames() {
    let s = scripted_server(2).await;
    s.inject(Fault::MalformedFrame, Trigger::Once);
    s.inject(Fault::oversized_gzip(), Trigger::Once);
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    let _resp = next_binary(&mut ws).await.unwrap();
    let garbage = next_binary(&mut ws).await.unwrap();
    assert!(ttlive_proto::decode_push_frame(&garbage).is_err());
    let bomb = next_binary(&mut ws).await.unwrap();
    assert!(bomb.len() < 1024 * 1024);
    let err = decode_msg_frame(&bomb, &FrameLimits::default()).unwrap_err();
    assert!(
        matches!(err, ttlive_proto::CodecError::DecompressedTooLarge { .. }),
        "{err}"
    );
    // The regular frames follow.
    assert!(next_msg(&mut ws).await.is_some());
}

#[tokio::test]
async fn fault_stream_end() {
    let s = scripted_server(3).await;
    s.inject(Fault::StreamEnd, Trigger::Once);
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    let f = next_msg(&mut ws).await.unwrap();
    let ev = decode_events(f.result.as_ref().unwrap())
        .next()
        .unwrap()
        .unwrap();
    assert!(ev.is_stream_end());
    assert!(next_msg(&mut ws).await.is_none());
}

#[tokio::test]
async fn server_survives_garbage_from_clients() {
    let s = scripted_server(2).await;
    // Garbage over raw TCP.
    let mut tcp = TcpStream::connect(s.addr()).await.unwrap();
    tcp.write_all(b"\x00\x01\x02 NOT HTTP AT ALL \r\n\r\n\xff\xff")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let _ = tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf)).await;
    drop(tcp);
    // Garbage over the WebSocket: binary junk, text, pings, bad payloads.
    let mut ws = open_push(&s, "&compress=gzip").await;
    ws.send(Message::Binary(vec![0xff; 64].into()))
        .await
        .unwrap();
    ws.send(Message::Text("hello?".into())).await.unwrap();
    ws.send(Message::Ping(b"p".to_vec().into())).await.unwrap();
    let bad_hb = pb::WebcastPushFrame {
        payload_type: "hb".into(),
        payload: vec![0xff, 0xff].into(),
        ..Default::default()
    };
    ws.send(Message::Binary(bad_hb.encode_to_vec().into()))
        .await
        .unwrap();
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 9).into()))
        .await
        .unwrap();
    assert!(next_msg(&mut ws).await.is_some());
    s.wait_for(T, |l| {
        l.iter().any(|r| matches!(r, ClientRecord::Garbage { .. }))
            && l.iter().any(|r| matches!(r, ClientRecord::Ping { .. }))
            && l.iter().any(|r| {
                matches!(
                    r,
                    ClientRecord::EnterRoom {
                        enter_unique_id: 9,
                        ..
                    }
                )
            })
    })
    .await
    .unwrap();
    // Still serving.
    assert_eq!(
        get(&format!("{}/webcast/fetch?room_id=1", s.base_url()))
            .await
            .status(),
        200
    );
    assert_eq!(
        get(&format!("{}/no/such/route", s.base_url()))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn real_time_pace_spaces_the_frames() {
    let frames = vec![
        ScriptFrame::new(0, vec![chat(1, 1, "a")]),
        ScriptFrame::new(600, vec![chat(1, 2, "b")]),
    ];
    let s = FakeServer::builder()
        .user_with_room("fakeuser", UserState::Live, 1)
        .script(vec![], frames)
        .pace(Pace::RealTime)
        .start()
        .await
        .unwrap();
    let mut ws = open_push(&s, "").await;
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    next_msg(&mut ws).await.unwrap();
    let t = std::time::Instant::now();
    next_msg(&mut ws).await.unwrap();
    let dt = t.elapsed();
    assert!(
        dt >= Duration::from_millis(500) && dt < Duration::from_millis(2_000),
        "{dt:?}"
    );
}

#[tokio::test]
async fn demo_is_served_by_default() {
    let s = FakeServer::builder()
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap();
    let res = sign(&s, &format!("room_id={}", s.room_id("fakeuser"))).await;
    assert!(!res.messages.is_empty());
    let mut ws = ws_connect(&format!("{}?compress=gzip", res.push_server))
        .await
        .unwrap();
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 1).into()))
        .await
        .unwrap();
    let mut n = 0;
    while next_msg(&mut ws).await.is_some() {
        n += 1;
    }
    let frames = ttlive_source_mock::demo_recording()
        .units
        .iter()
        .filter(|u| u.kind == ttlive_source_mock::UnitKind::PushFrame)
        .count();
    assert_eq!(n, frames, "every frame, then a close after the stream end");
}

#[tokio::test]
async fn a_user_can_go_live_and_offline_while_the_server_runs() {
    let s = FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .user("sleepy", UserState::Offline)
        .start()
        .await
        .unwrap();
    let base = s.base_url();
    // A new stream has a new room id: ask about the current one each time.
    let alive = || async {
        let room = s.room_id("sleepy");
        let v: serde_json::Value = serde_json::from_str(
            &get(&format!("{base}/webcast/room/check_alive/?room_ids={room}"))
                .await
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        let page = get(&format!("{base}/api-live/user/room/?uniqueId=sleepy"))
            .await
            .text()
            .await
            .unwrap();
        let page: serde_json::Value = serde_json::from_str(&page).unwrap();
        (
            v["data"][0]["alive"].clone(),
            page["data"]["liveRoom"]["status"].clone(),
        )
    };
    assert_eq!(
        alive().await,
        (serde_json::json!(false), serde_json::json!(4))
    );
    let offline_room = s.room_id("sleepy");
    assert!(s.set_user_state("@sleepy", UserState::Live));
    assert_ne!(
        s.room_id("sleepy"),
        offline_room,
        "a new stream, a new room id"
    );
    assert_eq!(
        alive().await,
        (serde_json::json!(true), serde_json::json!(2))
    );
    assert!(s.set_user_state("sleepy", UserState::Offline));
    assert_eq!(
        alive().await,
        (serde_json::json!(false), serde_json::json!(4))
    );
    assert!(!s.set_user_state("nobody", UserState::Live));
}
