//! Events per second through each output, and the process's CPU share, all on loopback:
//!
//! - `ws`: the feed to 100 WebSocket clients (every client gets every event);
//! - `sse`: the feed to 10 server-sent-events clients;
//! - `webhook`: batches of 100 events POSTed to a keep-alive HTTP receiver;
//! - `sqlite`: the archive, batched transactions (WAL);
//! - `postgres`: the archive on the server named by `TTLIVE_POSTGRES_URL` (feature `postgres`);
//! - `jsonl`: JSON-lines files.
//!
//! Each run publishes `--events N` distinct chat/gift/like/… events made from the demo
//! recording (fresh message ids) as fast as the bus accepts them, and stops the clock when the
//! output has them all. The clients and receivers run in this process too, so the CPU share
//! covers both sides.
//!
//! ```sh
//! cargo bench -p ttlive-outputs --bench outputs -- --events 20000
//! cargo bench -p ttlive-outputs --features postgres --bench outputs -- --only postgres
//! ```

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use ttlive_eventbus::{Event, EventBus, EventSource, SourceItem};
use ttlive_outputs::{
    Archive, FeedConfig, FeedHub, JsonlConfig, JsonlOutput, SqliteConfig, Webhook, WebhookConfig,
};
use ttlive_source_mock::{Pace, ReplaySource, demo_recording};

/// CPU seconds this process used so far (user + system), from /proc.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the ")".
    (ticks(11) + ticks(12)) / 100.0
}

async fn demo_events() -> Vec<Event> {
    let mut src = ReplaySource::new(demo_recording()).pace(Pace::Instant);
    let mut out = Vec::new();
    loop {
        match src.next().await {
            SourceItem::Event(e) if !e.kind().is_lifecycle() && e.msg_id() != 0 => out.push(e),
            SourceItem::End(_) => return out,
            _ => {}
        }
    }
}

fn workload(base: &[Event], n: usize) -> Vec<Arc<Event>> {
    (0..n)
        .map(|i| {
            let mut e = base[i % base.len()].clone();
            e.meta_mut().msg_id = 1_000_000 + i as u64;
            e.meta_mut().is_history = false;
            Arc::new(e)
        })
        .collect()
}

struct Measured {
    what: String,
    events: usize,
    secs: f64,
    cpu: f64,
}

impl Measured {
    fn print(&self) {
        println!(
            "{:<34} {:>8} events in {:>7.3} s = {:>9.0} events/s   CPU {:>5.0}% of one core",
            self.what,
            self.events,
            self.secs,
            self.events as f64 / self.secs,
            100.0 * self.cpu / self.secs
        );
    }
}

async fn timed<F: std::future::Future<Output = ()>>(
    what: &str,
    events: usize,
    run: impl FnOnce() -> F,
) -> Measured {
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    run().await;
    let m = Measured {
        what: what.to_owned(),
        events,
        secs: t0.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - cpu0,
    };
    m.print();
    m
}

async fn serve(router: axum::Router) -> std::net::SocketAddr {
    use axum::serve::ListenerExt;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let l = l.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    tokio::spawn(async move { axum::serve(l, router).await.unwrap() });
    addr
}

async fn publish_all(bus: &EventBus, events: &[Arc<Event>]) {
    for e in events {
        bus.publish(Arc::clone(e)).await.unwrap();
    }
}

/// Publishes everything, then waits until the output's own count says it has it all.
async fn publish_until(bus: &EventBus, events: &[Arc<Event>], count: impl Fn() -> u64) {
    publish_all(bus, events).await;
    while count() < events.len() as u64 {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn bench_ws(events: &[Arc<Event>], clients: usize) {
    let bus = EventBus::new();
    let mut cfg = FeedConfig::default();
    cfg.client_buffer = events.len() + 16;
    cfg.max_clients = clients + 10;
    let hub = FeedHub::start(&bus, cfg);
    let addr = serve(hub.router()).await;
    let got = Arc::new(AtomicU64::new(0));
    let done = Arc::new(tokio::sync::Notify::new());
    let want = (events.len() * clients) as u64;
    for _ in 0..clients {
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/ws"), tcp)
            .await
            .unwrap();
        let (got, done) = (Arc::clone(&got), Arc::clone(&done));
        tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if m.is_text() && got.fetch_add(1, Ordering::Relaxed) + 1 == want {
                    done.notify_one();
                }
            }
        });
    }
    while hub.clients() < clients {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    timed(
        &format!("feed: WebSocket x{clients} (per client)"),
        events.len(),
        || async {
            publish_all(&bus, events).await;
            done.notified().await;
        },
    )
    .await;
    bus.close().await;
}

async fn bench_sse(events: &[Arc<Event>], clients: usize) {
    let bus = EventBus::new();
    let mut cfg = FeedConfig::default();
    cfg.client_buffer = events.len() + 16;
    let hub = FeedHub::start(&bus, cfg);
    let addr = serve(hub.router()).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let got = Arc::new(AtomicU64::new(0));
    let done = Arc::new(tokio::sync::Notify::new());
    let want = (events.len() * clients) as u64;
    for _ in 0..clients {
        let mut resp = http
            .get(format!("http://{addr}/events"))
            .send()
            .await
            .unwrap();
        let (got, done) = (Arc::clone(&got), Arc::clone(&done));
        tokio::spawn(async move {
            // Counts "id: " lines; the last 3 bytes of a chunk are kept, so a match split
            // across two chunks is counted once.
            let mut tail: Vec<u8> = Vec::new();
            while let Ok(Some(chunk)) = resp.chunk().await {
                tail.extend_from_slice(&chunk);
                let n = tail.windows(4).filter(|w| w == b"id: ").count() as u64;
                tail.drain(..tail.len().saturating_sub(3));
                if n > 0 && got.fetch_add(n, Ordering::Relaxed) + n >= want {
                    done.notify_one();
                }
            }
        });
    }
    while hub.clients() < clients {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    timed(
        &format!("feed: SSE x{clients} (per client)"),
        events.len(),
        || async {
            publish_all(&bus, events).await;
            done.notified().await;
        },
    )
    .await;
    bus.close().await;
}

async fn receiver(count: Arc<AtomicU64>) -> std::net::SocketAddr {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let count = Arc::clone(&count);
                        async move {
                            let body = req
                                .into_body()
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            let n = serde_json::from_slice::<Vec<serde::de::IgnoredAny>>(&body)
                                .map(|v| v.len())
                                .unwrap_or(1);
                            count.fetch_add(n as u64, Ordering::Relaxed);
                            Ok::<_, Infallible>(hyper::Response::new(Full::new(Bytes::new())))
                        }
                    },
                );
                let io = hyper_util::rt::TokioIo::new(tcp);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, svc)
                    .await;
            });
        }
    });
    addr
}

async fn bench_webhook(events: &[Arc<Event>], batch: usize) {
    let count = Arc::new(AtomicU64::new(0));
    let addr = receiver(Arc::clone(&count)).await;
    let dir = std::env::temp_dir().join(format!("ttlive-bench-webhook-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg =
        WebhookConfig::new(format!("http://{addr}/hook")).secret("whsec_c2VjcmV0LWZvci1iZW5jaA==");
    cfg.batch_max = batch;
    cfg.batch_linger_ms = 5;
    cfg.queue = events.len() + 16;
    cfg.spool_dir = Some(dir.clone());
    let bus = EventBus::new();
    let hook = Webhook::start(&bus, &cfg).unwrap();
    timed(
        &format!("webhook: batches of {batch}, signed"),
        events.len(),
        || async {
            publish_until(&bus, events, || count.load(Ordering::Relaxed)).await;
        },
    )
    .await;
    bus.close().await;
    hook.finish(Duration::from_secs(5)).await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn bench_sqlite(events: &[Arc<Event>]) {
    let dir = std::env::temp_dir().join(format!("ttlive-bench-sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut cfg = SqliteConfig::new(dir.join("bench.sqlite"));
    cfg.queue = events.len() + 16;
    let bus = EventBus::new();
    let archive = Archive::sqlite(&bus, &cfg).unwrap();
    timed("archive: SQLite (WAL, batched)", events.len(), || async {
        publish_until(&bus, events, || archive.status().inserted).await;
    })
    .await;
    bus.close().await;
    archive.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "postgres")]
async fn bench_postgres(events: &[Arc<Event>]) {
    let Ok(url) = std::env::var("TTLIVE_POSTGRES_URL") else {
        println!("archive: PostgreSQL                skipped: TTLIVE_POSTGRES_URL is not set");
        return;
    };
    let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let db = format!("ttlive_bench_{}", std::process::id());
    c.batch_execute(&format!("DROP DATABASE IF EXISTS {db}; "))
        .await
        .unwrap();
    c.batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let url = format!("{}/{db}", url.rsplit_once('/').unwrap().0);
    let mut cfg = ttlive_outputs::PostgresConfig::new(&url);
    cfg.queue = events.len() + 16;
    let bus = EventBus::new();
    let archive = Archive::postgres(&bus, &cfg).await.unwrap();
    timed("archive: PostgreSQL (batched)", events.len(), || async {
        publish_until(&bus, events, || archive.status().inserted).await;
    })
    .await;
    bus.close().await;
    archive.finish().await;
}

#[cfg(not(feature = "postgres"))]
async fn bench_postgres(_: &[Arc<Event>]) {
    println!("archive: PostgreSQL                skipped: build with --features postgres");
}

async fn bench_jsonl(events: &[Arc<Event>]) {
    let dir = std::env::temp_dir().join(format!("ttlive-bench-jsonl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut cfg = JsonlConfig::new(&dir);
    cfg.queue = events.len() + 16;
    let bus = EventBus::new();
    let out = JsonlOutput::start(&bus, &cfg).unwrap();
    timed("jsonl: files", events.len(), || async {
        publish_until(&bus, events, || out.status().lines).await;
    })
    .await;
    bus.close().await;
    out.finish().await;
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let n: usize = arg("--events")
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let only = arg("--only").unwrap_or_else(|| "ws,sse,webhook,sqlite,postgres,jsonl".into());
    let wants = |what: &str| only.split(',').any(|o| o == what);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let base = demo_events().await;
        let events = workload(&base, n);
        let bytes: usize = events
            .iter()
            .map(|e| serde_json::to_string(&**e).unwrap().len())
            .sum();
        println!(
            "{} events ({} bytes of JSON on average) from the demo recording; {} cores",
            n,
            bytes / n.max(1),
            std::thread::available_parallelism()
                .map(|p| p.get())
                .unwrap_or(1)
        );
        if wants("ws") {
            bench_ws(&events, 100).await;
        }
        if wants("sse") {
            bench_sse(&events, 10).await;
        }
        if wants("webhook") {
            bench_webhook(&events, 100).await;
        }
        if wants("sqlite") {
            bench_sqlite(&events).await;
        }
        if wants("postgres") {
            bench_postgres(&events).await;
        }
        if wants("jsonl") {
            bench_jsonl(&events).await;
        }
    });
}
