//! Helpers shared by the integration tests: a server on loopback, real clients (WebSocket,
//! SSE), and buses fed by the demo recording or by the live source against the fake server.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use ttlive_eventbus::{Event, EventBus, Filter, Subscription};
use ttlive_signer::{EulerSigner, Signer};
use ttlive_source_mock::{FakeServer, Pace, UserState, demo_recording};
use ttlive_source_tiktok::TikTokSource;

/// Serves `router` on 127.0.0.1 (random port) until the test ends.
pub async fn serve(router: axum::Router) -> SocketAddr {
    use axum::serve::ListenerExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    addr
}

/// A fake TikTok on loopback playing the demo recording.
pub async fn fake_tiktok(pace: Pace) -> FakeServer {
    FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .recording(demo_recording())
        .pace(pace)
        .start()
        .await
        .unwrap()
}

/// The live source, pointed at the fake server, as `watch` would run it.
pub fn live_source(server: &FakeServer) -> TikTokSource {
    let base = server.base_url();
    let signer: Arc<dyn Signer> = Arc::new(
        EulerSigner::builder()
            .base_url(&base)
            .use_env(false)
            .no_proxy()
            .build()
            .unwrap(),
    );
    TikTokSource::builder("fakeuser")
        .signer(signer)
        .web_url(&base)
        .webcast_url(&base)
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .timeouts(Duration::from_secs(5), Duration::from_secs(5))
        .polling(false, Duration::from_secs(1), Duration::from_secs(60))
        .start()
        .unwrap()
}

/// Everything published on `bus`, read by a lossless subscriber made before the source starts.
pub fn truth(bus: &EventBus) -> Subscription {
    bus.subscribe_lossless(Filter::all())
}

/// Drains a subscription until the bus closes.
pub async fn drain(mut sub: Subscription) -> Vec<Arc<Event>> {
    let mut out = Vec::new();
    while let Some(item) = sub.recv().await {
        out.push(item.expect("a lossless subscriber never lags"));
    }
    out
}

pub fn json(ev: &Event) -> String {
    serde_json::to_string(ev).unwrap()
}

/// Waits until `check` holds (polling), or panics after `limit`.
pub async fn wait_until(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + limit;
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub type Ws = WebSocketStream<TcpStream>;

/// A WebSocket client connected to `path` on `addr`.
pub async fn ws_connect(addr: SocketAddr, path: &str) -> Ws {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}{path}"), tcp)
        .await
        .unwrap();
    ws
}

/// What a WebSocket client read until the server closed: texts, pings and the close code.
#[derive(Debug, Default)]
pub struct WsRead {
    pub texts: Vec<String>,
    pub pings: usize,
    pub close: Option<(u16, String)>,
}

/// Reads until the server closes (or `limit` passes, which fails the test).
pub async fn ws_read_all(ws: &mut Ws, limit: Duration) -> WsRead {
    let mut read = WsRead::default();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("the server did not close the socket in time");
        match msg {
            Some(Ok(Message::Text(t))) => read.texts.push(t.to_string()),
            Some(Ok(Message::Ping(_))) => read.pings += 1,
            Some(Ok(Message::Close(frame))) => {
                read.close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                let _ = ws.close(None).await;
                return read;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return read,
        }
    }
}

/// One server-sent event (or comment) as the client parsed it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseMsg {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    pub comment: Option<String>,
    pub retry: Option<String>,
}

/// A streaming SSE client over a real HTTP connection.
pub struct SseClient {
    resp: reqwest::Response,
    buf: String,
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

impl SseClient {
    /// Connects; `last_event_id` is sent as the `Last-Event-ID` header. Returns the status
    /// and body for an error answer.
    pub async fn connect(
        addr: SocketAddr,
        path: &str,
        last_event_id: Option<&str>,
    ) -> Result<SseClient, (u16, String)> {
        let mut req = http().get(format!("http://{addr}{path}"));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id);
        }
        let resp = req.send().await.unwrap();
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            return Err((status, resp.text().await.unwrap_or_default()));
        }
        assert_eq!(
            resp.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Ok(SseClient {
            resp,
            buf: String::new(),
        })
    }

    /// The next message, or `None` when the stream ended; panics after `limit`.
    pub async fn next(&mut self, limit: Duration) -> Option<SseMsg> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let mut msg = SseMsg::default();
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(c) = line.strip_prefix(':') {
                        msg.comment = Some(c.strip_prefix(' ').unwrap_or(c).to_owned());
                    } else if let Some((k, v)) = line.split_once(':') {
                        let v = v.strip_prefix(' ').unwrap_or(v).to_owned();
                        match k {
                            "id" => msg.id = Some(v),
                            "event" => msg.event = Some(v),
                            "data" => data.push(v),
                            "retry" => msg.retry = Some(v),
                            _ => {}
                        }
                    }
                }
                msg.data = data.join("\n");
                return Some(msg);
            }
            let chunk = tokio::time::timeout_at(deadline, self.resp.chunk())
                .await
                .expect("no SSE message in time");
            match chunk {
                Ok(Some(bytes)) => self.buf.push_str(std::str::from_utf8(&bytes).unwrap()),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The next message that carries an event (skipping comments and the retry hint).
    pub async fn next_event(&mut self, limit: Duration) -> Option<SseMsg> {
        loop {
            let m = self.next(limit).await?;
            if m.event.is_some() {
                return Some(m);
            }
        }
    }
}

/// Compares two sequences of JSON lines, reporting lengths and the first difference briefly.
pub fn assert_same(got: &[String], want: &[String], what: &str) {
    if got == want {
        return;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b);
    let show = |v: Option<&String>| v.map(|s| s.chars().take(160).collect::<String>());
    panic!(
        "{what}: got {} items, want {}; first difference at {first:?}: got {:?}, want {:?}",
        got.len(),
        want.len(),
        first.and_then(|i| show(got.get(i))),
        first.and_then(|i| show(want.get(i))),
    );
}

/// A fresh empty directory under the system temp dir (left behind for inspection).
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let d = std::env::temp_dir().join(format!(
        "ttlive-outputs-{name}-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// True when tests that need something this machine may lack must fail instead of skipping.
pub fn required() -> bool {
    std::env::var("TTLIVE_REQUIRE_SERVERS").is_ok_and(|v| v == "1")
}

/// A small tmpfs mounted on a fresh directory (needs root): a real full disk. `None`, after
/// saying why, where it cannot be mounted (a failure under `TTLIVE_REQUIRE_SERVERS=1`).
pub struct Tmpfs {
    pub dir: std::path::PathBuf,
}

impl Tmpfs {
    pub fn mount(name: &str, size: &str) -> Option<Tmpfs> {
        let dir = temp_dir(name);
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Tmpfs { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    !required(),
                    "cannot mount a tmpfs for the full-disk test: {why}"
                );
                eprintln!(
                    "SKIPPED: the full-disk test needs a small tmpfs and could not mount one ({why}); run it as root"
                );
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.dir).status();
    }
}

/// Fills the filesystem at `dir` with a file until writing fails; returns the file.
pub fn fill_disk(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut f = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 4096];
    while f.write_all(&block).is_ok() {}
    let _ = f.sync_all();
    path
}
