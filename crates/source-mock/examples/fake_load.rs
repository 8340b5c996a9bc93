//! Measures the fake server under many rooms: it runs in a child process (this example with
//! `--serve`, or `tiktok-live serve-fake` with `--bin PATH`), and this process follows every
//! room as a signed client does (sign fetch, push socket with the cursor, `im_enter_room`,
//! heartbeats every 10 s, acks). Reports the server's CPU share and RSS over the measured
//! window and checks delivery: per room, the msg ids received equal the msg ids the server
//! says it pushed.
//!
//! ```sh
//! cargo run --release -p ttlive-source-mock --example fake_load -- --rooms 1000 --rate 10 --secs 30
//! cargo run --release -p ttlive-source-mock --example fake_load -- --bin target/release/tiktok-live
//! ```
//!
//! With `--storm`, after the window the server drops every socket at once (`POST
//! /_fake/drop-all`) and every client signs and connects again at once: reports how long until
//! all are back, and the messages lost in flight (pushed, never received).
//!
//! Options: `--rooms N` (1000), `--rate MSG_PER_S` per room (10), `--secs S` measured (30),
//! `--warmup S` after the last socket opened (3), `--gzip` (ask for gzip'd frames, as TikTok
//! clients do; default off), `--bin PATH` (run `PATH serve-fake` as the server). Everything is
//! on 127.0.0.1, bounded in time, and stops by itself.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use ttlive_proto::webcast as pb;
use ttlive_proto::{FrameLimits, decode_msg_frame};
use ttlive_source_mock::{FakeServer, numbered_room};

struct Opts {
    rooms: usize,
    rate: f64,
    secs: f64,
    warmup: f64,
    gzip: bool,
    storm: bool,
    bin: Option<String>,
    serve: bool,
}

fn opts() -> anyhow::Result<Opts> {
    let mut o = Opts {
        rooms: 1000,
        rate: 10.0,
        secs: 30.0,
        warmup: 3.0,
        gzip: false,
        storm: false,
        bin: None,
        serve: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut v = || args.next().with_context(|| format!("{a} needs a value"));
        match a.as_str() {
            "--rooms" => o.rooms = v()?.parse()?,
            "--rate" => o.rate = v()?.parse()?,
            "--secs" => o.secs = v()?.parse()?,
            "--warmup" => o.warmup = v()?.parse()?,
            "--bin" => o.bin = Some(v()?),
            "--gzip" => o.gzip = true,
            "--storm" => o.storm = true,
            "--serve" => o.serve = true,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(o)
}

/// The child: a fake server with the rooms, until killed.
async fn serve(o: &Opts) -> anyhow::Result<()> {
    let s = FakeServer::builder()
        .rooms(o.rooms)
        .rate(o.rate)
        .start()
        .await?;
    println!("{}", s.base_url());
    std::future::pending::<()>().await;
    Ok(())
}

/// (user+system CPU seconds, RSS bytes) of a process, from /proc.
fn proc_usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // After the command: state is field 0; utime 11, stime 12 (clock ticks, 100 a second).
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024);
    (cpu, rss)
}

struct Room {
    ids: std::sync::Mutex<HashSet<u64>>,
}

/// How a socket's read loop ended.
enum Ended {
    Stopped,
    Dropped,
}

#[allow(clippy::too_many_arguments)]
async fn follow(
    base: String,
    user: String,
    o: (bool, bool),
    room: Arc<Room>,
    frames: Arc<AtomicU64>,
    connected: Arc<AtomicU64>,
    mut stop: tokio::sync::watch::Receiver<bool>,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> anyhow::Result<()> {
    let (gzip, storm) = o;
    let http = reqwest::Client::new();
    let v: serde_json::Value = serde_json::from_slice(
        &http
            .get(format!(
                "{base}/api-live/user/room/?uniqueId={user}&sourceType=54"
            ))
            .send()
            .await?
            .bytes()
            .await?,
    )?;
    let room_id: u64 = v["data"]["user"]["roomId"]
        .as_str()
        .context("no room id")?
        .parse()?;
    let mut permit = Some(permit);
    let limits = FrameLimits::default();
    loop {
        let body = http
            .get(format!(
                "{base}/webcast/fetch?room_id={room_id}&client=fake_load"
            ))
            .send()
            .await?
            .bytes()
            .await?;
        let res = pb::ProtoMessageFetchResult::decode(body)?;
        if let Ok(mut ids) = room.ids.lock() {
            ids.extend(res.messages.iter().map(|m| m.msg_id as u64));
        }
        let compress = if gzip { "&compress=gzip" } else { "" };
        let url = format!(
            "{}?room_id={room_id}&cursor={}{compress}",
            res.push_server, res.cursor
        );
        let addr = url
            .trim_start_matches("ws://")
            .split('/')
            .next()
            .context("no host in the push URL")?
            .to_owned();
        let tcp = tokio::net::TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let (mut ws, _) = tokio_tungstenite::client_async(&url, tcp).await?;
        let enter = pb::WebcastImEnterRoomMessage {
            room_id: room_id as i64,
            ..Default::default()
        };
        ws.send(frame("im_enter_room", 0, enter.encode_to_vec()))
            .await?;
        connected.fetch_add(1, Ordering::Relaxed);
        drop(permit.take());
        let mut hb = tokio::time::interval(Duration::from_secs(10));
        let ended = loop {
            tokio::select! {
                _ = stop.changed() => break Ended::Stopped,
                _ = hb.tick() => {
                    let m = pb::HeartBeatMessage { room_id: room_id as i64, ..Default::default() };
                    if ws.send(frame("hb", 0, m.encode_to_vec())).await.is_err() {
                        break Ended::Dropped;
                    }
                }
                m = ws.next() => match m {
                    Some(Ok(Message::Binary(b))) => {
                        let d = decode_msg_frame(&b, &limits)?;
                        if let Some(r) = &d.result {
                            frames.fetch_add(1, Ordering::Relaxed);
                            if let Ok(mut ids) = room.ids.lock() {
                                ids.extend(r.messages.iter().map(|m| m.msg_id as u64));
                            }
                            if r.need_ack {
                                let ack = frame("ack", d.frame.log_id, r.internal_ext.clone().into_bytes());
                                if ws.send(ack).await.is_err() {
                                    break Ended::Dropped;
                                }
                            }
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break Ended::Dropped,
                }
            }
        };
        match ended {
            Ended::Dropped if storm => continue,
            Ended::Dropped => bail!("{user}: the socket ended"),
            Ended::Stopped => {}
        }
        // Close, then take what the server sent before it saw the close: it counts as pushed.
        let _ = ws.close(None).await;
        while let Ok(Some(Ok(m))) = tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            if let Message::Binary(b) = m
                && let Ok(d) = decode_msg_frame(&b, &limits)
                && let Some(r) = &d.result
                && let Ok(mut ids) = room.ids.lock()
            {
                ids.extend(r.messages.iter().map(|m| m.msg_id as u64));
            }
        }
        return Ok(());
    }
}

fn frame(payload_type: &str, log_id: i64, payload: Vec<u8>) -> Message {
    Message::Binary(
        pb::WebcastPushFrame {
            log_id,
            payload_encoding: "pb".into(),
            payload_type: payload_type.into(),
            payload: payload.into(),
            ..Default::default()
        }
        .encode_to_vec()
        .into(),
    )
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> anyhow::Result<()> {
    let o = opts()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    if o.serve {
        return rt.block_on(serve(&o));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut cmd = match &o.bin {
        Some(bin) => {
            let mut c = Command::new(bin);
            c.args(["serve-fake", "--port", "0", "--rooms"])
                .arg(o.rooms.to_string())
                .arg("--rate")
                .arg(o.rate.to_string());
            c
        }
        None => {
            let mut c = Command::new(std::env::current_exe()?);
            c.args(["--serve", "--rooms"])
                .arg(o.rooms.to_string())
                .arg("--rate")
                .arg(o.rate.to_string());
            c
        }
    };
    let mut child = Server(
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .context("starting the server")?,
    );
    let pid = child.0.id();
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let base = line.trim().to_owned();
    if !base.starts_with("http://127.0.0.1:") {
        bail!("the server printed {base:?}");
    }
    let (_, idle_rss) = proc_usage(pid);
    rt.block_on(async move {
        let frames = Arc::new(AtomicU64::new(0));
        let connected = Arc::new(AtomicU64::new(0));
        let rooms: Vec<Arc<Room>> = (0..o.rooms)
            .map(|_| {
                Arc::new(Room {
                    ids: std::sync::Mutex::new(HashSet::new()),
                })
            })
            .collect();
        // Connecting at most 64 at a time; the clients stop together at `stop`.
        let opening = Instant::now();
        let gate = Arc::new(Semaphore::new(64));
        let mut tasks = Vec::new();
        // Everyone stops together after the window (measured from when the last socket opened).
        let connect_budget = Duration::from_secs(60);
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        for (i, room) in rooms.iter().enumerate() {
            let (base, room, frames, connected, gate, stop) = (
                base.clone(),
                room.clone(),
                frames.clone(),
                connected.clone(),
                gate.clone(),
                stop.clone(),
            );
            let user = numbered_room(i, o.rooms);
            tasks.push(tokio::spawn(async move {
                let permit = gate.acquire_owned().await?;
                follow(
                    base,
                    user.clone(),
                    (o.gzip, o.storm),
                    room,
                    frames,
                    connected,
                    stop,
                    permit,
                )
                .await
                .with_context(|| user)
            }));
        }
        while connected.load(Ordering::Relaxed) < o.rooms as u64 {
            if opening.elapsed() > connect_budget {
                bail!(
                    "only {} of {} sockets opened",
                    connected.load(Ordering::Relaxed),
                    o.rooms
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let open_secs = opening.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_secs_f64(o.warmup)).await;
        let (cpu0, _) = proc_usage(pid);
        let f0 = frames.load(Ordering::Relaxed);
        let t0 = Instant::now();
        let mut peak_rss = 0;
        while t0.elapsed().as_secs_f64() < o.secs {
            tokio::time::sleep(Duration::from_millis(500)).await;
            peak_rss = peak_rss.max(proc_usage(pid).1);
        }
        let (cpu1, rss1) = proc_usage(pid);
        let wall = t0.elapsed().as_secs_f64();
        let f1 = frames.load(Ordering::Relaxed);
        // The reconnect storm: every socket dropped at once; every client signs and connects
        // again at once.
        let storm_secs = if o.storm {
            let t = Instant::now();
            reqwest::Client::new()
                .post(format!("{base}/_fake/drop-all"))
                .send()
                .await?;
            while connected.load(Ordering::Relaxed) < 2 * o.rooms as u64 {
                if t.elapsed() > connect_budget {
                    bail!(
                        "only {} sockets back after the storm",
                        connected.load(Ordering::Relaxed) - o.rooms as u64
                    );
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let secs = t.elapsed().as_secs_f64();
            tokio::time::sleep(Duration::from_secs(2)).await;
            Some(secs)
        } else {
            None
        };
        // Let the clients stop, then compare what each room got with what it pushed.
        let _ = stop_tx.send(true);
        let mut failures = 0;
        for t in tasks {
            if let Err(e) = t.await? {
                eprintln!("client error: {e:#}");
                failures += 1;
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let http = reqwest::Client::new();
        let (mut exact, mut received_total, mut missing_total) = (0, 0, 0);
        for (i, room) in rooms.iter().enumerate() {
            let user = numbered_room(i, o.rooms);
            let v: serde_json::Value = serde_json::from_slice(
                &http
                    .get(format!("{base}/_fake/rooms/{user}/pushed"))
                    .send()
                    .await?
                    .bytes()
                    .await?,
            )?;
            let pushed: HashSet<u64> = v["msg_ids"]
                .as_array()
                .context("no msg_ids")?
                .iter()
                .filter_map(|s| s.as_str()?.parse().ok())
                .collect();
            let got = room.ids.lock().map(|g| g.clone()).unwrap_or_default();
            received_total += got.len();
            missing_total += pushed.difference(&got).count();
            if got == pushed {
                exact += 1;
            } else if !o.storm && exact + 5 > i {
                eprintln!(
                    "{user}: received {} msg ids, the server pushed {} ({} missing, {} extra)",
                    got.len(),
                    pushed.len(),
                    pushed.difference(&got).count(),
                    got.difference(&pushed).count()
                );
            }
        }
        let cpu_share = (cpu1 - cpu0) / wall;
        println!(
            "fake server under load ({} rooms x {} msg/s, gzip {}):",
            o.rooms, o.rate, o.gzip
        );
        println!("  sockets opened          {} in {open_secs:.1} s", o.rooms);
        println!(
            "  measured window         {wall:.1} s (after {:.0} s warm-up)",
            o.warmup
        );
        println!(
            "  frames received         {:.0} /s",
            (f1 - f0) as f64 / wall
        );
        println!(
            "  server CPU              {:.1} % of one core",
            cpu_share * 100.0
        );
        println!(
            "  server RSS              {:.1} MiB idle, {:.1} MiB at the end, {:.1} MiB peak",
            idle_rss as f64 / 1048576.0,
            rss1 as f64 / 1048576.0,
            peak_rss as f64 / 1048576.0
        );
        println!("  msg ids received        {received_total}");
        if let Some(secs) = storm_secs {
            println!("  storm: all {} back in   {secs:.2} s", o.rooms);
            println!(
                "  storm: pushed, not got  {missing_total} (in flight when the sockets dropped)"
            );
        }
        println!(
            "  rooms delivered exactly {exact} of {} (client errors: {failures})",
            o.rooms
        );
        if failures > 0 || (!o.storm && exact != o.rooms) {
            bail!("delivery was not exact");
        }
        Ok(())
    })
}
