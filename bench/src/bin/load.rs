//! `ttlive-load`: the load harness. The fake TikTok server runs in a child process (this same
//! binary, `serve`), so what is measured here (RSS, CPU time) is the client alone; everything
//! talks over 127.0.0.1, is bounded in count and time, and stops by itself.
//!
//! ```text
//! ttlive-load idle   [--connections 1000] [--hold 3]
//! ttlive-load stream [--rate 100000] [--secs 5] [--gzip]
//! ttlive-load all    (both, with their defaults; the default command)
//! ```
//!
//! * `idle`: one warm-up connection, then N `TikTokSource`s (the real client: room lookup, live
//!   check, sign, WebSocket, `im_enter_room`, heartbeats) attached to one `EventBus` at once.
//!   Reports connections established per second (until the N-th `connected` event reached a
//!   subscriber) and the RSS growth per connection (`VmRSS` before the N and after they have
//!   been idle for `--hold` seconds).
//! * `stream`: one connection; the fake server pushes frames of 3–8 real captured messages
//!   (the fixtures but the control messages, which may end the stream; each with its
//!   `common.msg_id` made unique) at `--rate` messages per second
//!   for `--secs` seconds, paced by the server (`Pace::Speed`, so frames go out in per-ms
//!   bursts as its timer fires). A lossless subscriber receives the events. Reports events/s
//!   delivered, CPU time per 1,000 events (user+system of this process from `/proc/self/stat`,
//!   over the delivery window), and p50/p99/max latency from frame sent to event received.
//!
//! Latency is measured honestly end to end: the push socket goes through a byte-forwarding
//! proxy in the server process that stamps the wall clock (`CLOCK_REALTIME`, shared by both
//! processes) the moment each WebSocket frame has been read from the fake server, before
//! forwarding it. The subscriber stamps the wall clock when it receives each event; event n
//! belongs to frame f(n) (the script is deterministic). So the latency covers one loopback
//! hop, the proxy's forwarding, the client's WebSocket read, decode, de-duplication, the source
//! queue, the bus and the subscriber's wake-up; it excludes only the fake server's own
//! encode-to-proxy hop.
//!
//! By default the stream asks the fake server for uncompressed frames (`compress=none` through
//! the sign result's route parameters): the fake server gzips every frame per client at send
//! time (level 6), which costs several times what gunzip costs the client and would make the
//! server, not the client, the bottleneck on a 2-core machine. `--gzip` keeps TikTok's gzip.
//! Gunzip on the client is measured on its own by `ttlive-decode-bench`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use bytes::{BufMut, Bytes};
use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use ttlive_bench::{Rng, SEED, cpu_seconds, quantile, rss_bytes, wall_ns};
use ttlive_eventbus::{Event, EventBus, Filter, SubscribeOptions};
use ttlive_proto::webcast as pb;
use ttlive_signer::{EulerSigner, RoomIdInfo, SignError, SignRequest, SignedConnection, Signer};
use ttlive_source_mock::{FakeServer, Pace, ScriptFrame, UserState};
use ttlive_source_tiktok::TikTokSource;

/// First `msg_id` of the stream's messages; message n carries `MSG_ID_BASE + n % POOL`.
const MSG_ID_BASE: u64 = 7_500_000_000_000_000_000;
/// Distinct messages cycled through (more than the client's de-duplication window, 16 384).
const POOL: usize = 20_000;

struct Opts {
    connections: usize,
    hold: f64,
    rate: f64,
    secs: f64,
    gzip: bool,
}

fn parse_opts(args: &[String]) -> anyhow::Result<Opts> {
    let mut o = Opts {
        connections: 1000,
        hold: 3.0,
        rate: 100_000.0,
        secs: 5.0,
        gzip: false,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().context("missing value");
        match a.as_str() {
            "--connections" => o.connections = val()?.parse()?,
            "--hold" => o.hold = val()?.parse()?,
            "--rate" => o.rate = val()?.parse()?,
            "--secs" => o.secs = val()?.parse()?,
            "--gzip" => o.gzip = true,
            other => bail!("unknown option {other}"),
        }
    }
    anyhow::ensure!(
        o.connections >= 1 && o.connections <= 10_000,
        "--connections 1..=10000"
    );
    anyhow::ensure!(o.secs > 0.0 && o.secs <= 60.0, "--secs in (0, 60]");
    anyhow::ensure!(
        o.rate >= 100.0 && o.rate <= 2_000_000.0,
        "--rate in [100, 2e6]"
    );
    Ok(o)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cmd, rest) = match args.first() {
        Some(c) if !c.starts_with("--") => (c.as_str(), &args[1..]),
        _ => ("all", &args[..]),
    };
    match cmd {
        "serve" => serve(rest),
        "idle" => idle(&parse_opts(rest)?),
        "stream" => stream(&parse_opts(rest)?),
        "all" => {
            let o = parse_opts(rest)?;
            idle(&o)?;
            stream(&o)
        }
        _ => {
            eprintln!(
                "usage: ttlive-load [idle|stream|all] [--connections N] [--hold S] [--rate R] [--secs S] [--gzip]"
            );
            std::process::exit(2);
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

// ---------------------------------------------------------------------------------------------
// the stream script (built identically by both processes)

/// Frame sizes (3–8 messages each) covering `total` messages.
fn frame_sizes(total: usize) -> Vec<usize> {
    let mut rng = Rng(SEED ^ 0xabcd);
    let mut sizes = Vec::new();
    let mut left = total;
    while left > 0 {
        let n = (3 + rng.below(6)).min(left);
        sizes.push(n);
        left -= n;
    }
    sizes
}

fn total_messages(o: &Opts) -> usize {
    (o.rate * o.secs).round() as usize
}

/// `payload` with a second `common` (field 1) appended: protobuf merges it into the first, so
/// the message keeps all its content and gets this `msg_id`.
fn with_msg_id(payload: &[u8], msg_id: u64) -> Bytes {
    let common = pb::CommonMessageData {
        msg_id: msg_id as i64,
        ..Default::default()
    }
    .encode_to_vec();
    let mut out = Vec::with_capacity(payload.len() + common.len() + 4);
    out.extend_from_slice(payload);
    out.put_u8(0x0a);
    prost::encoding::encode_varint(common.len() as u64, &mut out);
    out.extend_from_slice(&common);
    Bytes::from(out)
}

fn script(o: &Opts) -> anyhow::Result<(Vec<ScriptFrame>, f64)> {
    // Control messages are left out: some of them end the stream (action 3/4).
    let fixtures: Vec<_> = ttlive_bench::load_messages(&ttlive_bench::fixtures_dir())?
        .into_iter()
        .filter(|m| !m.method.ends_with("ControlMessage"))
        .collect();
    let pool: Vec<pb::BaseProtoMessage> = (0..POOL)
        .map(|p| {
            let f = &fixtures[p % fixtures.len()];
            let id = MSG_ID_BASE + p as u64;
            pb::BaseProtoMessage {
                method: f.method.clone(),
                payload: with_msg_id(&f.payload, id),
                msg_id: id as i64,
                ..Default::default()
            }
        })
        .collect();
    let sizes = frame_sizes(total_messages(o));
    let mut frames = Vec::with_capacity(sizes.len());
    let mut n = 0usize;
    for (i, size) in sizes.iter().enumerate() {
        let messages = (n..n + size).map(|k| pool[k % POOL].clone()).collect();
        n += size;
        frames.push(ScriptFrame::new(i as u64, messages));
    }
    // Frame i is due i ms (recorded time) after the push starts; this speed spreads them over
    // `secs` of wall-clock time.
    let speed = sizes.len() as f64 / (o.secs * 1000.0);
    Ok((frames, speed))
}

// ---------------------------------------------------------------------------------------------
// the server process

/// Per proxied connection: the wall-clock stamp of every complete server→client WebSocket data
/// frame, in order.
type Stamps = Arc<Mutex<Vec<Vec<u64>>>>;

fn serve(args: &[String]) -> anyhow::Result<()> {
    let scenario = args.first().map_or("idle", String::as_str).to_owned();
    let o = parse_opts(args.get(1..).unwrap_or_default())?;
    let rt = runtime()?;
    let stamps: Stamps = Arc::default();
    let _guard = rt.block_on(async {
        let builder = FakeServer::builder()
            .user("fakeuser", UserState::Live)
            .history(false)
            .need_ack(true);
        let builder = if scenario == "stream" {
            let (frames, speed) = script(&o)?;
            builder.script(Vec::new(), frames).pace(Pace::Speed(speed))
        } else {
            builder.script(Vec::new(), Vec::new()).pace(Pace::Instant)
        };
        let server = builder.start().await?;
        let proxy = TcpListener::bind("127.0.0.1:0").await?;
        let proxy_port = proxy.local_addr()?.port();
        tokio::spawn(proxy_loop(proxy, server.addr(), stamps.clone()));
        println!(
            "READY {} ws://127.0.0.1:{proxy_port}/webcast/im/ws_proxy/ws_reuse_supplement/",
            server.base_url()
        );
        std::io::stdout().flush()?;
        anyhow::Ok(server)
    })?;
    // Serve until the parent closes our stdin, then report the stamps and exit.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    let stamps = stamps.lock().map(|s| s.clone()).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    let first = stamps.first().cloned().unwrap_or_default();
    writeln!(out, "STAMPS {}", first.len())?;
    for s in first {
        writeln!(out, "{s}")?;
    }
    out.flush()?;
    drop(rt);
    Ok(())
}

async fn proxy_loop(listener: TcpListener, upstream: SocketAddr, stamps: Stamps) {
    while let Ok((client, _)) = listener.accept().await {
        let Ok(server) = TcpStream::connect(upstream).await else {
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let idx = stamps.lock().map_or(0, |mut s| {
            s.push(Vec::with_capacity(1 << 20));
            s.len() - 1
        });
        let stamps = stamps.clone();
        tokio::spawn(async move {
            let (mut cr, mut cw) = client.into_split();
            let (mut sr, mut sw) = server.into_split();
            let up = tokio::spawn(async move {
                let _ = tokio::io::copy(&mut cr, &mut sw).await;
            });
            let mut parser = WsParser::default();
            let mut buf = vec![0u8; 256 * 1024];
            let mut done = 0usize;
            loop {
                let n = match sr.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let now = wall_ns();
                parser.feed(&buf[..n], &mut done);
                if done > 0 {
                    if let Ok(mut s) = stamps.lock() {
                        s[idx].extend(std::iter::repeat_n(now, done));
                    }
                    done = 0;
                }
                if cw.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
            up.abort();
        });
    }
}

/// Finds where server→client WebSocket frames end in a byte stream (after the HTTP response).
#[derive(Default)]
struct WsParser {
    in_body: bool,
    head: Vec<u8>,
    /// Bytes still to skip of the current frame's payload.
    skip: u64,
    /// Partial frame header.
    hdr: Vec<u8>,
    /// Whether the frame being skipped is a data frame (binary/text/continuation).
    data: bool,
}

impl WsParser {
    fn feed(&mut self, mut bytes: &[u8], done: &mut usize) {
        if !self.in_body {
            self.head.extend_from_slice(bytes);
            let Some(end) = self.head.windows(4).position(|w| w == b"\r\n\r\n") else {
                return;
            };
            self.in_body = true;
            let rest = self.head.split_off(end + 4);
            self.head.clear();
            self.feed(&rest, done);
            return;
        }
        while !bytes.is_empty() {
            if self.skip > 0 {
                let k = (self.skip.min(bytes.len() as u64)) as usize;
                self.skip -= k as u64;
                bytes = &bytes[k..];
                if self.skip == 0 && self.data {
                    *done += 1;
                }
                continue;
            }
            self.hdr.push(bytes[0]);
            bytes = &bytes[1..];
            if self.hdr.len() < 2 {
                continue;
            }
            let len7 = self.hdr[1] & 0x7f;
            let masked = self.hdr[1] & 0x80 != 0;
            let ext = match len7 {
                126 => 2,
                127 => 8,
                _ => 0,
            };
            let need = 2 + ext + if masked { 4 } else { 0 };
            if self.hdr.len() < need {
                continue;
            }
            let len = match len7 {
                126 => u64::from(u16::from_be_bytes([self.hdr[2], self.hdr[3]])),
                127 => u64::from_be_bytes(self.hdr[2..10].try_into().unwrap_or([0; 8])),
                n => u64::from(n),
            };
            let opcode = self.hdr[0] & 0x0f;
            let fin = self.hdr[0] & 0x80 != 0;
            self.data = fin && opcode <= 2;
            self.hdr.clear();
            self.skip = len;
            if len == 0 && self.data {
                *done += 1;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// the client side

struct ServerProcess {
    child: Child,
    base: String,
    proxy: String,
}

impl ServerProcess {
    fn start(scenario: &str, o: &Opts) -> anyhow::Result<Self> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("serve")
            .arg(scenario)
            .args(["--rate", &o.rate.to_string(), "--secs", &o.secs.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = cmd.spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        reader.read_line(&mut line)?;
        let mut parts = line.split_whitespace();
        if parts.next() != Some("READY") {
            let _ = child.kill();
            bail!("server process did not start: {line:?}");
        }
        let base = parts.next().context("no base url")?.to_owned();
        let proxy = parts.next().context("no proxy url")?.to_owned();
        child.stdout = Some(reader.into_inner());
        Ok(ServerProcess { child, base, proxy })
    }

    /// Closes the server's stdin and reads the stamps of the first proxied connection.
    fn finish(mut self) -> anyhow::Result<Vec<u64>> {
        drop(self.child.stdin.take());
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            s.read_to_string(&mut out)?;
        }
        let _ = self.child.wait();
        let mut lines = out.lines();
        let n: usize = lines
            .next()
            .and_then(|l| l.strip_prefix("STAMPS "))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(lines.take(n).filter_map(|l| l.parse().ok()).collect())
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The fake server's signer, with the push URL and extra route parameters replaced.
struct RoutedSigner {
    inner: EulerSigner,
    push_server: Option<String>,
    route: BTreeMap<String, String>,
}

#[async_trait]
impl Signer for RoutedSigner {
    async fn sign(&self, request: &SignRequest) -> Result<SignedConnection, SignError> {
        let mut conn = self.inner.sign(request).await?;
        if let Some(p) = &self.push_server {
            conn.push_server.clone_from(p);
        }
        conn.route_params.extend(self.route.clone());
        Ok(conn)
    }

    async fn resolve_room_id(&self, unique_id: &str) -> Result<RoomIdInfo, SignError> {
        self.inner.resolve_room_id(unique_id).await
    }
}

/// Records when each push frame reached the client (`TTLIVE_LOAD_DUMP` only).
struct ArrivalTap(Arc<Mutex<Vec<u64>>>);

impl ttlive_source_tiktok::RecordingTap for ArrivalTap {
    fn sign_fetch(&mut self, _at: Duration, _room_id: u64, _body: &[u8]) {}
    fn push_frame(&mut self, _at: Duration, _frame: &[u8]) {
        let now = wall_ns();
        if let Ok(mut v) = self.0.lock() {
            v.push(now);
        }
    }
}

fn source(base: &str, signer: Arc<dyn Signer>) -> anyhow::Result<TikTokSource> {
    source_with(base, signer, None)
}

fn source_with(
    base: &str,
    signer: Arc<dyn Signer>,
    tap: Option<ArrivalTap>,
) -> anyhow::Result<TikTokSource> {
    let b = TikTokSource::builder("@fakeuser");
    let b = match tap {
        Some(t) => b.tap(Box::new(t)),
        None => b,
    };
    Ok(b.signer(signer)
        .web_url(base)
        .webcast_url(base)
        .emit_history(false)
        .stall_timeout(Duration::from_secs(120))
        .max_attempts(Some(1))
        .start()?)
}

fn kib(b: f64) -> f64 {
    b / 1024.0
}

fn idle(o: &Opts) -> anyhow::Result<()> {
    let server = ServerProcess::start("idle", o)?;
    let rt = runtime()?;
    let n = o.connections;
    rt.block_on(async {
        let signer: Arc<dyn Signer> = Arc::new(RoutedSigner {
            inner: EulerSigner::builder().base_url(&server.base).build()?,
            push_server: None,
            route: BTreeMap::new(),
        });
        let bus = EventBus::new();
        let mut sub = bus.subscribe_with(
            Filter::kind(ttlive_eventbus::EventKind::Connected),
            SubscribeOptions::new().capacity(n + 16).lossless(true),
        );
        // Warm-up: one connection, so one-time costs (runtime, TLS roots, bus) are not counted.
        let mut handles = vec![bus.attach(source(&server.base, signer.clone())?)?];
        tokio::time::timeout(Duration::from_secs(20), sub.recv())
            .await
            .context("warm-up connection timed out")?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss0 = rss_bytes();
        let t0 = Instant::now();
        for _ in 0..n {
            handles.push(bus.attach(source(&server.base, signer.clone())?)?);
        }
        let mut connected = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while connected < n {
            match tokio::time::timeout_at(deadline, sub.recv()).await {
                Ok(Some(Ok(_))) => connected += 1,
                Ok(Some(Err(_))) => {}
                Ok(None) | Err(_) => break,
            }
        }
        let elapsed = t0.elapsed();
        let rss_connected = rss_bytes();
        tokio::time::sleep(Duration::from_secs_f64(o.hold)).await;
        let rss1 = rss_bytes();
        let alive = handles.iter().filter(|h| !h.is_finished()).count();
        println!("== idle: {n} connections to the fake server (one process, one EventBus)");
        println!(
            "connected {connected}/{n} in {:.2} s: {:.0} connections/s (each: room page, live check, sign, WebSocket, im_enter_room)",
            elapsed.as_secs_f64(),
            connected as f64 / elapsed.as_secs_f64()
        );
        println!(
            "RSS: {:.1} MiB before, {:.1} MiB when all connected, {:.1} MiB after {:.0} s idle ({alive} sources alive)",
            kib(rss0 as f64) / 1024.0,
            kib(rss_connected as f64) / 1024.0,
            kib(rss1 as f64) / 1024.0,
            o.hold
        );
        let per = rss1.saturating_sub(rss0) as f64 / n as f64;
        println!(
            "RSS per idle connection: {:.1} KiB (target <= 32 KiB)",
            kib(per)
        );
        println!(
            "{{\"scenario\":\"idle\",\"connections\":{n},\"connected\":{connected},\"connect_secs\":{:.3},\"connections_per_s\":{:.1},\"rss_before\":{rss0},\"rss_after\":{rss1},\"rss_per_conn_kib\":{:.2}}}",
            elapsed.as_secs_f64(),
            connected as f64 / elapsed.as_secs_f64(),
            kib(per)
        );
        for h in &handles {
            h.stop();
        }
        anyhow::Ok(())
    })?;
    drop(rt);
    server.finish()?;
    Ok(())
}

fn stream(o: &Opts) -> anyhow::Result<()> {
    let total = total_messages(o);
    let sizes = frame_sizes(total);
    let server = ServerProcess::start("stream", o)?;
    let arrivals: Arc<Mutex<Vec<u64>>> = Arc::default();
    let rt = runtime()?;
    let result = rt.block_on(async {
        let mut route = BTreeMap::new();
        if !o.gzip {
            route.insert("compress".to_owned(), "none".to_owned());
        }
        let signer: Arc<dyn Signer> = Arc::new(RoutedSigner {
            inner: EulerSigner::builder().base_url(&server.base).build()?,
            push_server: Some(server.proxy.clone()),
            route,
        });
        let bus = EventBus::new();
        let mut sub = bus.subscribe_with(
            Filter::all(),
            SubscribeOptions::new().capacity(1 << 16).lossless(true),
        );
        let tap = std::env::var_os("TTLIVE_LOAD_DUMP")
            .is_some()
            .then(|| ArrivalTap(arrivals.clone()));
        let handle = bus.attach(source_with(&server.base, signer, tap)?)?;
        // The subscriber is a task on the runtime, as in an application.
        let secs = o.secs;
        let receiver = tokio::spawn(async move {
            let mut recv_ns: Vec<u64> = Vec::with_capacity(total);
            let mut mismatched = 0usize;
            let mut cpu0 = 0.0;
            let mut t_first = Instant::now();
            let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(secs + 30.0);
            while recv_ns.len() < total {
                let ev = match tokio::time::timeout_at(deadline, sub.recv()).await {
                    Ok(Some(Ok(ev))) => ev,
                    Ok(Some(Err(_))) => continue,
                    Ok(None) | Err(_) => break,
                };
                let id = ev.msg_id();
                if !(MSG_ID_BASE..MSG_ID_BASE + POOL as u64).contains(&id) {
                    if let Event::Disconnected(d) = ev.as_ref() {
                        eprintln!("disconnected: {}", d.reason);
                    } else if std::env::var_os("TTLIVE_LOAD_DEBUG").is_some() {
                        eprintln!("event {} msg_id {id}", ev.name());
                    }
                    continue;
                }
                let now = wall_ns();
                if recv_ns.is_empty() {
                    cpu0 = cpu_seconds();
                    t_first = Instant::now();
                }
                if id != MSG_ID_BASE + (recv_ns.len() % POOL) as u64 {
                    mismatched += 1;
                }
                recv_ns.push(now);
            }
            let window = t_first.elapsed();
            let cpu = cpu_seconds() - cpu0;
            (recv_ns, mismatched, window, cpu)
        });
        let out = receiver.await?;
        handle.stop();
        anyhow::Ok(out)
    });
    drop(rt);
    let stamps = server.finish()?;
    let (recv_ns, mismatched, window, cpu) = result?;

    // Event n belongs to frame f(n); stamp 0 is the server's im_enter_room_resp.
    let mut lat = Vec::with_capacity(recv_ns.len());
    // The same latencies per second of sending, to tell a steady state from hiccups.
    let mut per_sec: Vec<Vec<u64>> = Vec::new();
    let t0 = stamps.get(1).copied().unwrap_or(0);
    let mut n = 0usize;
    for (f, size) in sizes.iter().enumerate() {
        let Some(&sent) = stamps.get(f + 1) else {
            break;
        };
        let sec = (sent.saturating_sub(t0) / 1_000_000_000) as usize;
        if per_sec.len() <= sec {
            per_sec.resize_with(sec + 1, Vec::new);
        }
        for _ in 0..*size {
            if let Some(&r) = recv_ns.get(n) {
                lat.push(r.saturating_sub(sent));
                per_sec[sec].push(r.saturating_sub(sent));
            }
            n += 1;
        }
    }
    if let Some(path) = std::env::var_os("TTLIVE_LOAD_DUMP") {
        // One line per frame: send stamp (ns since the first frame), latency of its last event,
        // and when the frame reached the client's WebSocket reader (ns after the send stamp).
        let arrivals = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
        let mut out = String::new();
        let mut n = 0usize;
        for (f, size) in sizes.iter().enumerate() {
            n += size;
            if let (Some(&sent), Some(&r)) = (stamps.get(f + 1), recv_ns.get(n - 1)) {
                let arrived = arrivals.get(f + 1).map_or(0, |a| a.saturating_sub(sent));
                out.push_str(&format!(
                    "{} {} {arrived}\n",
                    sent - t0,
                    r.saturating_sub(sent)
                ));
            }
        }
        std::fs::write(path, out)?;
    }
    lat.sort_unstable();
    let per_sec_p99: Vec<String> = per_sec
        .iter_mut()
        .map(|v| {
            v.sort_unstable();
            format!("{:.1}", quantile(v, 0.99) as f64 / 1e6)
        })
        .collect();
    let got = recv_ns.len();
    let eps = got as f64 / window.as_secs_f64();
    let ms = |ns: u64| ns as f64 / 1e6;
    println!(
        "== stream: one connection, {} frames of 3-8 real messages, {:.0} messages/s asked for {:.0} s ({})",
        sizes.len(),
        o.rate,
        o.secs,
        if o.gzip { "gzip" } else { "uncompressed" }
    );
    println!(
        "delivered {got}/{total} events to a lossless subscriber in {:.2} s: {:.0} events/s ({mismatched} out of order)",
        window.as_secs_f64(),
        eps
    );
    println!(
        "latency frame sent -> event received: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples, {} frame stamps)",
        ms(quantile(&lat, 0.5)),
        ms(quantile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or(0)),
        lat.len(),
        stamps.len()
    );
    println!(
        "p99 (ms) per second of sending: [{}]",
        per_sec_p99.join(", ")
    );
    println!(
        "client CPU: {:.2} s for {got} events = {:.1} ms per 1,000 events ({:.0}% of one core)",
        cpu,
        cpu * 1000.0 / got.max(1) as f64 * 1000.0,
        cpu / window.as_secs_f64() * 100.0
    );
    println!(
        "{{\"scenario\":\"stream\",\"gzip\":{},\"rate\":{},\"events\":{got},\"events_per_s\":{:.1},\"p50_ms\":{:.3},\"p99_ms\":{:.3},\"max_ms\":{:.3},\"cpu_ms_per_1000\":{:.2}}}",
        o.gzip,
        o.rate,
        eps,
        ms(quantile(&lat, 0.5)),
        ms(quantile(&lat, 0.99)),
        ms(lat.last().copied().unwrap_or(0)),
        cpu * 1e6 / got.max(1) as f64
    );
    Ok(())
}
