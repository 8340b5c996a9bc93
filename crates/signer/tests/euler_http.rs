//! `EulerSigner` over real HTTP against a minimal HTTP/1.1 responder on 127.0.0.1 (port 0).
//! Nothing here reaches the internet.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use ttlive_proto::webcast::{BaseProtoMessage, ProtoMessageFetchResult};
use ttlive_signer::{
    EulerSigner, MAX_RETRY_AFTER, RateLimiter, RoomIdInfo, SessionCredentials, SignError,
    SignRequest, SignRoute, SignedConnection, Signer, TimeoutPhase,
};

const API_KEY: &str = "sk-test-SECRET-KEY-123";
const SESSION_ID: &str = "SESSION-abcdef-987";

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 responder.

#[derive(Clone, Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    delay: Option<Duration>,
}

impl Reply {
    fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            delay: None,
        }
    }

    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn json(self, body: &str) -> Self {
        self.header("Content-Type", "application/json").body(body)
    }

    fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }
}

/// What the server saw of one request.
#[derive(Clone, Debug)]
struct Seen {
    /// e.g. `GET /webcast/rooms/1/connect?client=ttlive-rust&… HTTP/1.1`
    request_line: String,
    /// Header names lower-cased.
    headers: Vec<(String, String)>,
}

impl Seen {
    fn target(&self) -> &str {
        self.request_line.split(' ').nth(1).unwrap_or("")
    }

    fn path(&self) -> &str {
        self.target().split('?').next().unwrap_or("")
    }

    fn query(&self) -> Vec<(String, String)> {
        let q = self.target().split_once('?').map(|(_, q)| q).unwrap_or("");
        url_pairs(q)
    }

    fn query_value(&self, key: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    let url = reqwest::Url::parse(&format!("http://x/?{q}")).unwrap();
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    /// Serves `replies` in order, one per request; the last one repeats.
    async fn start(replies: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        tokio::spawn(async move {
            let mut n = 0usize;
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let reply = replies[n.min(replies.len() - 1)].clone();
                n += 1;
                let seen = seen2.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match sock.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(k) => buf.extend_from_slice(&chunk[..k]),
                        }
                    }
                    let head = String::from_utf8_lossy(&buf).into_owned();
                    let mut lines = head.split("\r\n");
                    let request_line = lines.next().unwrap_or("").to_owned();
                    let headers = lines
                        .take_while(|l| !l.is_empty())
                        .filter_map(|l| l.split_once(':'))
                        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                        .collect();
                    seen.lock().unwrap().push(Seen {
                        request_line,
                        headers,
                    });
                    if let Some(delay) = reply.delay {
                        tokio::time::sleep(delay).await;
                    }
                    let mut out = format!("HTTP/1.1 {} Whatever\r\n", reply.status);
                    for (k, v) in &reply.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str(&format!(
                        "Content-Length: {}\r\nConnection: close\r\n\r\n",
                        reply.body.len()
                    ));
                    let mut bytes = out.into_bytes();
                    bytes.extend_from_slice(&reply.body);
                    let _ = sock.write_all(&bytes).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Self {
            base: format!("http://{addr}"),
            seen,
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn last(&self) -> Seen {
        self.seen()
            .last()
            .cloned()
            .expect("the server saw no request")
    }

    fn signer(&self) -> ttlive_signer::EulerSignerBuilder {
        EulerSigner::builder()
            .base_url(&self.base)
            .use_env(false)
            .no_proxy()
            .connect_timeout(Duration::from_secs(5))
            .read_timeout(Duration::from_secs(5))
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

fn fetch_result() -> ProtoMessageFetchResult {
    ProtoMessageFetchResult {
        messages: vec![BaseProtoMessage {
            method: "WebcastChatMessage".into(),
            payload: vec![0x08, 0x01].into(),
            msg_id: 42,
            ..Default::default()
        }],
        cursor: "t-1700000000000_r-1".into(),
        fetch_interval: 1000,
        now: 1_700_000_000_000,
        internal_ext: "fetch_time:1700000000000|seq:1".into(),
        route_params: [("wrss".to_owned(), "abc".to_owned())]
            .into_iter()
            .collect(),
        heartbeat_duration: 10_000,
        push_server: "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/".into(),
        is_first: true,
        ..Default::default()
    }
}

fn ok_reply(result: &ProtoMessageFetchResult) -> Reply {
    Reply::new(200)
        .header("Content-Type", "application/protobuf")
        .header("X-Set-TT-Cookie", "ttwid=abc; tt-target-idc=useast2a")
        .header("X-Room-Id", "7000000000000000002")
        .header("X-Request-Id", "req-1")
        .header("X-Agent-Id", "agent-7")
        .body(result.encode_to_vec())
}

async fn sign_err(server: &Server, builder: ttlive_signer::EulerSignerBuilder) -> SignError {
    let _ = server;
    let signer = builder.build().unwrap();
    signer
        .sign(&SignRequest::new("7000000000000000001"))
        .await
        .expect_err("expected an error")
}

fn assert_no_secrets(e: &SignError) {
    let texts = [e.to_string(), format!("{e:?}"), format!("{e:#?}")];
    for text in texts {
        assert!(!text.contains(API_KEY), "API key leaked: {text}");
        assert!(!text.contains(SESSION_ID), "session id leaked: {text}");
    }
}

fn epoch_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

// ---------------------------------------------------------------------------------------------
// Success and routes.

#[tokio::test]
async fn current_route_success_with_protobuf_body() {
    let result = fetch_result();
    let server = Server::start(vec![ok_reply(&result)]).await;
    let signer = server.signer().api_key(API_KEY).build().unwrap();

    let conn = signer
        .sign(&SignRequest::new("7000000000000000001").with_user_agent("UA/1.0 (test)"))
        .await
        .unwrap();

    let seen = server.last();
    assert!(
        seen.request_line.starts_with("GET "),
        "{}",
        seen.request_line
    );
    assert_eq!(seen.path(), "/webcast/rooms/7000000000000000001/connect");
    assert_eq!(seen.query_value("client").as_deref(), Some("ttlive-rust"));
    assert_eq!(
        seen.query_value("user_agent").as_deref(),
        Some("UA/1.0 (test)")
    );
    assert_eq!(seen.query_value("client_enter").as_deref(), Some("true"));
    assert_eq!(seen.query_value("room_id"), None);
    assert_eq!(seen.header("x-api-key"), Some(API_KEY));
    assert_eq!(
        seen.header("accept"),
        Some("application/protobuf,application/json")
    );
    assert_eq!(seen.header("x-cookie-header"), None);

    assert_eq!(conn.fetch_result.as_ref(), Some(&result));
    assert_eq!(
        conn.fetch_body.as_deref(),
        Some(result.encode_to_vec().as_slice())
    );
    assert_eq!(conn.cookie_header(), "ttwid=abc; tt-target-idc=useast2a");
    assert_eq!(conn.cookies[0].name, "ttwid");
    assert_eq!(conn.cookie("tt-target-idc"), Some("useast2a"));
    assert_eq!(conn.push_server, result.push_server);
    assert_eq!(
        conn.route_params,
        BTreeMap::from([("wrss".to_owned(), "abc".to_owned())])
    );
    assert_eq!(conn.room_id, "7000000000000000002");
    assert_eq!(
        conn.corrected_room_id.as_deref(),
        Some("7000000000000000002")
    );
    assert_eq!(conn.request_id.as_deref(), Some("req-1"));
    assert_eq!(conn.agent_id.as_deref(), Some("agent-7"));
    assert_eq!(conn.cursor(), Some("t-1700000000000_r-1"));
    assert_eq!(conn.internal_ext(), Some("fetch_time:1700000000000|seq:1"));
    assert_eq!(conn.user_agent, "UA/1.0 (test)");
    assert!(!format!("{signer:?}").contains(API_KEY));
}

#[tokio::test]
async fn legacy_route_and_cursor_without_api_key() {
    let server = Server::start(vec![ok_reply(&fetch_result())]).await;
    let signer = server
        .signer()
        .route(SignRoute::LegacyFetch)
        .build()
        .unwrap();
    let conn = signer
        .sign(&SignRequest::new("123").with_cursor("c-1"))
        .await
        .unwrap();
    let seen = server.last();
    assert_eq!(seen.path(), "/webcast/fetch");
    assert_eq!(seen.query_value("room_id").as_deref(), Some("123"));
    assert_eq!(seen.query_value("cursor").as_deref(), Some("c-1"));
    assert_eq!(seen.query_value("client").as_deref(), Some("ttlive-rust"));
    assert_eq!(
        seen.query_value("user_agent").as_deref(),
        Some(ttlive_signer::DEFAULT_USER_AGENT)
    );
    assert_eq!(seen.header("x-api-key"), None);
    assert_eq!(conn.user_agent, ttlive_signer::DEFAULT_USER_AGENT);
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let server = Server::start(vec![ok_reply(&fetch_result())]).await;
    let signer = server
        .signer()
        .base_url(format!("{}/signer/", server.base))
        .build()
        .unwrap();
    signer.sign(&SignRequest::new("1")).await.unwrap();
    assert_eq!(server.last().path(), "/signer/webcast/rooms/1/connect");
}

#[tokio::test]
async fn invalid_room_id_sends_nothing() {
    let server = Server::start(vec![ok_reply(&fetch_result())]).await;
    let signer = server.signer().build().unwrap();
    for bad in ["", "abc", "1/../2", "1?x=2"] {
        let e = signer.sign(&SignRequest::new(bad)).await.unwrap_err();
        assert!(matches!(e, SignError::InvalidRequest(_)), "{bad:?}: {e:?}");
        assert!(e.is_fatal());
    }
    assert!(server.seen().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Rate limits.

#[tokio::test]
async fn rate_limited_retry_after_seconds() {
    let server = Server::start(vec![
        Reply::new(429)
            .header("Retry-After", "7")
            .header("X-Request-Id", "req-429")
            .json(r#"{"code":429,"message":"Too many connections","limit_label":"minute"}"#),
    ])
    .await;
    let signer = server.signer().api_key(API_KEY).build().unwrap();
    let e = signer.sign(&SignRequest::new("1")).await.unwrap_err();
    match &e {
        SignError::RateLimited {
            limit_label,
            message,
            retry_after,
            request_id,
            ..
        } => {
            assert_eq!(limit_label.as_deref(), Some("minute"));
            assert_eq!(message.as_deref(), Some("Too many connections"));
            assert_eq!(*retry_after, Some(Duration::from_secs(7)));
            assert_eq!(request_id.as_deref(), Some("req-429"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(e.status(), Some(429));
    assert!(e.to_string().contains("(minute)"), "{e}");
    assert!(e.to_string().contains("retry in 7.0s"), "{e}");
    // The signer's limiter now pauses every caller.
    let paused = signer.rate_limiter().paused_for().expect("paused");
    assert!(paused > Duration::from_secs(5) && paused <= Duration::from_secs(7));
    assert_no_secrets(&e);
}

#[tokio::test]
async fn rate_limited_retry_after_http_date() {
    let at = SystemTime::now() + Duration::from_secs(120);
    let server = Server::start(vec![
        Reply::new(429).header("Retry-After", &httpdate::fmt_http_date(at)),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    let wait = e.retry_after().expect("retry_after");
    assert!(
        wait > Duration::from_secs(100) && wait <= Duration::from_secs(120),
        "{wait:?}"
    );
    // No JSON body: still a clean rate-limit error.
    assert!(matches!(
        e,
        SignError::RateLimited {
            limit_label: None,
            ..
        }
    ));
}

#[tokio::test]
async fn rate_limited_x_ratelimit_reset_epoch() {
    let reset = (epoch_now() + 60).to_string();
    let server = Server::start(vec![
        Reply::new(429)
            .header("X-RateLimit-Reset", &reset)
            .body("not json at all"),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    let wait = e.retry_after().expect("retry_after");
    assert!(
        wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
}

#[tokio::test]
async fn rate_limited_ratelimit_reset_and_remaining() {
    let server = Server::start(vec![
        Reply::new(429)
            .header("RateLimit-Remaining", "0")
            .header("RateLimit-Reset", "30"),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    match e {
        SignError::RateLimited {
            retry_after,
            remaining,
            ..
        } => {
            assert_eq!(retry_after, Some(Duration::from_secs(30)));
            assert_eq!(remaining, Some(0));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn rate_limited_garbage_negative_and_huge_headers() {
    // Garbage and negative values are ignored (no retry time, no pause), never a panic.
    for value in ["soon", "-30", "NaN", "1e999", "１０"] {
        let server = Server::start(vec![Reply::new(429).header("Retry-After", value)]).await;
        let signer = server.signer().build().unwrap();
        let e = signer.sign(&SignRequest::new("1")).await.unwrap_err();
        assert!(matches!(e, SignError::RateLimited { .. }), "{value}: {e:?}");
        assert_eq!(e.retry_after(), None, "{value}");
        assert_eq!(signer.rate_limiter().paused_for(), None);
    }
    // A huge value is clamped.
    let server = Server::start(vec![
        Reply::new(429)
            .header("Retry-After", "99999999999999999999999999")
            .header("X-RateLimit-Reset", "-5"),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    assert_eq!(e.retry_after(), Some(MAX_RETRY_AFTER));
}

#[tokio::test]
async fn one_retry_after_pauses_every_signer_sharing_the_limiter() {
    let limited = Server::start(vec![Reply::new(429).header("Retry-After", "60")]).await;
    let healthy = Server::start(vec![ok_reply(&fetch_result())]).await;
    let limiter = Arc::new(RateLimiter::unlimited().with_max_wait(Duration::from_millis(50)));
    let a = limited
        .signer()
        .rate_limiter(limiter.clone())
        .build()
        .unwrap();
    let b = healthy
        .signer()
        .rate_limiter(limiter.clone())
        .build()
        .unwrap();
    b.sign(&SignRequest::new("1")).await.unwrap();
    let e = a.sign(&SignRequest::new("1")).await.unwrap_err();
    assert!(matches!(e, SignError::RateLimited { .. }));
    // The other room's signer is now held back by the same pause (here: refused, as the
    // limiter's maximum wait is shorter than the pause), and sends nothing.
    let e = b.sign(&SignRequest::new("2")).await.unwrap_err();
    match e {
        SignError::ClientRateLimited { retry_after } => {
            assert!(retry_after > Duration::from_secs(55), "{retry_after:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(healthy.seen().len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Other statuses.

#[tokio::test]
async fn unauthorized_401_and_403_are_fatal_and_never_echo_the_key() {
    for status in [401, 403] {
        let body = format!(
            r#"{{"code":{status},"message":"The provided API Key {API_KEY} is invalid."}}"#
        );
        let server = Server::start(vec![
            Reply::new(status)
                .json(&body)
                .header("X-Request-Id", API_KEY),
        ])
        .await;
        let e = sign_err(&server, server.signer().api_key(API_KEY)).await;
        match &e {
            SignError::Unauthorized {
                status: s, message, ..
            } => {
                assert_eq!(*s, status);
                assert!(message.as_deref().unwrap().contains("<redacted>"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(e.is_fatal());
        assert_eq!(e.retry_after(), None);
        assert_no_secrets(&e);
    }
}

#[tokio::test]
async fn premium_required_402() {
    let server = Server::start(vec![
        Reply::new(402).json(r#"{"message":"This endpoint requires a Business plan."}"#),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    assert!(
        matches!(&e, SignError::PremiumRequired { message: Some(m), .. } if m.contains("Business"))
    );
    assert!(e.is_fatal());
}

#[tokio::test]
async fn server_error_500_keeps_body_and_request_id() {
    let body = r#"{"message":"Empty response payload received! (Internal Code: 200)","code":500}"#;
    let server = Server::start(vec![
        Reply::new(500).json(body).header("X-Request-Id", "req-500"),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    match &e {
        SignError::Server {
            status,
            message,
            body: kept,
            request_id,
            retry_after,
        } => {
            assert_eq!(*status, 500);
            assert_eq!(
                message.as_deref(),
                Some("Empty response payload received! (Internal Code: 200)")
            );
            assert_eq!(kept, body);
            assert_eq!(request_id.as_deref(), Some("req-500"));
            assert_eq!(*retry_after, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.is_retryable());
    assert!(e.to_string().contains("req-500"), "{e}");
}

#[tokio::test]
async fn server_error_503_with_retry_after_and_huge_body_is_truncated() {
    let body = format!(r#"{{"code":503,"error":"{}"}}"#, "x".repeat(5000));
    let server = Server::start(vec![Reply::new(503).json(&body).header("Retry-After", "3")]).await;
    let e = sign_err(&server, server.signer()).await;
    assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    match &e {
        SignError::Server { body, message, .. } => {
            assert!(body.chars().count() <= 1025);
            assert!(message.as_ref().unwrap().chars().count() <= 1025);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn unexpected_404() {
    let server = Server::start(vec![Reply::new(404).body("no such route")]).await;
    let e = sign_err(&server, server.signer()).await;
    assert!(
        matches!(&e, SignError::UnexpectedStatus { status: 404, body, .. } if body == "no such route")
    );
    assert!(e.is_fatal());
}

// ---------------------------------------------------------------------------------------------
// Bad success answers.

#[tokio::test]
async fn empty_body() {
    let server = Server::start(vec![
        Reply::new(200)
            .header("X-Set-TT-Cookie", "ttwid=abc")
            .header("X-Request-Id", "req-e"),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    assert!(matches!(&e, SignError::EmptyBody { request_id: Some(r) } if r == "req-e"));
    assert!(e.is_retryable());
}

#[tokio::test]
async fn missing_cookie_header() {
    let server = Server::start(vec![Reply::new(200).body(fetch_result().encode_to_vec())]).await;
    let e = sign_err(&server, server.signer()).await;
    assert!(matches!(e, SignError::MissingCookies { .. }), "{e:?}");
    // A header with no cookie pair in it counts as missing too.
    let server = Server::start(vec![
        Reply::new(200)
            .header("X-Set-TT-Cookie", "  ;  ")
            .body(fetch_result().encode_to_vec()),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    assert!(matches!(e, SignError::MissingCookies { .. }), "{e:?}");
}

#[tokio::test]
async fn garbage_body_is_invalid_not_a_panic() {
    let server = Server::start(vec![
        Reply::new(200)
            .header("X-Set-TT-Cookie", "ttwid=abc")
            .header("Content-Type", "application/protobuf")
            .body(vec![0xff; 64]),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    match &e {
        SignError::InvalidBody {
            len,
            content_type,
            source,
            ..
        } => {
            assert_eq!(*len, 64);
            assert_eq!(content_type.as_deref(), Some("application/protobuf"));
            assert!(source.is_some());
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.is_retryable());
}

#[tokio::test]
async fn json_on_200_is_invalid_with_its_message() {
    let server = Server::start(vec![
        Reply::new(200).header("X-Set-TT-Cookie", "ttwid=abc").json(
            r#"{"code":500,"message":"A 403 error occurred whilst fetching the webcast URL."}"#,
        ),
    ])
    .await;
    let e = sign_err(&server, server.signer()).await;
    assert!(
        matches!(&e, SignError::InvalidBody { message: Some(m), .. } if m.contains("403 error")),
        "{e:?}"
    );
}

#[tokio::test]
async fn random_bodies_never_panic() {
    // A deterministic xorshift stream of bodies; each must give Ok or a typed error.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut replies = Vec::new();
    for i in 0..40 {
        let len = (i * 37) % 300;
        let body: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect();
        replies.push(
            Reply::new(200)
                .header("X-Set-TT-Cookie", "ttwid=abc")
                .body(body),
        );
    }
    let n = replies.len();
    let server = Server::start(replies).await;
    let signer = server.signer().build().unwrap();
    for _ in 0..n {
        match signer.sign(&SignRequest::new("1")).await {
            Ok(conn) => assert!(!conn.push_server.is_empty() && conn.cursor().is_some()),
            Err(e) => assert!(
                matches!(
                    e,
                    SignError::EmptyBody { .. }
                        | SignError::InvalidBody { .. }
                        | SignError::MissingCursor { .. }
                        | SignError::MissingPushServer { .. }
                ),
                "{e:?}"
            ),
        }
    }
}

#[tokio::test]
async fn missing_cursor_and_push_server() {
    let mut no_cursor = fetch_result();
    no_cursor.cursor.clear();
    let mut no_push = fetch_result();
    no_push.push_server.clear();
    let server = Server::start(vec![ok_reply(&no_cursor), ok_reply(&no_push)]).await;
    let signer = server.signer().build().unwrap();
    let e = signer.sign(&SignRequest::new("1")).await.unwrap_err();
    assert!(matches!(e, SignError::MissingCursor { .. }), "{e:?}");
    let e = signer.sign(&SignRequest::new("1")).await.unwrap_err();
    assert!(matches!(e, SignError::MissingPushServer { .. }), "{e:?}");
}

#[tokio::test]
async fn body_over_the_limit() {
    let server = Server::start(vec![ok_reply(&fetch_result())]).await;
    let e = sign_err(&server, server.signer().max_body_bytes(10)).await;
    assert!(
        matches!(e, SignError::BodyTooLarge { max: 10, .. }),
        "{e:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Transport failures.

#[tokio::test]
async fn slow_server_times_out() {
    let server = Server::start(vec![
        ok_reply(&fetch_result()).delay(Duration::from_secs(10)),
    ])
    .await;
    let started = std::time::Instant::now();
    let e = sign_err(
        &server,
        server
            .signer()
            .read_timeout(Duration::from_millis(300))
            .request_timeout(Duration::from_secs(2)),
    )
    .await;
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(
            e,
            SignError::Timeout {
                phase: TimeoutPhase::Response,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.is_retryable());
}

#[tokio::test]
async fn connection_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let signer = EulerSigner::builder()
        .base_url(format!("http://{addr}"))
        .use_env(false)
        .no_proxy()
        .api_key(API_KEY)
        .build()
        .unwrap();
    let e = signer.sign(&SignRequest::new("1")).await.unwrap_err();
    assert!(matches!(e, SignError::Connect { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert!(e.to_string().contains(&addr.to_string()), "{e}");
    assert_no_secrets(&e);
}

// ---------------------------------------------------------------------------------------------
// Session safety.

#[tokio::test]
async fn redirects_to_another_host_are_not_followed() {
    let other = Server::start(vec![ok_reply(&fetch_result())]).await;
    let port = other.base.rsplit(':').next().unwrap().to_owned();
    let server = Server::start(vec![
        Reply::new(302).header("Location", &format!("http://localhost:{port}/steal")),
    ])
    .await;
    let host = server.base.trim_start_matches("http://").to_owned();
    let signer = server
        .signer()
        .api_key(API_KEY)
        .allow_session_host(host)
        .build()
        .unwrap();
    let request =
        SignRequest::new("1").with_session(SessionCredentials::new(SESSION_ID, "useast2a"));
    let e = signer.sign(&request).await.unwrap_err();
    assert!(
        matches!(e, SignError::UnexpectedStatus { status: 302, .. }),
        "{e:?}"
    );
    assert!(
        other.seen().is_empty(),
        "the key and session followed a redirect"
    );
    assert_no_secrets(&e);
}

#[tokio::test]
async fn same_origin_redirects_are_followed() {
    let server = Server::start(vec![
        Reply::new(307).header("Location", "/webcast/fetch?room_id=1"),
        ok_reply(&fetch_result()),
    ])
    .await;
    let signer = server.signer().api_key(API_KEY).build().unwrap();
    signer.sign(&SignRequest::new("1")).await.unwrap();
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].path(), "/webcast/fetch");
    assert_eq!(seen[1].header("x-api-key"), Some(API_KEY));
}

#[tokio::test]
async fn session_is_refused_for_a_host_not_allowed() {
    let server = Server::start(vec![ok_reply(&fetch_result())]).await;
    let signer = server
        .signer()
        .allow_session_host("api.eulerstream.com")
        .build()
        .unwrap();
    let request =
        SignRequest::new("1").with_session(SessionCredentials::new(SESSION_ID, "useast2a"));
    let e = signer.sign(&request).await.unwrap_err();
    assert!(
        matches!(e, SignError::SessionHostNotAllowed { .. }),
        "{e:?}"
    );
    assert!(e.is_fatal());
    assert_no_secrets(&e);
    assert!(server.seen().is_empty(), "a request was sent");
}

#[tokio::test]
async fn session_is_forwarded_to_an_allowed_host() {
    let server = Server::start(vec![
        ok_reply(&fetch_result()),
        Reply::new(401).json(&format!(r#"{{"message":"bad session {SESSION_ID}"}}"#)),
    ])
    .await;
    let host = server.base.trim_start_matches("http://").to_owned();
    let signer = server.signer().allow_session_host(host).build().unwrap();
    let request =
        SignRequest::new("1").with_session(SessionCredentials::new(SESSION_ID, "useast2a"));
    let conn = signer.sign(&request).await.unwrap();
    assert_eq!(
        server.last().header("x-cookie-header"),
        Some(format!("sessionid={SESSION_ID}; tt-target-idc=useast2a").as_str())
    );
    // The socket needs the session cookie too; the signer's tt-target-idc is kept.
    assert_eq!(conn.cookie("sessionid"), Some(SESSION_ID));
    assert_eq!(conn.cookie("tt-target-idc"), Some("useast2a"));
    assert_eq!(conn.cookies[0].name, "ttwid");
    assert!(!format!("{conn:?}").contains(SESSION_ID));

    let e = signer.sign(&request).await.unwrap_err();
    assert!(matches!(e, SignError::Unauthorized { .. }));
    assert_no_secrets(&e);
}

// ---------------------------------------------------------------------------------------------
// Room-id route.

#[tokio::test]
async fn room_id_current_and_legacy_routes() {
    let body = r#"{"code":200,"ok":true,"is_live":true,"room_id":"7000000000000000009","routes_attempted":["html"]}"#;
    let server = Server::start(vec![Reply::new(200).json(body)]).await;
    let signer = server.signer().api_key(API_KEY).build().unwrap();
    let info = signer.resolve_room_id("@someone").await.unwrap();
    let mut expected = RoomIdInfo::new("someone", "7000000000000000009", true);
    expected.routes_attempted = vec!["html".into()];
    assert_eq!(info, expected);
    let seen = server.last();
    assert_eq!(seen.path(), "/webcast/anchors/someone/room_id");
    assert_eq!(seen.query_value("client").as_deref(), Some("ttlive-rust"));
    assert_eq!(seen.header("x-api-key"), Some(API_KEY));

    let legacy = server
        .signer()
        .route(SignRoute::LegacyFetch)
        .build()
        .unwrap();
    let info = legacy
        .resolve_room_id("https://www.tiktok.com/@someone/live")
        .await
        .unwrap();
    assert_eq!(info.room_id, "7000000000000000009");
    let seen = server.last();
    assert_eq!(seen.path(), "/webcast/room_id");
    assert_eq!(seen.query_value("uniqueId").as_deref(), Some("someone"));
}

#[tokio::test]
async fn room_id_failures() {
    let server = Server::start(vec![
        Reply::new(200).json(r#"{"code":200,"ok":false,"message":"user_not_found"}"#),
        Reply::new(200).json(r#"{"code":402,"message":"Requires a paid key"}"#),
        Reply::new(200).body("<html>"),
        Reply::new(403).json(r#"{"message":"nope"}"#),
        Reply::new(200).json(r#"{"ok":true,"room_id":"0"}"#),
    ])
    .await;
    let signer = server.signer().build().unwrap();
    let e = signer.resolve_room_id("someone").await.unwrap_err();
    assert!(
        matches!(&e, SignError::RoomIdUnavailable { message: Some(m), .. } if m == "user_not_found"),
        "{e:?}"
    );
    let e = signer.resolve_room_id("someone").await.unwrap_err();
    assert!(matches!(e, SignError::PremiumRequired { .. }), "{e:?}");
    let e = signer.resolve_room_id("someone").await.unwrap_err();
    assert!(matches!(e, SignError::InvalidBody { .. }), "{e:?}");
    let e = signer.resolve_room_id("someone").await.unwrap_err();
    assert!(
        matches!(e, SignError::Unauthorized { status: 403, .. }),
        "{e:?}"
    );
    let e = signer.resolve_room_id("someone").await.unwrap_err();
    assert!(matches!(e, SignError::RoomIdUnavailable { .. }), "{e:?}");
    let e = signer.resolve_room_id("bad handle").await.unwrap_err();
    assert!(matches!(e, SignError::InvalidRequest(_)), "{e:?}");
    assert_eq!(server.seen().len(), 5);
}

// ---------------------------------------------------------------------------------------------
// The trait is mockable and object-safe.

mockall::mock! {
    pub Sig {}

    #[async_trait]
    impl Signer for Sig {
        async fn sign(&self, request: &SignRequest) -> Result<SignedConnection, SignError>;
        async fn resolve_room_id(&self, unique_id: &str) -> Result<RoomIdInfo, SignError>;
    }
}

/// What a source does: resolve, then sign, retrying once on a retryable error.
async fn connect_once(signer: &dyn Signer, user: &str) -> Result<SignedConnection, SignError> {
    let room = signer.resolve_room_id(user).await?;
    let request = SignRequest::new(room.room_id);
    match signer.sign(&request).await {
        Err(e) if e.is_retryable() => signer.sign(&request).await,
        other => other,
    }
}

#[tokio::test]
async fn mockall_signer_double() {
    let mut mock = MockSig::new();
    mock.expect_resolve_room_id()
        .withf(|uid| uid == "someone")
        .times(1)
        .returning(|uid| Ok(RoomIdInfo::new(uid, "55", true)));
    let mut seq = mockall::Sequence::new();
    mock.expect_sign()
        .times(1)
        .in_sequence(&mut seq)
        .returning(|_| {
            Err(SignError::RateLimited {
                limit_label: None,
                message: None,
                retry_after: Some(Duration::from_millis(1)),
                remaining: None,
                request_id: None,
            })
        });
    mock.expect_sign()
        .withf(|r| r.room_id() == "55")
        .times(1)
        .in_sequence(&mut seq)
        .returning(|r| {
            Ok(
                SignedConnection::new(r.room_id(), "wss://example.invalid/ws")
                    .with_cookies(vec![ttlive_signer::Cookie::new("ttwid", "x")]),
            )
        });
    let signer: Arc<dyn Signer> = Arc::new(mock);
    let conn = connect_once(&signer, "someone").await.unwrap();
    assert_eq!(conn.room_id, "55");
    assert_eq!(conn.cookie_header(), "ttwid=x");
    assert!(conn.fetch_result.is_none());
}
