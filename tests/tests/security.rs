//! Security hygiene (issue 9): the API key and the session id never appear in logs, `Debug`
//! output or error text, on the happy path or the failing ones; the session is never sent to
//! a sign server that was not allowed; TLS certificates are checked by default.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use ttlive_eventbus::{EventSource, SourceEnd, SourceItem};
use ttlive_signer::{EulerSigner, SessionCredentials, SignRequest, Signer};
use ttlive_source_mock::{ClientRecord, FakeServer, Fault, Pace, Trigger, UserState};
use ttlive_source_tiktok::{TikTokSource, WebClient};

const API_KEY: &str = "euler-key-SECRET-5bd1c0ffee";
const SESSION_ID: &str = "sessionid-SECRET-9e77a1";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)";

// ---------------------------------------------------------------------------------------------
// Log capture: one global subscriber for the whole binary, at TRACE, for every crate but the
// fake server (a test tool that logs what clients sent it, headers included).

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let capture = Capture::default();
        let writer = capture.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "trace,ttlive_source_mock=off",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        capture
    })
}

fn captured() -> String {
    String::from_utf8_lossy(&logs().0.lock().unwrap()).into_owned()
}

fn assert_clean(what: &str, text: &str) {
    for secret in [API_KEY, SESSION_ID] {
        if let Some(i) = text.find(secret) {
            let from = i.saturating_sub(200);
            panic!(
                "{what} shows a secret: …{}…",
                &text[from..(i + secret.len() + 50).min(text.len())]
            );
        }
    }
}

fn signer(base: &str, allow_session: bool) -> Arc<EulerSigner> {
    let mut b = EulerSigner::builder()
        .base_url(base)
        .api_key(API_KEY)
        .use_env(false)
        .no_proxy();
    if allow_session {
        b = b.allow_session_host(base.trim_start_matches("http://"));
    }
    Arc::new(b.build().unwrap())
}

fn session() -> SessionCredentials {
    SessionCredentials::new(SESSION_ID, "useast2a")
}

/// Runs a source to its end and returns every error's and the end's Display and Debug text.
async fn run_texts(mut src: TikTokSource, limit: Duration) -> (Vec<String>, Option<SourceEnd>) {
    let mut texts = vec![format!("{src:?}")];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, src.next())
            .await
            .expect("the source did not end in time")
        {
            SourceItem::Event(e) if e.kind().is_lifecycle() => {
                texts.push(format!("{e:?}"));
                texts.push(serde_json::to_string(&e).unwrap());
            }
            SourceItem::Error(e) => {
                texts.push(e.to_string());
                texts.push(format!("{e:?}"));
            }
            SourceItem::End(end) => {
                texts.push(end.to_string());
                texts.push(format!("{end:?}"));
                return (texts, Some(end));
            }
            _ => {}
        }
    }
}

fn source(base: &str, signer: Arc<EulerSigner>) -> TikTokSource {
    TikTokSource::builder("fakeuser")
        .signer(signer)
        .web_url(base)
        .webcast_url(base)
        .session(session())
        .backoff(Duration::from_millis(10), Duration::from_millis(50))
        .stall_timeout(Duration::from_millis(500))
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
        .max_attempts(Some(20))
        .start()
        .unwrap()
}

#[tokio::test]
async fn secrets_stay_out_of_logs_debug_and_errors_through_every_fault() {
    logs();
    let srv = FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .pace(Pace::Instant)
        .fault(
            Fault::SignRateLimited {
                retry_after_secs: 0,
            },
            Trigger::Once,
        )
        .fault(Fault::SignServerError, Trigger::Once)
        .fault(Fault::RejectUpgrade("DEVICE_BLOCKED".into()), Trigger::Once)
        .fault(Fault::MalformedFrame, Trigger::Once)
        .fault(Fault::DropAfterFrames(3), Trigger::Once)
        .start()
        .await
        .unwrap();
    let base = srv.base_url();
    let s = signer(&base, true);
    let mut texts = vec![format!("{s:?}"), format!("{:?}", session())];
    texts.push(format!(
        "{:?}",
        SignRequest::new("1").with_session(session())
    ));
    let (t, end) = run_texts(source(&base, s.clone()), Duration::from_secs(60)).await;
    texts.extend(t);
    assert_eq!(end, Some(SourceEnd::StreamEnded), "{texts:?}");
    // The session was forwarded to this allowed signer (so the test did carry it).
    assert!(srv.client_log().iter().any(|r| matches!(
        r,
        ClientRecord::Http(h) if h.header("x-cookie-header").is_some_and(|v| v.contains(SESSION_ID))
    )));
    // A signed connection's Debug (cookies include the session).
    let conn = s
        .sign(&SignRequest::new(srv.room_id("fakeuser").to_string()).with_session(session()))
        .await
        .unwrap();
    assert!(conn.cookie_header().contains(SESSION_ID));
    texts.push(format!("{conn:?}"));

    // Fatal paths: a refused key, and a signer that may not see the session.
    srv.inject(Fault::SignUnauthorized, Trigger::Always);
    let (t, end) = run_texts(source(&base, s.clone()), Duration::from_secs(30)).await;
    assert!(matches!(end, Some(SourceEnd::Fatal(_))), "{t:?}");
    texts.extend(t);
    srv.clear_faults();
    let (t, end) = run_texts(source(&base, signer(&base, false)), Duration::from_secs(30)).await;
    assert!(matches!(end, Some(SourceEnd::Fatal(_))), "{t:?}");
    texts.extend(t);

    for t in &texts {
        assert_clean("an error or Debug text", t);
    }
    assert_clean("the logs", &captured());
    srv.shutdown().await;
}

/// A hostile sign server that echoes the request (headers included) in its error answers.
fn echo_server(status_line: &'static str) -> (String, std::thread::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        // Bounded: at most 2 requests (sign, room id), for at most 10 s.
        let until = std::time::Instant::now() + Duration::from_secs(10);
        let mut served = 0;
        while served < 2 && std::time::Instant::now() < until {
            let Ok((mut s, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            served += 1;
            let _ = s.set_nonblocking(false);
            let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
            let mut req = vec![0u8; 16 * 1024];
            let n = s.read(&mut req).unwrap_or(0);
            let echoed = String::from_utf8_lossy(&req[..n]).replace(['"', '\r', '\n'], " ");
            let body = format!("{{\"code\":1,\"message\":\"you sent: {echoed}\"}}");
            let resp = format!(
                "{status_line}\r\nContent-Type: application/json\r\nX-Request-Id: {API_KEY}\r\nRetry-After: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (format!("http://{addr}"), handle)
}

#[tokio::test]
async fn a_sign_server_that_echoes_the_secrets_does_not_get_them_into_errors() {
    logs();
    for status in [
        "HTTP/1.1 401 Unauthorized",
        "HTTP/1.1 429 Too Many Requests",
        "HTTP/1.1 500 Internal Server Error",
        "HTTP/1.1 200 OK",
    ] {
        let (base, handle) = echo_server(status);
        let s = signer(&base, true);
        let err = s
            .sign(&SignRequest::new("7460000000000004242").with_session(session()))
            .await
            .unwrap_err();
        let mut text = format!("{err} {err:?}");
        let mut cur = std::error::Error::source(&err);
        while let Some(c) = cur {
            text.push_str(&c.to_string());
            cur = c.source();
        }
        assert!(
            text.contains("you sent") || status.contains("200"),
            "{text}"
        );
        assert_clean(status, &text);
        let _ = s.resolve_room_id("someone").await.map_err(|e| {
            assert_clean("resolve_room_id", &format!("{e} {e:?}"));
        });
        drop(s);
        let _ = handle.join();
    }
    assert_clean("the logs", &captured());
}

#[tokio::test]
async fn the_session_never_goes_to_a_sign_server_that_was_not_allowed() {
    logs();
    let srv = FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .pace(Pace::Instant)
        .start()
        .await
        .unwrap();
    let base = srv.base_url();
    // Directly: refused before any request.
    let s = signer(&base, false);
    let err = s
        .sign(&SignRequest::new("7460000000000004242").with_session(session()))
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    // Through the source: a fatal end, and no sign request carried the session.
    let (texts, end) = run_texts(source(&base, s), Duration::from_secs(30)).await;
    assert!(matches!(end, Some(SourceEnd::Fatal(_))), "{texts:?}");
    let log = srv.client_log();
    for r in &log {
        if let ClientRecord::Http(h) = r {
            assert!(h.header("x-cookie-header").is_none(), "{h:?}");
            assert!(!format!("{h:?}").contains(SESSION_ID), "{h:?}");
        }
    }
    assert!(
        !log.iter().any(|r| matches!(r, ClientRecord::WsOpen { .. })),
        "connected without the session it was asked to use"
    );
    srv.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// TLS: a server on 127.0.0.1 with a self-signed certificate (generated for this test, for
// IP 127.0.0.1, valid until 2126) is refused.

const SELF_SIGNED_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBkTCCATagAwIBAgIUUGAw5+ivlYKr7hXiadHBcqzu1nQwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNzIxMjE0OFoYDzIxMjYxMTAz
MjEyMTQ4WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASMfrTUAzuFSFsO5tuBv4/IC0tq4EmrP/DRx8Lxteu66VIqyGGPXXWL
BC1pEpKbdR4KX32uGewEtFHEUhUICfuao2QwYjAdBgNVHQ4EFgQUfC4acon0wjPV
DeyPoQ1YvaL3PS4wHwYDVR0jBBgwFoAUfC4acon0wjPVDeyPoQ1YvaL3PS4wDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0kAMEYC
IQD9jdcuisYHxvm7GzMxP5I3UO+vgD/Eqi+PlBPnA0HdoAIhAKlb0bDNAKXpPWym
9vtvlKXIv2kUY/QX2QodFo9JsWE2
-----END CERTIFICATE-----
";

/// The throwaway key of the certificate above (test-only, protects nothing).
const SELF_SIGNED_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgev2HHK4GqAalNP+J
ynUzipT8ReN36rCCemZxJB1xlQehRANCAASMfrTUAzuFSFsO5tuBv4/IC0tq4Emr
P/DRx8Lxteu66VIqyGGPXXWLBC1pEpKbdR4KX32uGewEtFHEUhUICfua
-----END PRIVATE KEY-----
";

/// Serves TLS handshakes with the self-signed certificate; reports how each ended.
fn tls_server(
    connections: usize,
) -> (
    std::net::SocketAddr,
    std::sync::mpsc::Receiver<Result<(), String>>,
) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let cert = CertificateDer::from_pem_slice(SELF_SIGNED_CERT.as_bytes()).unwrap();
    let key = PrivateKeyDer::from_pem_slice(SELF_SIGNED_KEY.as_bytes()).unwrap();
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for _ in 0..connections {
            let Ok((tcp, _)) = listener.accept() else {
                return;
            };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut buf = [0u8; 1024];
            let r = tls.read(&mut buf).map(|_| ()).map_err(|e| e.to_string());
            let _ = tx.send(r);
        }
    });
    (addr, rx)
}

fn assert_refused(rx: &std::sync::mpsc::Receiver<Result<(), String>>, what: &str) {
    let r = rx
        .recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| panic!("{what}: no TLS handshake reached the server"));
    let e = r.expect_err("the client finished a handshake with a self-signed certificate");
    assert!(
        e.contains("UnknownCA") || e.contains("BadCertificate") || e.contains("alert"),
        "{what}: the handshake failed for another reason: {e}"
    );
}

#[tokio::test]
async fn self_signed_tls_is_refused_by_the_signer_and_the_web_client() {
    let (addr, rx) = tls_server(2);
    let base = format!("https://{addr}");
    let s = EulerSigner::builder()
        .base_url(&base)
        .use_env(false)
        .no_proxy()
        .build()
        .unwrap();
    let err = s
        .sign(&SignRequest::new("7460000000000004242"))
        .await
        .unwrap_err();
    assert_refused(&rx, &format!("signer ({err})"));

    let web = WebClient::new(&base, &base, UA, None, Duration::from_secs(5)).unwrap();
    let err = web.room_from_page("someone").await.unwrap_err();
    assert_refused(&rx, &format!("web client ({err})"));
}
