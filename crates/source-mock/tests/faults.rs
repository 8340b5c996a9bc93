//! The faults the robustness work and the soak need, over real sockets: the anti-bot page,
//! an unknown user, a ws-fallback sign server beside a working one, an untrusted push host,
//! `im_enter_room_resp` with messages to ack, clean early closes, server ping floods, 429 on
//! any route, sign servers down and up, every socket dropped at once, and a logging proxy.

mod common;

use std::time::Duration;

use common::{Follower, enter_room, frame, get_json, http_client, sign, ws_connect};
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::error::Error as WsError;
use ttlive_proto::{FrameLimits, decode_msg_frame, webcast as pb};
use ttlive_source_mock::{
    ClientRecord, FakeServer, Fault, LoggingProxy, PRIMARY_SIGNER, ProxyProtocol, Route,
    SignBehaviour, Trigger, UserState,
};

async fn page(base: &str, user: &str) -> String {
    http_client()
        .get(format!("{base}/@{user}/live"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_anti_bot_page_has_no_sigi_state_and_unknown_users_are_19881007() {
    let s = FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .user("ghost", UserState::Unknown)
        .fault(Fault::AntiBotPage, Trigger::Once)
        .start()
        .await
        .unwrap();
    let base = s.base_url();
    let blocked = page(&base, "fakeuser").await;
    assert!(!blocked.contains("SIGI_STATE") && blocked.contains("tiktok-verify-page"));
    assert!(blocked.len() < 1024);
    assert!(page(&base, "fakeuser").await.contains("SIGI_STATE"));
    let v = get_json(&format!(
        "{base}/api-live/user/room/?uniqueId=ghost&sourceType=54"
    ))
    .await;
    assert_eq!(
        (v["statusCode"].as_i64(), v["message"].as_str()),
        (Some(19_881_007), Some("user_not_found"))
    );
}

/// Opens the socket a sign result points at; the refusal's status and `Handshake-Msg` if it
/// was refused.
async fn try_push(
    res: &pb::ProtoMessageFetchResult,
    room: u64,
) -> Result<common::Ws, (u16, Option<String>)> {
    let url = format!(
        "{}{}room_id={room}&cursor={}",
        res.push_server,
        if res.push_server.contains('?') {
            '&'
        } else {
            '?'
        },
        res.cursor
    );
    ws_connect(&url).await.map_err(|e| match e {
        WsError::Http(r) => (
            r.status().as_u16(),
            r.headers()
                .get("handshake-msg")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ),
        other => panic!("{other}"),
    })
}

#[tokio::test]
async fn a_ws_fallback_sign_server_beside_a_working_one() {
    let s = FakeServer::builder()
        .rooms(1)
        .sign_server("backup")
        .start()
        .await
        .unwrap();
    s.set_sign_behaviour(PRIMARY_SIGNER, SignBehaviour::WsFallback)
        .unwrap();
    let room = s.room_id("room0000");
    let backup = s.sign_url("backup").unwrap();
    assert_ne!(backup, s.base_url());
    // The primary's answer is well-formed but points at a socket that refuses every upgrade.
    let res = sign(&s.base_url(), room).await;
    assert!(
        res.push_server.contains("/ws-fallback/?token="),
        "{}",
        res.push_server
    );
    for _ in 0..3 {
        let (status, msg) = try_push(&res, room).await.err().unwrap();
        assert_eq!(
            (status, msg.as_deref()),
            (200, Some(FakeServer::WS_FALLBACK_MSG))
        );
    }
    // The backup works.
    let res = sign(&backup, room).await;
    assert_eq!(res.push_server, s.push_url());
    let mut ws = try_push(&res, room).await.unwrap();
    ws.send(enter_room(room)).await.unwrap();
    assert_eq!(s.route("sign/fetch").total, 1);
    assert_eq!(s.route("sign/fetch@backup").total, 1);
    assert_eq!(s.route("ws").total, 4);
    let refused = s
        .client_log()
        .iter()
        .filter(
            |r| matches!(r, ClientRecord::WsRefused { message, .. } if message == "illegal app_id"),
        )
        .count();
    assert_eq!(refused, 3);
}

#[tokio::test]
async fn sign_servers_go_down_and_come_back_at_run_time() {
    let s = FakeServer::builder()
        .rooms(1)
        .sign_server("backup")
        .start()
        .await
        .unwrap();
    let room = s.room_id("room0000");
    let backup = s.sign_url("backup").unwrap();
    let addr = backup.trim_start_matches("http://").to_owned();
    sign(&backup, room).await;
    s.set_sign_server_up("backup", false).unwrap();
    assert!(
        TcpStream::connect(&addr).await.is_err(),
        "a down sign server refuses connections"
    );
    s.set_sign_server_up(PRIMARY_SIGNER, false).unwrap();
    let r = http_client()
        .get(format!("{}/webcast/fetch?room_id={room}", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    // The web routes of the main port still answer while its sign server is down.
    assert_eq!(common::user_room(&s.base_url(), "room0000").await.0, 2);
    s.set_sign_server_up("backup", true).unwrap();
    s.set_sign_server_up(PRIMARY_SIGNER, true).unwrap();
    sign(&backup, room).await;
    sign(&s.base_url(), room).await;
    // The same through the control routes, for a server in another process.
    let c = http_client();
    let r = c
        .post(format!("{}/_fake/signers/backup/down", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(TcpStream::connect(&addr).await.is_err());
    c.post(format!("{}/_fake/signers/backup/up", s.base_url()))
        .send()
        .await
        .unwrap();
    sign(&backup, room).await;
    assert!(s.set_sign_server_up("nobody", true).is_err());
}

#[tokio::test]
async fn an_untrusted_push_host_is_handed_out_and_its_server_sees_who_comes() {
    let s = FakeServer::builder().rooms(1).start().await.unwrap();
    // The "attacker": another fake server on another loopback address.
    let evil = FakeServer::builder()
        .rooms(1)
        .bind(([127, 0, 0, 2], 0).into())
        .start()
        .await
        .unwrap();
    let url = format!(
        "ws://127.0.0.2:{}/webcast/im/ws_proxy/ws_reuse_supplement/",
        evil.port()
    );
    s.set_sign_behaviour(PRIMARY_SIGNER, SignBehaviour::UntrustedPush(url.clone()))
        .unwrap();
    let res = sign(&s.base_url(), s.room_id("room0000")).await;
    assert_eq!(res.push_server, url);
    assert!(evil.client_log().is_empty());
    // A client that trusts the answer shows up in the other server's log.
    let _ = ws_connect(&format!("{url}?room_id=1")).await;
    assert_eq!(evil.route("ws").total, 1);
}

#[tokio::test]
async fn im_enter_room_resp_carries_messages_with_need_ack() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(50.0)
        .enter_room_resp_messages(true)
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let room = s.room_id("room0000");
    let res = sign(&s.base_url(), room).await;
    let mut ws = try_push(&res, room).await.unwrap();
    ws.send(enter_room(room)).await.unwrap();
    let resp = loop {
        let Some(Ok(Message::Binary(b))) =
            tokio::time::timeout(common::T, ws.next()).await.unwrap()
        else {
            panic!("socket ended");
        };
        let d = decode_msg_frame(&b, &FrameLimits::default()).unwrap();
        if d.payload_type() == "im_enter_room_resp" {
            break d;
        }
    };
    // The socket was opened without `compress=gzip`: the payload is a bare fetch result.
    let result = pb::ProtoMessageFetchResult::decode(resp.frame.payload.as_ref()).unwrap();
    assert!(result.need_ack && resp.frame.log_id != 0);
    // The last messages before the push position: the same as the sign fetch's history.
    let ids: Vec<i64> = result.messages.iter().map(|m| m.msg_id).collect();
    let hist: Vec<i64> = res.messages.iter().map(|m| m.msg_id).collect();
    assert!(!ids.is_empty());
    assert_eq!(ids, hist);
    ws.send(frame(
        "ack",
        resp.frame.log_id,
        result.internal_ext.into_bytes(),
    ))
    .await
    .unwrap();
    let log_id = resp.frame.log_id as u64;
    s.wait_for(common::T, |l| {
        l.iter()
            .any(|r| matches!(r, ClientRecord::Ack { log_id: a, .. } if *a == log_id))
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_clean_early_close_ends_with_code_1000_and_no_stream_end() {
    let s = FakeServer::builder()
        .rooms(1)
        .rate(100.0)
        .fault(Fault::CloseAfterFrames(2), Trigger::Once)
        .start()
        .await
        .unwrap();
    let room = s.room_id("room0000");
    let res = sign(&s.base_url(), room).await;
    let mut ws = try_push(&res, room).await.unwrap();
    ws.send(enter_room(room)).await.unwrap();
    let (mut msgs, mut code) = (0, None);
    while let Ok(Some(Ok(m))) = tokio::time::timeout(common::T, ws.next()).await {
        match m {
            Message::Binary(b) => {
                let d = decode_msg_frame(&b, &FrameLimits::default()).unwrap();
                if d.payload_type() != "msg" {
                    continue;
                }
                assert!(
                    !d.result
                        .unwrap()
                        .messages
                        .iter()
                        .any(|m| m.method.contains("Control"))
                );
                msgs += 1;
            }
            Message::Close(c) => {
                code = c.map(|c| u16::from(c.code));
                break;
            }
            _ => {}
        }
    }
    assert_eq!((msgs, code), (2, Some(1000)));
    assert!(s.is_live("room0000"), "an early close is not a stream end");
}

#[tokio::test]
async fn a_server_ping_flood_reaches_the_client() {
    let s = FakeServer::builder()
        .rooms(1)
        .fault(Fault::PingFlood { pings: 5000 }, Trigger::Once)
        .start()
        .await
        .unwrap();
    let room = s.room_id("room0000");
    let res = sign(&s.base_url(), room).await;
    let mut ws = try_push(&res, room).await.unwrap();
    ws.send(enter_room(room)).await.unwrap();
    let mut pings = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    while pings < 5000 {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(_))) => {}
            _ => break,
        }
    }
    assert_eq!(pings, 5000);
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_on_any_route() {
    let s = FakeServer::builder()
        .rooms(1)
        .fault(
            Fault::RateLimited {
                route: Route::CheckAlive,
                retry_after_secs: 7,
            },
            Trigger::EveryN(2),
        )
        .start()
        .await
        .unwrap();
    let c = http_client();
    let url = format!("{}/webcast/room/check_alive/?room_ids=1", s.base_url());
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..4 {
            let r = c.get(&url).send().await.unwrap();
            if r.status() == 429 {
                assert_eq!(r.headers()["retry-after"], "7");
            }
            v.push(r.status().as_u16());
        }
        v
    };
    assert_eq!(statuses, vec![200, 429, 200, 429]);
    // Other routes are untouched; a sign route gets Euler's headers.
    assert_eq!(common::user_room(&s.base_url(), "room0000").await.0, 2);
    s.inject(
        Fault::RateLimited {
            route: Route::Any,
            retry_after_secs: 3,
        },
        Trigger::Once,
    );
    let r = c
        .get(format!("{}/webcast/fetch?room_id=1", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("x-ratelimit-reset"));
}

#[tokio::test]
async fn every_socket_can_be_dropped_at_once() {
    let s = FakeServer::builder()
        .rooms(10)
        .rate(20.0)
        .start()
        .await
        .unwrap();
    let mut followers = Vec::new();
    for i in 0..10 {
        let user = ttlive_source_mock::numbered_room(i, 10);
        followers.push(Follower::open(&s, s.room_id(&user)).await);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.drop_all_sockets();
    for mut f in followers {
        f.read_until(Instant::now() + Duration::from_secs(5)).await;
        assert!(f.closed);
        assert!(f.ends.is_empty(), "a drop is not a stream end");
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while s.all_room_stats().iter().any(|r| r.sockets_open > 0) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        s.all_room_stats()
            .iter()
            .all(|r| r.sockets_open == 0 && r.sockets_ever == 1)
    );
}

#[tokio::test]
async fn the_logging_proxy_passes_loopback_and_logs_and_refuses_other_hosts() {
    let s = FakeServer::builder().rooms(1).start().await.unwrap();
    let proxy = LoggingProxy::start().await.unwrap();
    // An HTTP proxy request in absolute form.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(proxy.http_url()).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/webcast/gift/list/", s.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A CONNECT tunnel to the push socket's port, and one to a host that is not loopback.
    let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
    tcp.write_all(
        format!(
            "CONNECT 127.0.0.1:{0} HTTP/1.1\r\nHost: 127.0.0.1:{0}\r\n\r\n",
            s.port()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = [0u8; 64];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
    tcp.write_all(b"CONNECT webcast-ws.tiktok.com:443 HTTP/1.1\r\n\r\n")
        .await
        .unwrap();
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 403"));
    // SOCKS5 with a domain name.
    let mut tcp = TcpStream::connect(proxy.addr()).await.unwrap();
    tcp.write_all(&[5, 1, 0]).await.unwrap();
    let mut two = [0u8; 2];
    tcp.read_exact(&mut two).await.unwrap();
    assert_eq!(two, [5, 0]);
    let name = b"localhost";
    let mut req = vec![5, 1, 0, 3, name.len() as u8];
    req.extend_from_slice(name);
    req.extend_from_slice(&s.port().to_be_bytes());
    tcp.write_all(&req).await.unwrap();
    let mut reply = [0u8; 10];
    tcp.read_exact(&mut reply).await.unwrap();
    assert_eq!(reply[1], 0);
    tcp.write_all(b"GET /webcast/gift/list/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut body = Vec::new();
    tcp.read_to_end(&mut body).await.unwrap();
    assert!(body.starts_with(b"HTTP/1.1 200"));

    let log = proxy.log();
    let kinds: Vec<(ProxyProtocol, &str, bool)> = log
        .iter()
        .map(|r| (r.protocol, r.host.as_str(), r.passed))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (ProxyProtocol::HttpForward, "127.0.0.1", true),
            (ProxyProtocol::HttpConnect, "127.0.0.1", true),
            (ProxyProtocol::HttpConnect, "webcast-ws.tiktok.com", false),
            (ProxyProtocol::Socks5, "localhost", true),
        ]
    );
    assert!(
        proxy
            .hosts()
            .contains(&"webcast-ws.tiktok.com:443".to_owned())
    );
    assert_eq!(s.route("gift/list").total, 2);
}

#[tokio::test]
async fn the_enter_room_resp_of_a_recording_carries_its_first_frame() {
    let s = FakeServer::builder()
        .pace(ttlive_source_mock::Pace::Instant)
        .enter_room_resp_messages(true)
        .start()
        .await
        .unwrap();
    let room = s.room_id("fakeuser");
    let res = sign(&s.base_url(), room).await;
    let mut ws = try_push(&res, room).await.unwrap();
    ws.send(enter_room(room)).await.unwrap();
    let Some(Ok(Message::Binary(b))) = tokio::time::timeout(common::T, ws.next()).await.unwrap()
    else {
        panic!("no frame");
    };
    let f = pb::WebcastPushFrame::decode(b.as_ref()).unwrap();
    assert_eq!(f.payload_type, "im_enter_room_resp");
    let result = pb::ProtoMessageFetchResult::decode(f.payload.as_ref()).unwrap();
    assert!(!result.messages.is_empty() && result.need_ack);
}
