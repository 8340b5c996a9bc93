//! The overlay pages in a real headless Chromium (Debian's `chromium`), driven over the
//! DevTools protocol: the bus is fed by the live source against the fake TikTok, chat lines
//! appear in the DOM within seconds, each finished gift streak is counted once, and
//! screenshots are saved (their paths printed). Skipped without `/usr/bin/chromium` (a failure
//! under `TTLIVE_REQUIRE_SERVERS=1`).

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine;
use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use ttlive_eventbus::{Event, EventBus, EventKind};
use ttlive_outputs::{FeedConfig, FeedHub};
use ttlive_source_mock::Pace;

const CHROMIUM: &str = "/usr/bin/chromium";

struct Browser {
    child: Child,
    port: u16,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn launch() -> Option<Browser> {
    if !Path::new(CHROMIUM).exists() {
        assert!(
            !required(),
            "{CHROMIUM} is missing: apt-get install -y chromium"
        );
        eprintln!(
            "SKIPPED: the overlay browser test needs Debian's chromium (apt-get install -y chromium)"
        );
        return None;
    }
    let profile = temp_dir("chromium-profile");
    let child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "--window-size=800,600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("about:blank")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let port_file = profile.join("DevToolsActivePort");
    let mut port = None;
    for _ in 0..300 {
        if let Some(p) = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|t| t.lines().next().and_then(|l| l.trim().parse().ok()))
        {
            port = Some(p);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Some(Browser {
        child,
        port: port.expect("chromium wrote DevToolsActivePort"),
    })
}

/// A DevTools connection to one page.
struct Page {
    ws: Ws2,
    next: u64,
}

type Ws2 = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

impl Page {
    async fn open(browser: &Browser, url: &str) -> Page {
        let text = http()
            .put(format!(
                "http://127.0.0.1:{}/json/new?about:blank",
                browser.port
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let target: Value = serde_json::from_str(&text).unwrap();
        let ws_url = target["webSocketDebuggerUrl"].as_str().unwrap().to_owned();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", browser.port))
            .await
            .unwrap();
        let (ws, _) = tokio_tungstenite::client_async(ws_url, tcp).await.unwrap();
        let mut page = Page { ws, next: 0 };
        page.call("Page.navigate", json!({ "url": url })).await;
        page
    }

    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let msg = json!({"id": id, "method": method, "params": params}).to_string();
        self.ws.send(Message::Text(msg.into())).await.unwrap();
        loop {
            let m = tokio::time::timeout(Duration::from_secs(30), self.ws.next())
                .await
                .expect("DevTools answered")
                .unwrap()
                .unwrap();
            if let Message::Text(t) = m {
                let v: Value = serde_json::from_str(&t).unwrap();
                if v["id"] == id {
                    assert!(v.get("error").is_none(), "{method}: {v}");
                    return v["result"].clone();
                }
            }
        }
    }

    async fn eval(&mut self, expr: &str) -> Value {
        let r = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expr, "returnByValue": true}),
            )
            .await;
        r["result"]["value"].clone()
    }

    async fn wait_for(&mut self, what: &str, expr: &str, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.eval(expr).await == Value::Bool(true) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn screenshot(&mut self, path: &PathBuf) {
        // A dark backdrop instead of the page's transparency, so the picture can be read.
        self.call(
            "Emulation.setDefaultBackgroundColorOverride",
            json!({"color": {"r": 40, "g": 44, "b": 52, "a": 1}}),
        )
        .await;
        let shot = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
        println!("screenshot: {}", path.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlays_show_chat_within_seconds_and_count_each_finished_streak_once() {
    let Some(browser) = launch().await else {
        return;
    };
    let bus = EventBus::new();
    let hub = FeedHub::start(&bus, FeedConfig::default());
    let addr = serve(hub.router()).await;
    let mut chat = Page::open(
        &browser,
        &format!("http://{addr}/overlay/chat?room=@fakeuser&lines=8&fade=0"),
    )
    .await;
    let mut gifts = Page::open(
        &browser,
        &format!("http://{addr}/overlay/gifts?room=@fakeuser&lines=1000&fade=0&top=5&goal=5000"),
    )
    .await;
    let open = "document.getElementById('status').dataset.state === 'open'";
    chat.wait_for("the chat page's stream", open, Duration::from_secs(20))
        .await;
    gifts
        .wait_for("the gift page's stream", open, Duration::from_secs(20))
        .await;
    assert_eq!(
        chat.eval("getComputedStyle(document.body).backgroundColor")
            .await,
        "rgba(0, 0, 0, 0)",
        "transparent for OBS"
    );

    let tiktok = fake_tiktok(Pace::Speed(12.0)).await;
    let truth = truth(&bus);
    let started = std::time::Instant::now();
    let source = bus.attach(live_source(&tiktok)).unwrap();
    chat.wait_for(
        "three chat lines",
        "document.querySelectorAll('#lines .line').length >= 3",
        Duration::from_secs(10),
    )
    .await;
    println!("three chat lines after {:?}", started.elapsed());
    let shot_dir = temp_dir("overlay-shots");
    chat.screenshot(&shot_dir.join("chat.png")).await;

    source.join().await;
    bus.close().await;
    let events = drain(truth).await;
    tiktok.shutdown().await;
    // The page got the last events before the stream closed.
    let finished: Vec<&Event> = events
        .iter()
        .map(|e| &**e)
        .filter(|e| matches!(e, Event::Gift(g) if !g.streaking))
        .collect();
    let streaking: HashSet<String> = events
        .iter()
        .filter(|e| matches!(&***e, Event::Gift(g) if g.streaking))
        .map(|e| e.msg_id().to_string())
        .collect();
    assert!(!streaking.is_empty(), "the demo has gift streaks");
    let want: Vec<String> = finished.iter().map(|e| e.msg_id().to_string()).collect();
    let expr = format!(
        "document.querySelectorAll('#gifts .gift').length >= {}",
        want.len()
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while gifts.eval(&expr).await != Value::Bool(true) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shown: Vec<String> = serde_json::from_value(
        gifts
            .eval("[...document.querySelectorAll('#gifts .gift')].map(e => e.dataset.msgId)")
            .await,
    )
    .unwrap();
    assert_eq!(shown.len(), want.len(), "shown {shown:?}\nwant {want:?}");
    assert_eq!(
        shown, want,
        "each finished gift once, in order; no streak step shown"
    );
    assert!(shown.iter().all(|id| !streaking.contains(id)));
    let total: u64 = finished
        .iter()
        .map(|e| match e {
            Event::Gift(g) => g.diamonds,
            _ => 0,
        })
        .sum();
    let label = gifts
        .eval("document.querySelector('#goal .label').textContent")
        .await;
    assert!(
        label
            .as_str()
            .unwrap()
            .starts_with(&format!("{total} / 5000")),
        "{label}"
    );
    gifts.screenshot(&shot_dir.join("gifts.png")).await;

    let chats: HashSet<String> = events
        .iter()
        .filter(|e| e.kind() == EventKind::Chat)
        .map(|e| e.msg_id().to_string())
        .collect();
    let lines: Vec<String> = serde_json::from_value(
        chat.eval("[...document.querySelectorAll('#lines .line')].map(e => e.dataset.msgId)")
            .await,
    )
    .unwrap();
    assert_eq!(lines.len(), 8, "the page keeps `lines` lines");
    assert!(lines.iter().all(|id| chats.contains(id)));
}
