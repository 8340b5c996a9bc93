//! The direct mode (direct-connect.md) against the fake TikTok server on 127.0.0.1: the URL
//! builder, the `ttwid` sources and cache, the feedback loop, and the fallback to Euler.
//! Nothing here reaches the internet.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{SinkExt, StreamExt};
use reqwest::Url;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use ttlive_signer::{
    BrowserPreset, ConnectionMode, DirectHost, DirectSigner, DirectUrl, EulerSigner,
    FallbackSigner, PageTtwid, Rejection, SignError, SignRequest, SignedConnection, Signer,
    SignerMode, StaticTtwid, TtwidCache, TtwidSource, UnionRegisterTtwid,
};
use ttlive_source_mock::{ClientRecord, FakeServer, Fault, Pace, Trigger, UserState};

const T: Duration = Duration::from_secs(10);

async fn fake() -> FakeServer {
    FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .user("sleepy", UserState::Offline)
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap()
}

fn home(server: &FakeServer) -> PageTtwid {
    PageTtwid::new(&format!("{}/", server.base_url()))
        .unwrap()
        .no_proxy()
        .unwrap()
        .retry_delay(Duration::from_millis(5))
}

fn cache_for(server: &FakeServer) -> Arc<TtwidCache> {
    Arc::new(TtwidCache::builder().source(home(server)).build())
}

fn direct_for(server: &FakeServer, cache: Arc<TtwidCache>) -> DirectSigner {
    DirectSigner::builder()
        .ttwid_cache(cache)
        .host(DirectHost::Custom(format!("ws://{}", server.addr())))
        .web_base_url(server.base_url())
        .no_proxy()
        .build()
        .unwrap()
}

fn euler_for(server: &FakeServer) -> EulerSigner {
    EulerSigner::builder()
        .base_url(server.base_url())
        .use_env(false)
        .no_proxy()
        .build()
        .unwrap()
}

fn query(url: &str) -> Vec<(String, String)> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param(url: &str, name: &str) -> Option<String> {
    query(url)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// How many requests the fake server saw for this method and path.
fn requests(server: &FakeServer, method: &str, path: &str) -> usize {
    server
        .client_log()
        .iter()
        .filter_map(ClientRecord::as_http)
        .filter(|h| h.method == method && h.path == path)
        .count()
}

/// Opens `conn` exactly as the live source must in direct mode: `push_server` verbatim, its
/// user agent, cookies and extra headers.
async fn open(
    conn: &SignedConnection,
) -> Result<tokio_tungstenite::WebSocketStream<TcpStream>, WsError> {
    let mut request = conn.push_server.as_str().into_client_request().unwrap();
    let h = request.headers_mut();
    h.insert(
        "user-agent",
        HeaderValue::from_str(&conn.user_agent).unwrap(),
    );
    h.insert(
        "cookie",
        HeaderValue::from_str(&conn.cookie_header()).unwrap(),
    );
    for (k, v) in &conn.ws_headers {
        h.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let url = Url::parse(&conn.push_server).unwrap();
    let tcp = TcpStream::connect((url.host_str().unwrap(), url.port().unwrap()))
        .await
        .unwrap();
    tokio_tungstenite::client_async(request, tcp)
        .await
        .map(|(ws, _)| ws)
}

fn rejection_of(e: WsError) -> Rejection {
    match e {
        WsError::Http(resp) => {
            let h = |n: &str| resp.headers().get(n).and_then(|v| v.to_str().ok());
            Rejection::handshake(
                resp.status().as_u16(),
                h("handshake-msg"),
                h("handshake-status"),
            )
        }
        other => panic!("expected a refused upgrade, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// URL

const ORDER: [&str; 29] = [
    "version_code",
    "device_platform",
    "cookie_enabled",
    "screen_width",
    "screen_height",
    "browser_language",
    "browser_platform",
    "browser_name",
    "browser_version",
    "browser_online",
    "tz_name",
    "app_name",
    "sup_ws_ds_opt",
    "update_version_code",
    "compress",
    "webcast_language",
    "ws_direct",
    "aid",
    "live_id",
    "version_code",
    "app_language",
    "client_enter",
    "room_id",
    "identity",
    "history_comment_count",
    "last_rtt",
    "heartbeat_duration",
    "resp_content_type",
    "did_rule",
];

#[test]
fn direct_url_has_the_29_params_in_the_players_order() {
    let preset = BrowserPreset::chrome_windows();
    let url = DirectUrl::new("7312345678901234567", preset.clone())
        .to_url()
        .unwrap();
    assert!(url.starts_with(
        "wss://webcast-ws.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/?version_code=180800&"
    ));
    let q = query(&url);
    let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ORDER);
    let expected = [
        ("version_code", "180800"),
        ("device_platform", "web"),
        ("cookie_enabled", "true"),
        ("screen_width", "1920"),
        ("screen_height", "1080"),
        ("browser_language", "en-US"),
        ("browser_platform", "Win32"),
        ("browser_name", "Mozilla"),
        ("browser_online", "true"),
        ("tz_name", "UTC"),
        ("app_name", "tiktok_web"),
        ("sup_ws_ds_opt", "1"),
        ("update_version_code", "2.0.0"),
        ("compress", "gzip"),
        ("webcast_language", "en"),
        ("ws_direct", "1"),
        ("aid", "1988"),
        ("live_id", "12"),
        ("app_language", "en"),
        ("client_enter", "1"),
        ("room_id", "7312345678901234567"),
        ("identity", "audience"),
        ("history_comment_count", "0"),
        ("last_rtt", "0"),
        ("heartbeat_duration", "10000"),
        ("resp_content_type", "protobuf"),
        ("did_rule", "3"),
    ];
    for (k, v) in expected {
        assert_eq!(param(&url, k).as_deref(), Some(v), "{k}");
    }
    // The second version_code sits before app_language.
    assert_eq!(q[19], ("version_code".into(), "270000".into()));
    // browser_version is the UA minus "Mozilla/", form-encoded (spaces as '+').
    assert_eq!(
        param(&url, "browser_version").unwrap(),
        preset.user_agent().strip_prefix("Mozilla/").unwrap()
    );
    assert!(url.contains("browser_version=5.0+%28Windows+NT+10.0%3B+Win64%3B+x64%29"));
    for absent in [
        "cursor",
        "internal_ext",
        "msToken",
        "X-Bogus",
        "X-Gnarly",
        "signature",
        "device_id",
    ] {
        assert!(param(&url, absent).is_none(), "{absent}");
    }
}

#[test]
fn hosts_and_presets() {
    let p = BrowserPreset::chrome_macos();
    for (host, prefix) in [
        (DirectHost::Global, "wss://webcast-ws.tiktok.com/"),
        (DirectHost::Us, "wss://webcast-ws.us.tiktok.com/"),
        (DirectHost::Eu, "wss://webcast-ws.eu.tiktok.com/"),
        (
            DirectHost::Custom("ws://127.0.0.1:4242".into()),
            "ws://127.0.0.1:4242/webcast/im/ws_proxy/ws_reuse_supplement/?",
        ),
    ] {
        let url = DirectUrl::new("1", p.clone()).host(host).to_url().unwrap();
        assert!(url.starts_with(prefix), "{url}");
    }
    for p in BrowserPreset::builtin() {
        let url = DirectUrl::new("1", p.clone()).to_url().unwrap();
        assert_eq!(
            format!(
                "{}/{}",
                param(&url, "browser_name").unwrap(),
                param(&url, "browser_version").unwrap()
            ),
            p.user_agent()
        );
        assert_eq!(
            param(&url, "browser_platform").unwrap(),
            p.browser_platform()
        );
    }
    let raw = DirectUrl::new("1", p).compress(false).to_url().unwrap();
    assert_eq!(param(&raw, "compress").as_deref(), Some(""));
    assert!(matches!(
        DirectUrl::new("1", BrowserPreset::default())
            .host(DirectHost::Custom("not a url".into()))
            .to_url(),
        Err(SignError::Config(_))
    ));
}

#[tokio::test]
async fn signer_returns_a_direct_connection_with_history_only_on_the_first_connect() {
    let cache = Arc::new(
        TtwidCache::builder()
            .user_ttwid(StaticTtwid::new("1%7Cuser-value").unwrap())
            .build(),
    );
    let signer = DirectSigner::builder()
        .ttwid_cache(cache)
        .host(DirectHost::Us)
        .initial_history_comment_count(6)
        .build()
        .unwrap();
    let first = signer.sign(&SignRequest::new("42")).await.unwrap();
    assert_eq!(first.mode, ConnectionMode::Direct);
    assert!(first.fetch_result.is_none() && first.fetch_body.is_none());
    assert!(first.route_params.is_empty());
    assert_eq!(first.cookie_header(), "ttwid=1%7Cuser-value");
    assert_eq!(
        first.ws_headers,
        vec![("Origin".to_owned(), "https://www.tiktok.com".to_owned())]
    );
    assert!(first.feedback.is_active());
    assert_eq!(first.feedback.ttwid(), Some("1%7Cuser-value"));
    assert!(
        first
            .push_server
            .starts_with("wss://webcast-ws.us.tiktok.com/")
    );
    assert_eq!(
        param(&first.push_server, "history_comment_count").as_deref(),
        Some("6")
    );
    // UA and browser_* agree.
    assert_eq!(
        format!(
            "Mozilla/{}",
            param(&first.push_server, "browser_version").unwrap()
        ),
        first.user_agent
    );

    for request in [
        SignRequest::new("42").with_reconnect(true),
        SignRequest::new("42").with_cursor("t-1_n-3"),
    ] {
        assert!(request.is_reconnect());
        let again = signer.sign(&request).await.unwrap();
        assert_eq!(
            param(&again.push_server, "history_comment_count").as_deref(),
            Some("0")
        );
    }

    // A session rides along as cookies; never in Debug.
    let with_session = signer
        .sign(
            &SignRequest::new("42").with_session(ttlive_signer::SessionCredentials::new(
                "SESSION-SECRET-1",
                "useast2a",
            )),
        )
        .await
        .unwrap();
    assert_eq!(
        with_session.cookie_header(),
        "ttwid=1%7Cuser-value; sessionid=SESSION-SECRET-1; tt-target-idc=useast2a"
    );
    assert!(!format!("{with_session:?}").contains("SESSION-SECRET-1"));

    let e = signer.sign(&SignRequest::new("4x2")).await.unwrap_err();
    assert!(matches!(e, SignError::InvalidRequest(_)) && e.is_fatal());
}

// ---------------------------------------------------------------------------------------------
// ttwid sources

#[tokio::test]
async fn each_ttwid_source_gets_the_servers_cookie() {
    let server = fake().await;
    let ua = BrowserPreset::chrome_linux();
    let ua = ua.user_agent();

    let v1 = home(&server).fetch(ua).await.unwrap();
    let live = PageTtwid::new(&format!("{}/live", server.base_url()))
        .unwrap()
        .no_proxy()
        .unwrap();
    assert_eq!(live.name(), "live_page");
    let v2 = live.fetch(ua).await.unwrap();
    let register =
        UnionRegisterTtwid::with_url(&format!("{}/ttwid/union/register/", server.base_url()))
            .unwrap()
            .no_proxy()
            .unwrap();
    let v3 = register.fetch(ua).await.unwrap();
    assert_eq!(server.issued_ttwids(), vec![v1, v2, v3]);
    let log = server.client_log();
    let http: Vec<_> = log.iter().filter_map(ClientRecord::as_http).collect();
    assert!(http.iter().all(|h| h.header("user-agent") == Some(ua)));
    assert_eq!(http[2].method, "POST");
    assert_eq!(http[2].header("content-type"), Some("application/json"));

    // A register endpoint that refuses (here: a 404) is an error, not a panic.
    let wrong = UnionRegisterTtwid::with_url(&format!("{}/nope", server.base_url()))
        .unwrap()
        .no_proxy()
        .unwrap();
    let e = wrong.fetch(ua).await.unwrap_err();
    assert_eq!(e.status(), Some(404));
}

#[tokio::test]
async fn page_source_retries_an_answer_without_set_cookie() {
    let server = fake().await;
    server.inject(Fault::TtwidWithoutCookie, Trigger::Once);
    let v = home(&server).attempts(3).fetch("UA/1").await.unwrap();
    assert_eq!(server.issued_ttwids(), vec![v]);
    assert_eq!(requests(&server, "GET", "/"), 2);

    server.clear_client_log();
    server.inject(Fault::TtwidWithoutCookie, Trigger::Always);
    let e = home(&server).attempts(4).fetch("UA/1").await.unwrap_err();
    assert!(matches!(e, SignError::MissingCookies { .. }), "{e:?}");
    assert!(e.is_retryable());
    assert_eq!(requests(&server, "GET", "/"), 4);
}

#[tokio::test]
async fn unreachable_source_is_a_retryable_connect_error() {
    // Port 9 on loopback: nothing listens.
    let source = PageTtwid::new("http://127.0.0.1:9/")
        .unwrap()
        .no_proxy()
        .unwrap()
        .attempts(1);
    let e = source.fetch("UA/1").await.unwrap_err();
    assert!(
        matches!(e, SignError::Connect { ref host, .. } if host == "127.0.0.1:9"),
        "{e:?}"
    );
    assert!(e.is_retryable());
    assert!(matches!(
        PageTtwid::new("ftp://x/"),
        Err(SignError::Config(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// The cache

#[tokio::test]
async fn user_supplied_ttwid_always_wins() {
    let server = fake().await;
    let cache = TtwidCache::builder()
        .source(home(&server))
        .user_ttwid_with_user_agent(
            StaticTtwid::new("ttwid=1%7Cmine").unwrap(),
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15",
        )
        .build();
    let lease = cache.get().await.unwrap();
    assert_eq!(lease.value, "1%7Cmine");
    assert!(lease.pinned);
    assert_eq!(lease.preset.browser_platform(), "MacIntel");
    cache.invalidate();
    assert!(!cache.report_rejected("1%7Cmine"));
    assert_eq!(cache.get().await.unwrap().value, "1%7Cmine");
    assert_eq!(requests(&server, "GET", "/"), 0);
    assert_eq!(cache.fetch_count(), 0);
}

#[tokio::test]
async fn many_concurrent_callers_cause_one_request() {
    let server = fake().await;
    let cache = cache_for(&server);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let cache = cache.clone();
        tasks.push(tokio::spawn(async move { cache.get().await.unwrap() }));
    }
    let mut values = Vec::new();
    for t in tasks {
        values.push(t.await.unwrap().value);
    }
    values.dedup();
    assert_eq!(values.len(), 1);
    assert_eq!(server.issued_ttwids(), values);
    assert_eq!(requests(&server, "GET", "/"), 1);
    assert_eq!(cache.fetch_count(), 1);
}

/// A source that counts its calls and answers `v<n>` after a short pause.
#[derive(Debug, Default)]
struct Counting(AtomicU64);

#[async_trait]
impl TtwidSource for Counting {
    fn name(&self) -> &str {
        "counting"
    }

    async fn fetch(&self, user_agent: &str) -> Result<String, SignError> {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(!user_agent.is_empty());
        Ok(format!("v{n}"))
    }
}

#[tokio::test(start_paused = true)]
async fn value_expires_after_its_lifetime() {
    let counting = Arc::new(Counting::default());
    let cache = Arc::new(
        TtwidCache::builder()
            .shared_source(counting.clone())
            .lifetime(Duration::from_secs(2 * 60 * 60))
            .build(),
    );
    // Single flight also with a slow source and paused time.
    let (a, b) = tokio::join!(cache.get(), cache.get());
    assert_eq!(a.unwrap().value, "v1");
    assert_eq!(b.unwrap().value, "v1");
    tokio::time::advance(Duration::from_secs(2 * 60 * 60 - 60)).await;
    assert_eq!(cache.get().await.unwrap().value, "v1");
    assert!(cache.current().is_some());
    tokio::time::advance(Duration::from_secs(61)).await;
    assert!(cache.current().is_none());
    let renewed = cache.get().await.unwrap();
    assert_eq!(renewed.value, "v2");
    assert_eq!(renewed.generation, 2);
    assert_eq!(counting.0.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn rejection_replaces_the_value_and_the_user_agent_once() {
    let server = fake().await;
    let cache = cache_for(&server);
    let first = cache.get().await.unwrap();
    assert!(cache.report_rejected(&first.value));
    // Many rooms reporting the same refusal: one replacement.
    assert!(!cache.report_rejected(&first.value));
    let second = cache.get().await.unwrap();
    assert_ne!(second.value, first.value);
    assert_ne!(second.preset.user_agent(), first.preset.user_agent());
    assert_eq!(second.generation, first.generation + 1);
    // invalidate() drops whatever is current.
    cache.invalidate();
    let third = cache.get().await.unwrap();
    assert_ne!(third.value, second.value);
    assert_ne!(third.preset.user_agent(), second.preset.user_agent());
    assert_eq!(requests(&server, "GET", "/"), 3);
    // Each value was fetched with the user agent it is handed out with.
    let uas: Vec<String> = server
        .client_log()
        .iter()
        .filter_map(ClientRecord::as_http)
        .filter_map(|h| h.header("user-agent").map(str::to_owned))
        .collect();
    assert_eq!(
        uas,
        [&first, &second, &third].map(|l| l.preset.user_agent().to_owned())
    );
    // No value is leaked by Debug.
    assert!(!format!("{third:?} {cache:?}").contains(&third.value));
}

#[tokio::test]
async fn failed_fetch_caches_nothing_and_tries_the_next_source() {
    let server = fake().await;
    server.inject(Fault::TtwidWithoutCookie, Trigger::Always);
    let cache = TtwidCache::builder()
        .source(home(&server).attempts(2))
        .build();
    assert!(matches!(
        cache.get().await,
        Err(SignError::MissingCookies { .. })
    ));
    assert!(cache.current().is_none());
    server.clear_faults();
    assert!(cache.get().await.is_ok());

    let server2 = fake().await;
    server2.inject(Fault::TtwidWithoutCookie, Trigger::EveryN(1));
    let chained = TtwidCache::builder()
        .source(home(&server2).attempts(1))
        .source(Counting::default())
        .build();
    let lease = chained.get().await.unwrap();
    assert_eq!(
        (lease.value.as_str(), lease.source.as_str()),
        ("v1", "counting")
    );
    assert!(matches!(
        TtwidCache::builder().build().get().await,
        Err(SignError::Config(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// The signer against the fake socket, and the feedback loop

#[tokio::test]
async fn direct_connection_opens_the_fake_socket_with_no_sign_call() {
    let server = fake().await;
    let signer = direct_for(&server, cache_for(&server));
    let room = signer.resolve_room_id("@fakeuser").await.unwrap();
    assert!(room.is_live);
    assert_eq!(room.room_id, server.room_id("fakeuser").to_string());
    let conn = signer.sign(&SignRequest::new(&room.room_id)).await.unwrap();
    let mut ws = open(&conn)
        .await
        .expect("the fake server accepts the direct URL");
    conn.feedback.report_connected();
    let room_id: u64 = room.room_id.parse().unwrap();
    ws.send(Message::Binary(
        ttlive_proto::heartbeat_frame(room_id, 1).into(),
    ))
    .await
    .unwrap();
    ws.send(Message::Binary(
        ttlive_proto::enter_room_frame(room_id, ttlive_proto::new_enter_unique_id()).into(),
    ))
    .await
    .unwrap();
    let mut got_msg = false;
    while let Ok(Some(Ok(m))) = tokio::time::timeout(T, ws.next()).await {
        if let Message::Binary(b) = m {
            let f = ttlive_proto::decode_push_frame(&b).unwrap();
            if f.payload_type == "msg" {
                got_msg = true;
                break;
            }
        }
    }
    assert!(got_msg);
    let log = server.client_log();
    assert!(
        log.iter()
            .any(|r| matches!(r, ClientRecord::WsOpen { direct: true, .. }))
    );
    let upgrade = log
        .iter()
        .filter_map(ClientRecord::as_http)
        .find(|h| h.header("upgrade").is_some())
        .unwrap();
    assert_eq!(
        upgrade.header("cookie"),
        Some(format!("ttwid={}", server.issued_ttwids()[0]).as_str())
    );
    assert_eq!(upgrade.header("user-agent"), Some(conn.user_agent.as_str()));
    assert_eq!(upgrade.header("origin"), Some("https://www.tiktok.com"));
    assert_eq!(requests(&server, "GET", "/webcast/fetch"), 0);

    let e = signer.resolve_room_id("@nobody").await.unwrap_err();
    assert!(matches!(e, SignError::RoomIdUnavailable { .. }) && e.is_fatal());
    let sleepy = signer.resolve_room_id("sleepy").await.unwrap();
    assert!(!sleepy.is_live);
}

#[tokio::test]
async fn device_blocked_reported_by_the_source_rotates_ttwid_and_user_agent() {
    let server = fake().await;
    server.inject(Fault::DeviceBlocked, Trigger::Once);
    let signer = direct_for(&server, cache_for(&server));
    let conn = signer.sign(&SignRequest::new("1")).await.unwrap();
    let rejection = rejection_of(open(&conn).await.unwrap_err());
    assert!(rejection.is_device_blocked(), "{rejection}");
    conn.feedback.report_rejected(rejection);

    let retry = signer
        .sign(&SignRequest::new("1").with_reconnect(true))
        .await
        .unwrap();
    assert_ne!(retry.cookie("ttwid"), conn.cookie("ttwid"));
    assert_ne!(retry.user_agent, conn.user_agent);
    assert_eq!(
        param(&retry.push_server, "browser_platform").as_deref(),
        Some(BrowserPreset::from_user_agent(&retry.user_agent).browser_platform())
    );
    assert!(open(&retry).await.is_ok());

    // A socket that dies within seconds rotates too; one that lived long does not.
    retry.feedback.report_closed(Duration::from_secs(3));
    let third = signer.sign(&SignRequest::new("1")).await.unwrap();
    assert_ne!(third.cookie("ttwid"), retry.cookie("ttwid"));
    third.feedback.report_closed(Duration::from_secs(600));
    let fourth = signer.sign(&SignRequest::new("1")).await.unwrap();
    assert_eq!(fourth.cookie("ttwid"), third.cookie("ttwid"));
    assert_eq!(server.issued_ttwids().len(), 3);
}

#[tokio::test]
async fn missing_cookie_refusal_is_seen_and_typed() {
    let server = fake().await;
    let signer = direct_for(&server, cache_for(&server));
    let mut conn = signer.sign(&SignRequest::new("1")).await.unwrap();
    conn.cookies.clear();
    let r = rejection_of(open(&conn).await.unwrap_err());
    assert_eq!(
        r,
        Rejection::handshake(200, Some(FakeServer::MISSING_TTWID_MSG), None)
    );
    assert!(r.replaces_ttwid() && !r.is_device_blocked());
}

// ---------------------------------------------------------------------------------------------
// Fallback

#[tokio::test]
async fn fallback_signs_with_euler_when_direct_fails() {
    let server = fake().await;
    server.inject(Fault::TtwidWithoutCookie, Trigger::Always);
    let cache = Arc::new(
        TtwidCache::builder()
            .source(home(&server).attempts(2))
            .build(),
    );
    let direct = direct_for(&server, cache);
    let room = server.room_id("fakeuser").to_string();

    let auto = FallbackSigner::builder(direct.clone(), euler_for(&server)).build();
    assert_eq!(auto.mode(), SignerMode::Auto);
    let conn = auto.sign(&SignRequest::new(&room)).await.unwrap();
    assert_eq!(conn.mode, ConnectionMode::Signed);
    assert!(conn.fetch_result.is_some());
    assert_eq!(requests(&server, "GET", "/"), 2);
    assert_eq!(
        requests(&server, "GET", &format!("/webcast/rooms/{room}/connect")),
        1
    );

    let direct_only = FallbackSigner::builder(direct.clone(), euler_for(&server))
        .mode("direct".parse().unwrap())
        .build();
    assert!(matches!(
        direct_only.sign(&SignRequest::new(&room)).await,
        Err(SignError::MissingCookies { .. })
    ));

    server.clear_client_log();
    let euler_only = FallbackSigner::builder(direct, euler_for(&server))
        .mode(SignerMode::Euler)
        .build();
    assert!(euler_only.is_falling_back());
    let conn = euler_only.sign(&SignRequest::new(&room)).await.unwrap();
    assert_eq!(conn.mode, ConnectionMode::Signed);
    assert_eq!(requests(&server, "GET", "/"), 0);
}

#[tokio::test]
async fn repeated_socket_refusals_switch_to_euler_for_a_while() {
    let server = fake().await;
    let signer =
        FallbackSigner::builder(direct_for(&server, cache_for(&server)), euler_for(&server))
            .rejections_before_fallback(2)
            .direct_retry_after(Duration::from_millis(300))
            .build();
    let req = SignRequest::new("1");

    for _ in 0..2 {
        let conn = signer.sign(&req).await.unwrap();
        assert_eq!(conn.mode, ConnectionMode::Direct);
        conn.feedback.report_rejected(Rejection::handshake(
            200,
            Some("DEVICE_BLOCKED"),
            Some("415"),
        ));
    }
    assert!(signer.is_falling_back());
    assert_eq!(
        signer.sign(&req).await.unwrap().mode,
        ConnectionMode::Signed
    );

    tokio::time::sleep(Duration::from_millis(400)).await;
    let conn = signer.sign(&req).await.unwrap();
    assert_eq!(conn.mode, ConnectionMode::Direct);
    // A healthy long session resets the count; one more refusal does not trip it.
    conn.feedback.report_closed(Duration::from_secs(3600));
    let conn = signer.sign(&req).await.unwrap();
    conn.feedback
        .report_rejected(Rejection::handshake(200, Some("DEVICE_BLOCKED"), None));
    assert!(!signer.is_falling_back());
    // `disable_web_direct` switches at once.
    conn.feedback
        .report_rejected(Rejection::close_frame("disable_web_direct"));
    assert!(signer.is_falling_back());
    assert_eq!(
        signer.sign(&req).await.unwrap().mode,
        ConnectionMode::Signed
    );
}

#[tokio::test]
async fn close_frame_fault_is_seen_by_a_direct_client() {
    let server = fake().await;
    server.inject(
        Fault::CloseFrame {
            reason: "disable_web_direct".into(),
        },
        Trigger::Once,
    );
    let signer = direct_for(&server, cache_for(&server));
    let conn = signer.sign(&SignRequest::new("1")).await.unwrap();
    let mut ws = open(&conn).await.unwrap();
    ws.send(Message::Binary(ttlive_proto::heartbeat_frame(1, 1).into()))
        .await
        .unwrap();
    ws.send(Message::Binary(ttlive_proto::enter_room_frame(1, 9).into()))
        .await
        .unwrap();
    let mut reason = None;
    while let Ok(Some(Ok(Message::Binary(b)))) = tokio::time::timeout(T, ws.next()).await {
        let f = ttlive_proto::decode_push_frame(&b).unwrap();
        if f.payload_type == "close" {
            reason = ttlive_proto::frame_header(&f, "close_reason").map(str::to_owned);
        }
    }
    let r = Rejection::close_frame(&reason.expect("a close frame"));
    assert!(r.disables_direct());
}
