//! `ttlive-serve-load`: `tiktok-live serve` following N rooms at R events/s each, against a fake
//! TikTok in another process; reports what `serve` costs (CPU share of one core, RSS) and the
//! events/s it delivered. Everything is on 127.0.0.1, bounded in time, and stops by itself.
//!
//! ```text
//! cargo build --release -p ttlive-cli -p ttlive-bench
//! target/release/ttlive-serve-load --rooms 200 --rate 10 --secs 20
//! ```
//!
//! The fake process (this binary, `fake`) serves users `room0000`… all live, each socket the
//! same scripted feed: one frame every 100 ms holding `rate / 10` chats. (When the fake server
//! serves many rooms of its own, `serve-fake --rooms N`, the `fake` side is what changes.)
//! `serve` runs with an unlimited budget and quick detection, prints every event to nowhere
//! (no `--json`), and is measured once every room is live: CPU time and RSS from
//! `/proc/<pid>`, events from its own `/metrics`.
//!
//! Not measured yet: latency (the scripted frames carry no send time; `/metrics` has
//! `ttlive_event_latency_seconds` once the fake stamps `create_time` when it sends).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use prost::Message as _;
use ttlive_proto::webcast as pb;
use ttlive_source_mock::{FakeServer, Pace, ScriptFrame, UserState};

struct Opts {
    rooms: usize,
    rate: u32,
    secs: u64,
}

fn opts(args: &[String]) -> anyhow::Result<Opts> {
    let mut o = Opts {
        rooms: 100,
        rate: 10,
        secs: 20,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().context("missing value");
        match a.as_str() {
            "--rooms" => o.rooms = val()?.parse()?,
            "--rate" => o.rate = val()?.parse()?,
            "--secs" => o.secs = val()?.parse()?,
            other => bail!("unknown option {other}"),
        }
    }
    anyhow::ensure!((1..=5000).contains(&o.rooms), "--rooms 1..=5000");
    anyhow::ensure!(
        (10..=1000).contains(&o.rate),
        "--rate 10..=1000 events/s per room"
    );
    anyhow::ensure!((1..=300).contains(&o.secs), "--secs 1..=300");
    Ok(o)
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("fake") => fake(&opts(&args[1..])?),
        _ => run(&opts(&args)?),
    }
}

fn chat(id: i64) -> pb::BaseProtoMessage {
    let m = pb::WebcastChatMessage {
        common: Some(pb::CommonMessageData {
            method: "WebcastChatMessage".into(),
            msg_id: id,
            ..Default::default()
        }),
        user: Some(pb::User {
            id: 6_900_000_000_000_000_000 + id % 1000,
            nickname: format!("Viewer {}", id % 1000),
            display_id: format!("viewer_{}", id % 1000),
            ..Default::default()
        }),
        content: format!("message number {id}"),
        ..Default::default()
    };
    pb::BaseProtoMessage {
        method: "WebcastChatMessage".into(),
        payload: m.encode_to_vec().into(),
        msg_id: id,
        ..Default::default()
    }
}

/// The fake TikTok: every room live, the feed at `rate` chats/s, for the run and a margin.
fn fake(o: &Opts) -> anyhow::Result<()> {
    let per_frame = (o.rate / 10).max(1) as i64;
    let frames: Vec<ScriptFrame> = (0..(o.secs + 120) * 10)
        .map(|f| {
            let f = f as i64;
            ScriptFrame::new(
                f as u64 * 100,
                (0..per_frame)
                    .map(|k| chat(1 + f * per_frame + k))
                    .collect(),
            )
        })
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let server = rt.block_on(async {
        let mut b = FakeServer::builder()
            .script(Vec::new(), frames)
            .history(false)
            .pace(Pace::RealTime);
        for i in 0..o.rooms {
            b = b.user_with_room(
                format!("room{i:04}"),
                UserState::Live,
                7_460_000_000_000_000_000 + i as u64,
            );
        }
        b.start().await
    })?;
    println!("READY {}", server.base_url());
    std::io::stdout().flush()?;
    // Until the parent closes our stdin.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(server);
    Ok(())
}

/// `GET path` on `addr`, the body.
fn get(addr: &str, path: &str) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default())
}

/// (CPU seconds, RSS bytes) of a process.
fn usage(pid: u32) -> (f64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0);
    ((ticks(14) + ticks(15)) as f64 / 100.0, rss_kb * 1024)
}

fn chats(metrics: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix("ttlive_events_total{kind=\"chat\"} "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Kills a child process when dropped (an early error must not leave it running).
struct Reap(std::process::Child);

impl Drop for Reap {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn run(o: &Opts) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let fake = Command::new(&exe)
        .args([
            "fake",
            "--rooms",
            &o.rooms.to_string(),
            "--rate",
            &o.rate.to_string(),
            "--secs",
            &o.secs.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut fake = Reap(fake);
    let mut line = String::new();
    BufReader::new(fake.0.stdout.take().context("fake stdout")?).read_line(&mut line)?;
    let base = line
        .strip_prefix("READY ")
        .context("the fake did not start")?
        .trim()
        .to_owned();
    let serve_bin = exe.with_file_name("tiktok-live");
    anyhow::ensure!(
        serve_bin.is_file(),
        "{} not found: cargo build --release -p ttlive-cli",
        serve_bin.display()
    );
    let rooms: Vec<String> = (0..o.rooms).map(|i| format!("room{i:04}")).collect();
    let mut serve = Command::new(&serve_bin);
    serve
        .args(["serve", "--listen", "127.0.0.1:0", "--mode", "euler"])
        .args([
            "--web-url",
            &base,
            "--webcast-url",
            &base,
            "--sign-url",
            &base,
        ]);
    for set in [
        "limits.lookups_per_minute=0",
        "limits.live_checks_per_minute=0",
        "limits.sign_per_minute=0",
        "limits.connects_per_minute=0",
        "detect.lookup_interval=1s",
        "detect.lookup_max_interval=5s",
    ] {
        serve.args(["--set", set]);
    }
    let serve = serve
        .env("TTLIVE_ROOMS", rooms.join(","))
        .env_remove("TTLIVE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut serve = Reap(serve);
    let mut err = BufReader::new(serve.0.stderr.take().context("serve stderr")?);
    let mut line = String::new();
    let addr = loop {
        line.clear();
        if err.read_line(&mut line)? == 0 {
            bail!("serve ended before listening");
        }
        if let Some(rest) = line.split("API on http://").nth(1) {
            break rest.split_whitespace().next().unwrap_or("").to_owned();
        }
    };
    let started = Instant::now();
    loop {
        let body = get(&addr, "/api/rooms")?;
        let live = body.matches("\"state\":\"live\"").count();
        if live == o.rooms {
            break;
        }
        if started.elapsed() > Duration::from_secs(180) {
            let (fake_cpu, _) = usage(fake.0.id());
            let states: Vec<String> = ["waiting", "connecting", "reconnecting", "stopped"]
                .iter()
                .map(|s| {
                    format!(
                        "{s} {}",
                        body.matches(&format!("\"state\":\"{s}\"")).count()
                    )
                })
                .collect();
            bail!(
                "only {live} of {} rooms live after 180 s ({}); the fake process used {fake_cpu:.0} s of CPU",
                o.rooms,
                states.join(", ")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let all_live = started.elapsed();
    let (cpu0, _) = usage(serve.0.id());
    let (fake_cpu0, _) = usage(fake.0.id());
    let chats0 = chats(&get(&addr, "/metrics")?);
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(o.secs));
    let (cpu1, rss) = usage(serve.0.id());
    let (fake_cpu1, _) = usage(fake.0.id());
    let chats1 = chats(&get(&addr, "/metrics")?);
    let wall = t0.elapsed().as_secs_f64();
    let _ = Command::new("kill")
        .args(["-TERM", &serve.0.id().to_string()])
        .status();
    let code = serve.0.wait()?.code();
    drop(fake.0.stdin.take());
    let _ = fake.0.wait();
    println!(
        "rooms {} at {} events/s each: all live after {:.1} s; over {:.1} s: {:.0} events/s \
         delivered (expected {}), serve CPU {:.1}% of one core, RSS {:.1} MiB ({:.1} KiB per \
         room), the fake {:.1}%; serve exited {:?} on SIGTERM",
        o.rooms,
        o.rate,
        all_live.as_secs_f64(),
        wall,
        (chats1 - chats0) / wall,
        o.rooms as u32 * (o.rate / 10).max(1) * 10,
        100.0 * (cpu1 - cpu0) / wall,
        rss as f64 / (1024.0 * 1024.0),
        rss as f64 / 1024.0 / o.rooms as f64,
        100.0 * (fake_cpu1 - fake_cpu0) / wall,
        code
    );
    Ok(())
}
