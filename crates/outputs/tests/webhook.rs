//! Webhooks against a receiver written here on a raw TCP socket: it checks every signature,
//! fails for a while (5xx, an answer that is not HTTP, 429 with `Retry-After`), then recovers.
//! Every event arrives at least once with a stable `webhook-id`; a receiver that stays down has
//! its deliveries spooled to disk (kept across a restart) or dead-lettered after the window.

mod common;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ttlive_eventbus::{ChatEvent, Event, EventBus, EventKind};
use ttlive_outputs::webhook::parse_body;
use ttlive_outputs::{Webhook, WebhookConfig};
use ttlive_source_mock::{Pace, ReplaySource, demo_recording};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const LIMIT: Duration = Duration::from_secs(60);

/// One request as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    id: String,
    body: String,
    signature_ok: bool,
    answered: u16,
}

/// What the receiver answers to the n-th request (from 1).
type Plan = Arc<dyn Fn(usize) -> Answer + Send + Sync>;

#[derive(Clone, Copy)]
enum Answer {
    Status(u16),
    RetryAfter(u16, u64),
    Garbage,
}

#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

fn verify(headers: &HashMap<String, String>, body: &str) -> bool {
    let key = base64::engine::general_purpose::STANDARD
        .decode(SECRET.trim_start_matches("whsec_"))
        .unwrap();
    let (Some(id), Some(ts), Some(sig)) = (
        headers.get("webhook-id"),
        headers.get("webhook-timestamp"),
        headers.get("webhook-signature"),
    ) else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (ts.parse::<i64>().unwrap_or(0) - now).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let want = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    sig.split(' ').any(|s| s == format!("v1,{want}"))
}

async fn handle(mut tcp: TcpStream, n: usize, plan: Plan, seen: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let Ok(k) = tcp.read(&mut chunk).await else {
            return;
        };
        if k == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..k]);
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let Ok(k) = tcp.read(&mut chunk).await else {
            return;
        };
        if k == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..k]);
    }
    let body = String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
    let answer = plan(n);
    let (reply, status) = match answer {
        Answer::Status(s) => (
            format!("HTTP/1.1 {s} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
            s,
        ),
        Answer::RetryAfter(s, secs) => (
            format!(
                "HTTP/1.1 {s} X\r\nretry-after: {secs}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            ),
            s,
        ),
        Answer::Garbage => ("this is not HTTP at all\r\n\r\n".to_owned(), 0),
    };
    seen.lock().unwrap().push(Seen {
        at: Instant::now(),
        id: headers.get("webhook-id").cloned().unwrap_or_default(),
        signature_ok: verify(&headers, &body),
        body,
        answered: status,
    });
    let _ = tcp.write_all(reply.as_bytes()).await;
    let _ = tcp.shutdown().await;
}

async fn receiver_on(listener: TcpListener, plan: Plan) -> Receiver {
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let r = Receiver {
        addr,
        seen: Arc::clone(&seen),
    };
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((tcp, _)) = listener.accept().await {
            n += 1;
            tokio::spawn(handle(tcp, n, Arc::clone(&plan), Arc::clone(&seen)));
        }
    });
    r
}

async fn receiver(plan: Plan) -> Receiver {
    receiver_on(TcpListener::bind("127.0.0.1:0").await.unwrap(), plan).await
}

impl Receiver {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Event keys in the bodies answered 2xx.
    fn delivered(&self) -> Vec<(u64, u64, EventKind)> {
        self.seen()
            .iter()
            .filter(|s| (200..300).contains(&s.answered))
            .flat_map(|s| parse_body(s.body.as_bytes()).unwrap())
            .map(|e| (e.room_id(), e.msg_id(), e.kind()))
            .collect()
    }
}

fn config(url: &str, name: &str) -> WebhookConfig {
    let mut cfg = WebhookConfig::new(url).secret(SECRET);
    cfg.retry_base_ms = 20;
    cfg.retry_max_ms = 200;
    cfg.timeout_ms = 2000;
    cfg.spool_dir = Some(temp_dir(name).join("spool"));
    cfg
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_at_least_once_signed_with_an_id_stable_across_retries() {
    let plan: Plan = Arc::new(|n| match n {
        1..=3 => Answer::Status(500),
        4 => Answer::Garbage,
        5 | 6 => Answer::RetryAfter(429, 1),
        n if n % 10 == 0 => Answer::Status(503),
        _ => Answer::Status(204),
    });
    let rx = receiver(plan).await;
    let mut cfg = config(&format!("http://{}/hook", rx.addr), "webhook-retries");
    cfg.types = vec!["chat".into(), "gift".into()];
    cfg.rooms = vec!["@fakeuser".into()];
    let bus = EventBus::new();
    let hook = Webhook::start(&bus, &cfg).unwrap();
    let truth = truth(&bus);
    bus.attach(ReplaySource::new(demo_recording()).pace(Pace::Instant))
        .unwrap()
        .join()
        .await;
    bus.close().await;
    let want: Vec<(u64, u64, EventKind)> = drain(truth)
        .await
        .iter()
        .filter(|e| matches!(e.kind(), EventKind::Chat | EventKind::Gift))
        .map(|e| (e.room_id(), e.msg_id(), e.kind()))
        .collect();
    assert!(want.len() > 100);
    assert!(
        hook.finish(LIMIT).await,
        "everything delivered: {:?}",
        hook.status()
    );

    let seen = rx.seen();
    assert!(
        seen.iter().all(|s| s.signature_ok),
        "every request carries a valid signature"
    );
    // In order, each exactly once among the 2xx answers (the receiver never lost an answer).
    assert_eq!(rx.delivered(), want);
    // The first delivery was tried 7 times under the same id and body.
    let first = &seen[0];
    let tries: Vec<&Seen> = seen.iter().filter(|s| s.id == first.id).collect();
    assert_eq!(tries.len(), 7, "3 × 500, garbage, 2 × 429, then 204");
    assert!(tries.iter().all(|s| s.body == first.body));
    // Retry-After: 1 was honoured after each 429.
    for w in tries.windows(2).skip(4) {
        assert!(
            w[1].at - w[0].at >= Duration::from_millis(950),
            "{:?}",
            w[1].at - w[0].at
        );
    }
    let ids: HashSet<&str> = seen.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), want.len(), "one id per event");
    let status = hook.status();
    assert_eq!(status.delivered as usize, want.len());
    assert_eq!((status.dead_letters, status.dropped), (0, 0));
    assert_eq!(status.attempts as usize, seen.len());
}

fn chat(n: u64) -> Event {
    let mut c = ChatEvent::default();
    c.meta.room_id = 9;
    c.meta.msg_id = n;
    c.comment = format!("hello {n}");
    c.into()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_stays_down_gets_its_events_from_the_disk_spool_even_after_a_restart() {
    // A port nobody listens on yet.
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = config(
        &format!("http://127.0.0.1:{port}/hook?token=s3cret"),
        "webhook-spool",
    );
    cfg.batch_max = 10;
    cfg.batch_linger_ms = 20;

    let bus = EventBus::new();
    let hook = Webhook::start(&bus, &cfg).unwrap();
    for n in 1..=95 {
        bus.publish(chat(n)).await.unwrap();
    }
    wait_until(LIMIT, "a connection error", || hook.status().attempts >= 2).await;
    bus.close().await;
    assert!(
        !hook.finish(Duration::from_millis(300)).await,
        "the receiver is still down"
    );
    let status = hook.status();
    assert!(status.spooled_bytes > 1000, "{status:?}");
    assert!(
        status
            .last_error
            .as_deref()
            .unwrap_or("")
            .contains("connect"),
        "{status:?}"
    );
    assert!(
        !format!("{status:?}").contains("s3cret"),
        "no URL token in errors: {status:?}"
    );
    let shown = format!("{hook:?}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("MfKQ9r8"),
        "{shown}"
    );
    drop(hook);

    // The service restarts; the receiver comes back.
    let rx = receiver_on(
        TcpListener::bind(("127.0.0.1", port)).await.unwrap(),
        Arc::new(|_| Answer::Status(200)),
    )
    .await;
    let bus = EventBus::new();
    let hook = Webhook::start(&bus, &cfg).unwrap();
    bus.publish(chat(96)).await.unwrap();
    bus.close().await;
    assert!(hook.finish(LIMIT).await, "{:?}", hook.status());
    let got: Vec<u64> = rx.delivered().iter().map(|k| k.1).collect();
    assert_eq!(
        got,
        (1..=96).collect::<Vec<_>>(),
        "all, in order, none twice"
    );
    let seen = rx.seen();
    assert!(
        seen.iter()
            .all(|s| s.signature_ok && s.body.starts_with('['))
    );
    assert!(seen.len() <= 12, "batched: {} requests", seen.len());
    assert_eq!(hook.status().spooled_bytes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_still_failing_after_the_retry_window_go_to_the_dead_letter_file() {
    let rx = receiver(Arc::new(|_| Answer::Status(500))).await;
    let mut cfg = config(&format!("http://{}/hook", rx.addr), "webhook-dead");
    cfg.retry_window_secs = 1;
    let dead = cfg.spool_dir.clone().unwrap().join("dead.jsonl");
    cfg.dead_letter = Some(dead.clone());
    let bus = EventBus::new();
    let hook = Webhook::start(&bus, &cfg).unwrap();
    for n in 1..=3 {
        bus.publish(chat(n)).await.unwrap();
    }
    bus.close().await;
    assert!(hook.finish(LIMIT).await);
    let status = hook.status();
    assert_eq!((status.dead_letters, status.delivered), (3, 0));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&dead)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    for (n, l) in lines.iter().enumerate() {
        assert_eq!(l["body"]["msg_id"], (n + 1).to_string());
        // The window counts from when a delivery was queued: the first one used it up
        // retrying, so the two queued with it expire after their first failure.
        assert!(l["attempts"].as_u64().unwrap() >= if n == 0 { 2 } else { 1 });
        assert!(l["last_error"].as_str().unwrap().contains("500"));
        let tries = rx
            .seen()
            .iter()
            .filter(|s| s.id == l["id"].as_str().unwrap())
            .count();
        assert_eq!(tries as u64, l["attempts"].as_u64().unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_beyond_a_full_spool_are_counted_and_told_to_the_receiver_as_a_gap() {
    let port = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cfg = config(&format!("http://127.0.0.1:{port}/hook"), "webhook-full");
    cfg.spool_max_bytes = 3000;
    let bus = EventBus::new();
    let hook = Webhook::start(&bus, &cfg).unwrap();
    for n in 1..=100 {
        bus.publish(chat(n)).await.unwrap();
    }
    wait_until(LIMIT, "drops", || hook.status().dropped > 0).await;
    let rx = receiver_on(
        TcpListener::bind(("127.0.0.1", port)).await.unwrap(),
        Arc::new(|_| Answer::Status(200)),
    )
    .await;
    bus.close().await;
    assert!(hook.finish(LIMIT).await, "{:?}", hook.status());
    let events: Vec<Event> = rx
        .seen()
        .iter()
        .flat_map(|s| parse_body(s.body.as_bytes()).unwrap())
        .collect();
    let chats = events
        .iter()
        .filter(|e| e.kind() == EventKind::Chat)
        .count() as u64;
    let missed: u64 = events
        .iter()
        .filter_map(|e| match e {
            Event::Gap(g) => g.missed,
            _ => None,
        })
        .sum();
    assert!(missed > 0);
    assert_eq!(
        chats + missed,
        100,
        "every event delivered or told as missed"
    );
    assert_eq!(hook.status().dropped, missed);
}
