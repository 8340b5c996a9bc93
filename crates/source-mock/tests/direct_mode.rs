//! The fake server's direct mode (direct-connect.md) over real loopback sockets: the `ttwid`
//! routes, the `ws_direct=1` socket that needs a `ttwid` cookie and no sign call, the
//! `DEVICE_BLOCKED` and `close` frame faults, and the order of the client's first frames.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{WebSocketStream, client_async};
use ttlive_proto::{
    FrameLimits, decode_msg_frame, decode_push_frame, enter_room_frame, frame_header,
    heartbeat_frame,
};
use ttlive_source_mock::{ClientRecord, FakeServer, Fault, Pace, Trigger};

type Ws = WebSocketStream<TcpStream>;
const T: Duration = Duration::from_secs(10);
const UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like \
                  Gecko) Chrome/142.0.0.0 Safari/537.36";

async fn server() -> FakeServer {
    FakeServer::builder()
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap()
}

fn direct_url(server: &FakeServer) -> String {
    let room = server.room_id("fakeuser");
    format!(
        "{}?version_code=180800&device_platform=web&compress=gzip&ws_direct=1&aid=1988&\
         live_id=12&version_code=270000&client_enter=1&room_id={room}&identity=audience&\
         history_comment_count=0&heartbeat_duration=10000&resp_content_type=protobuf&did_rule=3",
        server.push_url()
    )
}

/// Opens a WebSocket with these extra headers; the error is tungstenite's (an `Http` error
/// holds a refused upgrade's response).
async fn open(url: &str, headers: &[(&str, &str)]) -> Result<Ws, WsError> {
    let mut request = url.into_client_request().unwrap();
    for (k, v) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let addr = url
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let tcp = TcpStream::connect(addr).await.unwrap();
    client_async(request, tcp).await.map(|(ws, _)| ws)
}

/// The refused upgrade's status and `Handshake-Msg` / `Handshake-Status` headers.
fn refusal(e: WsError) -> (u16, Option<String>, Option<String>) {
    match e {
        WsError::Http(resp) => {
            let h = |n: &str| {
                resp.headers()
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            (
                resp.status().as_u16(),
                h("handshake-msg"),
                h("handshake-status"),
            )
        }
        other => panic!("expected a refused upgrade, got {other:?}"),
    }
}

async fn next_binary(ws: &mut Ws) -> Option<Vec<u8>> {
    loop {
        match tokio::time::timeout(T, ws.next()).await.ok()?? {
            Ok(Message::Binary(b)) => return Some(b.to_vec()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// One raw HTTP/1.1 exchange (no HTTP client crate: `reqwest`'s features differ when this test
/// is built together with other workspace crates). Returns the status and the headers.
async fn http(
    server: &FakeServer,
    method: &str,
    path: &str,
    body: &str,
) -> (u16, Vec<(String, String)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(server.addr()).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {UA}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(T, tcp.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

fn set_cookies(headers: &[(String, String)]) -> Vec<String> {
    headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .map(|(_, v)| v.clone())
        .collect()
}

fn ttwid_of(cookies: &[String]) -> Option<String> {
    cookies.iter().find_map(|c| {
        c.split(';')
            .next()
            .and_then(|p| p.strip_prefix("ttwid="))
            .map(str::to_owned)
    })
}

#[tokio::test]
async fn ttwid_routes_set_the_cookie() {
    let server = server().await;

    for path in ["/", "/live"] {
        let (status, headers) = http(&server, "GET", path, "").await;
        assert_eq!(status, 200);
        let cookies = set_cookies(&headers);
        assert!(cookies[0].starts_with("tt_chain_token="), "{cookies:?}");
        let ttwid = ttwid_of(&cookies).expect("a ttwid cookie");
        assert!(ttwid.starts_with("1%7C"), "{ttwid}");
    }

    let register = "/ttwid/union/register/";
    let (status, headers) = http(
        &server,
        "POST",
        register,
        r#"{"region":"va","aid":1768,"needFid":false,"service":"https://www.tiktok.com"}"#,
    )
    .await;
    assert_eq!(status, 200);
    let registered = ttwid_of(&set_cookies(&headers)).expect("a registered ttwid");

    // The webcast aid is refused by the register endpoint: no cookie.
    let (_, headers) = http(&server, "POST", register, r#"{"aid":1988}"#).await;
    assert!(ttwid_of(&set_cookies(&headers)).is_none());
    let (status, _) = http(&server, "GET", register, "").await;
    assert_eq!(status, 405);

    let issued = server.issued_ttwids();
    assert_eq!(issued.len(), 3);
    assert_eq!(issued[2], registered);
}

#[tokio::test]
async fn ttwid_fault_answers_without_the_cookie_once() {
    let server = server().await;
    server.inject(Fault::TtwidWithoutCookie, Trigger::Once);
    let (status, first) = http(&server, "GET", "/", "").await;
    assert_eq!(status, 200);
    assert!(ttwid_of(&set_cookies(&first)).is_none());
    let (_, second) = http(&server, "GET", "/", "").await;
    assert!(ttwid_of(&set_cookies(&second)).is_some());
}

#[tokio::test]
async fn direct_socket_without_ttwid_is_refused_with_200_and_handshake_msg() {
    let server = server().await;
    let url = direct_url(&server);

    let e = open(&url, &[("user-agent", UA)]).await.unwrap_err();
    assert_eq!(
        refusal(e),
        (200, Some(FakeServer::MISSING_TTWID_MSG.to_owned()), None)
    );
    // An empty ttwid is no ttwid.
    let e = open(&url, &[("user-agent", UA), ("cookie", "ttwid=; a=b")])
        .await
        .unwrap_err();
    assert_eq!(refusal(e).0, 200);
    // No user agent: a blocked device (TikTok's 2024 behaviour).
    let e = open(&url, &[("cookie", "ttwid=1%7Cabc")])
        .await
        .unwrap_err();
    assert_eq!(
        refusal(e),
        (
            200,
            Some("DEVICE_BLOCKED".to_owned()),
            Some("415".to_owned())
        )
    );
    let log = server.client_log();
    let refused: Vec<_> = log
        .iter()
        .filter_map(|r| match r {
            ClientRecord::WsRefused { direct, message } => Some((*direct, message.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        vec![
            (true, "MISSING_TTWID"),
            (true, "MISSING_TTWID"),
            (true, "DEVICE_BLOCKED")
        ]
    );
    assert!(!log.iter().any(|r| matches!(r, ClientRecord::WsOpen { .. })));

    // The Euler-style socket (no ws_direct=1) still needs no cookie.
    let euler = format!("{}?compress=gzip&room_id=1", server.push_url());
    assert!(open(&euler, &[]).await.is_ok());
}

#[tokio::test]
async fn direct_socket_with_ttwid_plays_and_logs_the_first_frames_in_order() {
    let server = server().await;
    let room = server.room_id("fakeuser");
    let ttwid = ttwid_of(&set_cookies(&http(&server, "GET", "/", "").await.1)).unwrap();
    let cookie = format!("ttwid={ttwid}");
    let mut ws = open(
        &direct_url(&server),
        &[
            ("user-agent", UA),
            ("cookie", &cookie),
            ("origin", "https://www.tiktok.com"),
        ],
    )
    .await
    .expect("a direct socket with a ttwid is accepted");

    // The web player's order: hb, then im_enter_room.
    ws.send(Message::Binary(heartbeat_frame(room, 1).into()))
        .await
        .unwrap();
    ws.send(Message::Binary(enter_room_frame(room, 77).into()))
        .await
        .unwrap();
    let resp = decode_push_frame(&next_binary(&mut ws).await.unwrap()).unwrap();
    assert_eq!(resp.payload_type, "im_enter_room_resp");
    let first = next_binary(&mut ws).await.unwrap();
    let d = decode_msg_frame(&first, &FrameLimits::default()).unwrap();
    assert_eq!(d.payload_type(), "msg");
    assert!(d.need_ack());
    ws.send(Message::Binary(
        ttlive_proto::ack_frame(d.log_id() as u64, "x").into(),
    ))
    .await
    .unwrap();

    let log = server
        .wait_for(T, |log| {
            log.iter().any(|r| matches!(r, ClientRecord::Ack { .. }))
        })
        .await
        .unwrap();
    let conn = log
        .iter()
        .find_map(|r| match r {
            ClientRecord::WsOpen {
                conn, direct: true, ..
            } => Some(*conn),
            _ => None,
        })
        .expect("a direct WsOpen record");
    assert_eq!(
        server.client_frames(conn)[..3],
        ["hb", "im_enter_room", "ack"]
    );
    let upgrade = log
        .iter()
        .filter_map(ClientRecord::as_http)
        .find(|h| h.header("upgrade").is_some())
        .unwrap();
    assert_eq!(upgrade.header("origin"), Some("https://www.tiktok.com"));
    assert_eq!(upgrade.query_param("ws_direct").as_deref(), Some("1"));
    // No sign route was called.
    assert!(
        !log.iter()
            .filter_map(ClientRecord::as_http)
            .any(|h| h.path.starts_with("/webcast/rooms") || h.path == "/webcast/fetch")
    );
}

#[tokio::test]
async fn device_blocked_fault_refuses_then_recovers() {
    let server = server().await;
    server.inject(Fault::DeviceBlocked, Trigger::Once);
    let url = direct_url(&server);
    let headers = [("user-agent", UA), ("cookie", "ttwid=1%7Cabc")];
    let e = open(&url, &headers).await.unwrap_err();
    assert_eq!(
        refusal(e),
        (
            200,
            Some(FakeServer::DEVICE_BLOCKED_MSG.to_owned()),
            Some("415".to_owned())
        )
    );
    assert!(open(&url, &headers).await.is_ok());
}

#[tokio::test]
async fn close_frame_fault_sends_close_reason_then_closes() {
    let server = server().await;
    server.inject(
        Fault::CloseFrame {
            reason: "disable_web_direct".into(),
        },
        Trigger::Once,
    );
    let room = server.room_id("fakeuser");
    let mut ws = open(
        &direct_url(&server),
        &[("user-agent", UA), ("cookie", "ttwid=1%7Cabc")],
    )
    .await
    .unwrap();
    ws.send(Message::Binary(heartbeat_frame(room, 1).into()))
        .await
        .unwrap();
    ws.send(Message::Binary(enter_room_frame(room, 5).into()))
        .await
        .unwrap();
    let mut close = None;
    while let Some(bytes) = next_binary(&mut ws).await {
        let frame = decode_push_frame(&bytes).unwrap();
        assert_ne!(frame.payload_type, "msg", "no msg frame before the close");
        if frame.payload_type == "close" {
            close = Some(frame);
        }
    }
    let close = close.expect("a close push frame");
    assert_eq!(
        frame_header(&close, "close_reason"),
        Some("disable_web_direct")
    );
    server
        .wait_for(T, |log| {
            log.iter()
                .any(|r| matches!(r, ClientRecord::WsClosed { .. }))
        })
        .await
        .unwrap();
}
