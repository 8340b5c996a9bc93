//! `tiktok-live`: watch, record, replay and decode TikTok LIVE events.
//!
//! Exit codes: 0 done (the stream ended, the replay finished, Ctrl-C), 1 other error, 2 bad
//! usage, 3 some input could not be decoded, 4 a file could not be read or written, 5 the user is
//! not live, 6 the user does not exist, 7 rate limited, 8 blocked or refused by TikTok (or the
//! sign server refused the API key), 9 the sign server is unavailable, 10 gave up reconnecting.

mod print;
mod serve;
mod tap;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ttlive_eventbus::{
    EventBus, EventKind, EventSource, Filter, SourceEnd, SourceError, SourceErrorKind,
};
use ttlive_service::config::ConnectionConfig;
use ttlive_signer::{Secret, Signer};
use ttlive_source_mock::{FakeServer, Pace, ReplaySource};
use ttlive_source_tiktok::{TikTokError, WebClient};

use crate::print::Printer;

const EXIT_OK: u8 = 0;
const EXIT_ERROR: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_DECODE_ERROR: u8 = 3;
const EXIT_IO_ERROR: u8 = 4;
const EXIT_OFFLINE: u8 = 5;
const EXIT_NOT_FOUND: u8 = 6;
const EXIT_RATE_LIMITED: u8 = 7;
const EXIT_BLOCKED: u8 = 8;
const EXIT_SIGN_DOWN: u8 = 9;
const EXIT_GAVE_UP: u8 = 10;

#[derive(Parser, Debug)]
#[command(
    name = "tiktok-live",
    version,
    about = "Read TikTok LIVE events: watch a stream, record and replay it, decode webcast messages",
    after_help = "Exit codes: 0 done, 1 error, 2 usage, 3 decode errors, 4 file error, 5 not live, \
                  6 no such user, 7 rate limited, 8 blocked or refused, 9 sign server down, \
                  10 gave up reconnecting."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The built-in demo: a fake TikTok on 127.0.0.1 plays a recorded session, and the real
    /// client watches it exactly as `watch` watches TikTok. Needs no internet.
    Demo {
        /// Playback speed of the recording (the demo recording is about 3 minutes long).
        #[arg(long, default_value = "12")]
        speed: f64,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Watch a live stream: one line per event (or JSON lines), a summary at the end.
    Watch {
        /// The streamer: `name`, `@name`, a TikTok LIVE URL, or a room id.
        user: String,
        #[command(flatten)]
        out: OutputArgs,
        /// Also record the session to this file (replay it with `tiktok-live replay`).
        #[arg(long, value_name = "FILE")]
        record: Option<PathBuf>,
        /// Do not print the recent-history batch TikTok sends on connect.
        #[arg(long)]
        no_history: bool,
        /// If the user is not live, wait until the stream starts (instead of exiting 5).
        #[arg(long)]
        wait: bool,
        /// After a stream ends, wait for the next one (implies --wait).
        #[arg(long, conflicts_with = "record")]
        follow: bool,
        /// How often --wait looks the user up (e.g. `60s`, `5m`).
        #[arg(long, default_value = "60s", value_parser = parse_interval)]
        wait_interval: Duration,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Follow many rooms unattended: go-live detection within budgets, an HTTP API
    /// (`/api/rooms`, `/healthz`, `/metrics`), every event on one bus.
    Serve(serve::ServeArgs),
    /// Record a live stream to a file, printing a summary at the end.
    Record {
        /// The streamer.
        user: String,
        /// Where to write the recording.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Replay a recording through the same decoder.
    Replay {
        /// The recording.
        file: PathBuf,
        /// Playback speed (1 = as recorded).
        #[arg(long, conflicts_with = "instant")]
        speed: Option<f64>,
        /// As fast as possible.
        #[arg(long)]
        instant: bool,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Is the user live? Prints the room id, title and viewers.
    Check {
        /// The streamer.
        user: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// The room's `room/info` as JSON.
    RoomInfo {
        /// The streamer.
        user: String,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// The room's gift catalogue (id, name, diamonds, type).
    Gifts {
        /// The streamer.
        user: String,
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Decode raw webcast messages (the bytes of one inner message per file, as found in
    /// `ProtoMessageFetchResult.messages[i].payload`) and print one JSON event per line.
    ///
    /// With `--frame`, each file is instead a whole WebSocket push frame (gzip or not) and every
    /// event of its batch is printed.
    Decode {
        /// The message type, e.g. `WebcastChatMessage` (the `Webcast` prefix may be left out).
        #[arg(long, short)]
        method: Option<String>,
        /// Treat each file as a whole push frame.
        #[arg(long, conflicts_with = "method")]
        frame: bool,
        /// Pretty-print the JSON.
        #[arg(long)]
        pretty: bool,
        /// Files to decode, printed in this order.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Run the fake TikTok server (web routes, sign routes, push WebSocket) on 127.0.0.1.
    ServeFake(ServeFakeArgs),
}

#[derive(Args, Debug, Clone)]
struct OutputArgs {
    /// JSON lines instead of readable lines.
    #[arg(long)]
    json: bool,
    /// Only these event kinds, comma-separated (`chat,gift,like`…).
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
}

#[derive(Args, Debug, Clone)]
struct ConnArgs {
    /// TikTok's web host.
    #[arg(long, env = "TIKTOK_WEB_URL", default_value = ttlive_source_tiktok::DEFAULT_WEB_URL)]
    web_url: String,
    /// TikTok's webcast host.
    #[arg(long, env = "TIKTOK_WEBCAST_URL", default_value = ttlive_source_tiktok::DEFAULT_WEBCAST_URL)]
    webcast_url: String,
    /// The sign server (default: Euler Stream).
    #[arg(long, env = "SIGN_API_URL")]
    sign_url: Option<String>,
    /// API key for the sign server (raises its rate limits).
    #[arg(long, env = "SIGN_API_KEY", hide_env_values = true)]
    sign_api_key: Option<String>,
    /// Proxy for every request and the WebSocket: http://host:port or socks5://host:port.
    #[arg(long, env = "TIKTOK_PROXY")]
    proxy: Option<String>,
    /// A logged-in TikTok session id (age-restricted streams). Never printed.
    #[arg(long, env = "TIKTOK_SESSION_ID", hide_env_values = true)]
    session_id: Option<String>,
    /// The session's data centre (`tt-target-idc` cookie).
    #[arg(long, default_value = "useast2a")]
    tt_target_idc: String,
    /// Give up after this many failed connection attempts in a row (0 = never).
    #[arg(long, default_value_t = 10)]
    max_attempts: u32,
    /// How to get a connection: `direct` (TikTok's own web-player handshake, only a `ttwid`
    /// cookie, no sign server), `euler` (the sign server), or `auto` (direct first, the sign
    /// server as the fallback).
    #[arg(long, env = "TTLIVE_MODE", default_value = "auto")]
    mode: String,
    /// The push WebSocket host for direct mode (default: the `--webcast-url` host when that is
    /// not TikTok's, else TikTok's `wss://webcast-ws.tiktok.com`; `us` and `eu` pick the regional
    /// hosts).
    #[arg(long, env = "TIKTOK_WS_URL")]
    ws_url: Option<String>,
    /// Never fall back to HTTP polling of `im/fetch` when no WebSocket can be had.
    #[arg(long)]
    no_polling: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("TTLIVE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    if let Command::Decode {
        method,
        frame,
        pretty,
        files,
    } = &cli.command
    {
        if method.is_none() && !frame {
            eprintln!("error: give --method <Method> (or --frame for whole push frames)");
            return ExitCode::from(EXIT_USAGE);
        }
        return ExitCode::from(decode(method.as_deref(), *pretty, files));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let code = runtime.block_on(run(cli.command));
    // A write stuck on a blocked stdout runs on a blocking thread no one can cancel: do not let
    // it hold the exit (`serve`'s shutdown is bounded, and so is this).
    runtime.shutdown_timeout(Duration::from_millis(500));
    ExitCode::from(code)
}

async fn run(command: Command) -> u8 {
    match command {
        Command::Demo { speed, out } => demo(speed, out).await,
        Command::Watch {
            user,
            out,
            record,
            no_history,
            wait,
            follow,
            wait_interval,
            conn,
        } => {
            let wait = (wait || follow).then_some(WaitMode {
                follow,
                interval: wait_interval,
            });
            watch(&user, &conn, out, record, !no_history, wait).await
        }
        Command::Serve(args) => serve::serve(args).await,
        Command::Record { user, output, conn } => {
            let out = OutputArgs {
                json: false,
                only: Some(vec!["streamEnd".into()]),
            };
            watch(&user, &conn, out, Some(output), true, None).await
        }
        Command::Replay {
            file,
            speed,
            instant,
            out,
        } => {
            let pace = if instant {
                Pace::Instant
            } else {
                match speed {
                    Some(s) if s > 0.0 && s.is_finite() => Pace::Speed(s),
                    Some(_) => {
                        eprintln!("error: --speed must be a positive number");
                        return EXIT_USAGE;
                    }
                    None => Pace::RealTime,
                }
            };
            let source = match ReplaySource::open(&file) {
                Ok(s) => s.pace(pace),
                Err(e) => {
                    eprintln!("error: {}: {e}", file.display());
                    return EXIT_IO_ERROR;
                }
            };
            let Some(printer) = printer(&out) else {
                return EXIT_USAGE;
            };
            run_source(source, printer).await.0
        }
        Command::Check { user, conn } => check(&user, &conn).await,
        Command::RoomInfo { user, conn } => room_info(&user, &conn).await,
        Command::Gifts { user, json, conn } => gifts(&user, json, &conn).await,
        Command::ServeFake(args) => serve_fake(args).await,
        Command::Decode { .. } => EXIT_USAGE,
    }
}

fn parse_kinds(only: &Option<Vec<String>>) -> Result<Option<Vec<EventKind>>, String> {
    let Some(names) = only else {
        return Ok(None);
    };
    let mut kinds = Vec::new();
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        let k = match n {
            "join" => EventKind::Member,
            "follow" | "share" => EventKind::Social,
            "viewers" => EventKind::RoomUser,
            "question" => EventKind::QuestionNew,
            "battle" => EventKind::LinkMicBattle,
            "end" => EventKind::StreamEnd,
            n => EventKind::from_name(n).ok_or_else(|| {
                let known: Vec<&str> = EventKind::ALL.iter().map(|k| k.name()).collect();
                format!("unknown event kind {n:?}; known: {}", known.join(", "))
            })?,
        };
        kinds.push(k);
    }
    Ok(Some(kinds))
}

fn printer(out: &OutputArgs) -> Option<Printer> {
    match parse_kinds(&out.only) {
        Ok(only) => Some(Printer::new(
            out.json,
            !out.json && std::io::stdout().is_terminal(),
            only,
        )),
        Err(e) => {
            eprintln!("error: {e}");
            None
        }
    }
}

/// The connection flags as the service's connection settings (one place builds signers).
fn conn_config(conn: &ConnArgs) -> Result<ConnectionConfig, String> {
    let mut c = ConnectionConfig::default();
    c.web_url = conn.web_url.clone();
    c.webcast_url = conn.webcast_url.clone();
    c.ws_url = conn.ws_url.clone();
    c.sign_url = conn.sign_url.clone();
    c.sign_api_key = conn.sign_api_key.clone().map(Secret::new);
    c.mode = conn.mode.parse().map_err(|e| format!("--mode: {e}"))?;
    c.proxies = conn.proxy.iter().cloned().collect();
    c.session_id = conn.session_id.clone().map(Secret::new);
    c.tt_target_idc = conn.tt_target_idc.clone();
    c.max_attempts = conn.max_attempts;
    c.polling = !conn.no_polling;
    Ok(c)
}

fn signer(conn: &ConnArgs) -> Result<Arc<dyn Signer>, String> {
    ttlive_service::egress::build_signer(&conn_config(conn)?, conn.proxy.as_deref()).map_err(|e| {
        match std::error::Error::source(&e) {
            Some(cause) => format!("{e}: {cause}"),
            None => e.to_string(),
        }
    })
}

fn web_client(conn: &ConnArgs) -> Result<WebClient, String> {
    WebClient::new(
        &conn.web_url,
        &conn.webcast_url,
        ttlive_signer::DEFAULT_USER_AGENT,
        conn.proxy.as_deref(),
        Duration::from_secs(10),
    )
    .map_err(|e| e.to_string())
}

/// `watch --wait` / `--follow`: how to wait for a stream.
#[derive(Debug, Clone, Copy)]
struct WaitMode {
    follow: bool,
    interval: Duration,
}

fn parse_interval(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{s:?} is not a duration like 60s, 5m or 500ms"))
}

async fn watch(
    user: &str,
    conn: &ConnArgs,
    out: OutputArgs,
    record: Option<PathBuf>,
    history: bool,
    wait: Option<WaitMode>,
) -> u8 {
    let Some(wait) = wait else {
        return watch_once(user, conn, out, record, history, true).await.0;
    };
    let handle = match ttlive_source_tiktok::Target::parse(user) {
        Ok(ttlive_source_tiktok::Target::User(u)) => u,
        Ok(_) => {
            eprintln!("error: --wait needs the streamer's handle, not a room id");
            return EXIT_USAGE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let cfg = match conn_config(conn) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut detect = ttlive_service::config::DetectConfig::default();
    detect.lookup_interval = wait.interval;
    detect.lookup_max_interval = wait.interval;
    detect.recent_lookup_interval = wait.interval;
    detect.check_interval = wait.interval.min(Duration::from_secs(30));
    let limits = ttlive_service::config::LimitsConfig::default();
    let mut known = None;
    loop {
        eprintln!(
            "waiting for @{handle} to go live (checking every {} s; Ctrl-C stops)",
            wait.interval.as_secs_f64()
        );
        let found = tokio::select! {
            found = ttlive_service::wait_until_live(&handle, &cfg, detect.clone(), &limits, known) => found,
            _ = tokio::signal::ctrl_c() => {
                eprintln!("stopped (Ctrl-C)");
                return EXIT_OK;
            }
        };
        let room = match found {
            Ok(f) => f.room_id,
            Err(e) => {
                eprintln!("error: {e}");
                return match e {
                    ttlive_service::WaitError::Detect(
                        ttlive_service::DetectError::UserNotFound(_),
                    ) => EXIT_NOT_FOUND,
                    ttlive_service::WaitError::Setup(_) => EXIT_USAGE,
                    _ => EXIT_ERROR,
                };
            }
        };
        eprintln!("@{handle} is live (room {room})");
        let (code, ended) = watch_once(
            &room.to_string(),
            conn,
            out.clone(),
            record.clone(),
            history,
            false,
        )
        .await;
        if !wait.follow || !ended {
            return code;
        }
        known = Some((room, std::time::SystemTime::now()));
    }
}

/// Watches one stream; returns the exit code and whether the stream ended (not Ctrl-C, not an
/// error).
async fn watch_once(
    user: &str,
    conn: &ConnArgs,
    out: OutputArgs,
    record: Option<PathBuf>,
    history: bool,
    check_live: bool,
) -> (u8, bool) {
    let Some(printer) = printer(&out) else {
        return (EXIT_USAGE, false);
    };
    let signer = match signer(conn) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return (EXIT_USAGE, false);
        }
    };
    let mut settings = match conn_config(conn) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return (EXIT_USAGE, false);
        }
    };
    settings.history = history;
    let mut b =
        ttlive_service::egress::source_builder(&settings, user, conn.proxy.as_deref(), signer)
            .check_live(check_live);
    let mut recorder = None;
    if let Some(path) = &record {
        match tap::FileTap::create(path, user) {
            Ok(tap) => {
                recorder = Some(tap.clone());
                b = b.tap(Box::new(tap));
            }
            Err(e) => {
                eprintln!("error: cannot record to {}: {e}", path.display());
                return (EXIT_IO_ERROR, false);
            }
        }
    }
    let source = match b.start() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return (exit_code_for(&e), false);
        }
    };
    let (code, ended) = run_source(source, printer).await;
    if let (Some(tap), Some(path)) = (recorder, record) {
        match tap.finish() {
            Ok(lines) => eprintln!("recorded {lines} units to {}", path.display()),
            Err(e) => {
                eprintln!("error: recording {}: {e}", path.display());
                return (code.max(EXIT_IO_ERROR), false);
            }
        }
    }
    (code, ended)
}

/// Drives a source through an [`EventBus`] (a lossless subscriber prints; the source keeps its
/// socket alive in its own task), until it ends or Ctrl-C; prints the summary; returns the exit
/// code and whether the stream ended by itself.
async fn run_source(source: impl EventSource, mut printer: Printer) -> (u8, bool) {
    let bus = EventBus::new();
    let mut sub = bus.subscribe_lossless(Filter::all());
    let handle = match bus.attach(source) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return (EXIT_ERROR, false);
        }
    };
    let stdout = std::io::stdout();
    let mut out = std::io::LineWriter::new(stdout.lock());
    let mut interrupted = false;
    // One listener for the whole run: one made per loop turn would miss a Ctrl-C that comes
    // between two turns.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let end = loop {
        tokio::select! {
            item = sub.recv() => match item {
                Some(Ok(ev)) => {
                    if printer.event(&mut out, &ev).is_err() {
                        // stdout closed (a pipe ended): stop quietly.
                        break handle.stop_and_join().await;
                    }
                }
                Some(Err(lag)) => printer.summary.lagged += lag.0,
                None => break handle.join().await,
            },
            end = handle.join() => {
                // Drain what the source published before it ended.
                while let Some(Ok(ev)) = sub.try_recv() {
                    let _ = printer.event(&mut out, &ev);
                }
                break end;
            }
            _ = &mut ctrl_c => {
                interrupted = true;
                break handle.stop_and_join().await;
            }
        }
    };
    let _ = out.flush();
    drop(out);
    if let Some(stats) = bus.stats().source(handle.id()) {
        printer.summary.errors = stats.errors;
    }
    bus.close().await;
    eprintln!("{}", printer.summary.render());
    if interrupted {
        eprintln!("stopped (Ctrl-C)");
        return (EXIT_OK, false);
    }
    match end {
        SourceEnd::StreamEnded => (EXIT_OK, true),
        SourceEnd::Finished | SourceEnd::Stopped => (EXIT_OK, false),
        SourceEnd::Fatal(e) => {
            eprintln!("error: {}", explain(&e));
            (exit_code_for_source(&e), false)
        }
        _ => (EXIT_OK, false),
    }
}

fn tiktok_cause(e: &SourceError) -> Option<&TikTokError> {
    e.cause().and_then(|c| c.downcast_ref::<TikTokError>())
}

/// A person-readable explanation with what to do.
fn explain(e: &SourceError) -> String {
    let mut msg = e.message().to_owned();
    let hint = match tiktok_cause(e) {
        Some(TikTokError::Offline { .. }) => {
            Some("the stream must be live to watch it; try again when it is")
        }
        Some(TikTokError::UserNotFound { .. }) => Some("check the spelling of the handle"),
        Some(TikTokError::Blocked { .. } | TikTokError::Rejected { .. }) => Some(
            "TikTok refused this client: wait a while, try another network or a proxy (--proxy)",
        ),
        _ => None,
    };
    if let SourceErrorKind::RateLimited { retry_after } = e.kind() {
        msg.push_str(&match retry_after {
            Some(d) => format!(" (retry in {} s", d.as_secs().max(1)),
            None => " (retry later".into(),
        });
        msg.push_str("; an API key, SIGN_API_KEY, raises the sign server's limits)");
    }
    if let Some(h) = hint {
        msg.push_str(" — ");
        msg.push_str(h);
    }
    msg
}

fn exit_code_for(e: &TikTokError) -> u8 {
    match e {
        TikTokError::Offline { .. } => EXIT_OFFLINE,
        TikTokError::UserNotFound { .. } => EXIT_NOT_FOUND,
        TikTokError::InvalidTarget(_) | TikTokError::Config(_) => EXIT_USAGE,
        TikTokError::Blocked { .. } | TikTokError::Rejected { .. } | TikTokError::AgeRestricted => {
            EXIT_BLOCKED
        }
        TikTokError::Sign(s) => {
            if s.retry_after().is_some() {
                EXIT_RATE_LIMITED
            } else if s.is_fatal() {
                EXIT_BLOCKED
            } else {
                EXIT_SIGN_DOWN
            }
        }
        // Giving up after retries keeps the cause's code when it says more than "network".
        TikTokError::GaveUp { last, .. } => match exit_code_for(last) {
            EXIT_ERROR => EXIT_GAVE_UP,
            code => code,
        },
        _ => EXIT_ERROR,
    }
}

fn exit_code_for_source(e: &SourceError) -> u8 {
    if let Some(t) = tiktok_cause(e) {
        return exit_code_for(t);
    }
    match e.kind() {
        SourceErrorKind::RateLimited { .. } => EXIT_RATE_LIMITED,
        SourceErrorKind::NotFound => EXIT_NOT_FOUND,
        SourceErrorKind::Auth => EXIT_BLOCKED,
        _ => EXIT_ERROR,
    }
}

async fn resolve(user: &str, conn: &ConnArgs) -> Result<(WebClient, u64, String), u8> {
    let web = web_client(conn).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })?;
    let target = ttlive_source_tiktok::Target::parse(user).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_USAGE
    })?;
    match target {
        ttlive_source_tiktok::Target::Room(r) => Ok((web, r, "room id given".into())),
        ttlive_source_tiktok::Target::User(u) => {
            let signer = signer(conn).ok();
            match web.resolve_room(&u, signer.as_ref()).await {
                Ok(s) => Ok((web, s.room_id, format!("{:?}", s.status))),
                Err(e) => {
                    eprintln!("error: {e}");
                    Err(exit_code_for(&e))
                }
            }
        }
        _ => Err(EXIT_USAGE),
    }
}

async fn check(user: &str, conn: &ConnArgs) -> u8 {
    let web = match web_client(conn) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let target = match ttlive_source_tiktok::Target::parse(user) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let status = match &target {
        ttlive_source_tiktok::Target::User(u) => {
            let signer = signer(conn).ok();
            web.resolve_room(u, signer.as_ref()).await
        }
        ttlive_source_tiktok::Target::Room(r) => match web.room_info(*r).await {
            Ok(info) => {
                println!(
                    "room {r}: status {} ({}), {:?}, {} viewers",
                    info.status,
                    if info.status == 2 { "live" } else { "not live" },
                    info.title,
                    info.viewer_count
                );
                return if info.status == 2 {
                    EXIT_OK
                } else {
                    EXIT_OFFLINE
                };
            }
            Err(e) => Err(e),
        },
        _ => return EXIT_USAGE,
    };
    match status {
        Ok(s) => {
            println!(
                "{target} is {}: room {}{}{}",
                if s.status.is_connectable() {
                    "LIVE"
                } else {
                    "not live"
                },
                s.room_id,
                s.title.map(|t| format!(", {t:?}")).unwrap_or_default(),
                s.viewers
                    .map(|v| format!(", {v} viewers"))
                    .unwrap_or_default()
            );
            if s.status.is_connectable() {
                EXIT_OK
            } else {
                EXIT_OFFLINE
            }
        }
        Err(TikTokError::Offline { room_id, .. }) => {
            println!(
                "{target} is not live{}",
                room_id
                    .map(|r| format!(" (last room {r})"))
                    .unwrap_or_default()
            );
            EXIT_OFFLINE
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code_for(&e)
        }
    }
}

async fn room_info(user: &str, conn: &ConnArgs) -> u8 {
    let (web, room, _) = match resolve(user, conn).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    match web.room_info(room).await {
        Ok(info) => match serde_json::to_string_pretty(&info) {
            Ok(s) => {
                println!("{s}");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_ERROR
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            exit_code_for(&e)
        }
    }
}

async fn gifts(user: &str, json: bool, conn: &ConnArgs) -> u8 {
    let (web, room, _) = match resolve(user, conn).await {
        Ok(r) => r,
        Err(code) => return code,
    };
    match web.gift_list(room).await {
        Ok(list) => {
            for g in &list {
                if json {
                    match serde_json::to_string(g) {
                        Ok(s) => println!("{s}"),
                        Err(e) => eprintln!("error: {e}"),
                    }
                } else {
                    println!(
                        "{:>8}  {:>6} diamonds  {}  {}",
                        g.id,
                        g.diamond_count,
                        if g.is_streakable() {
                            "streak"
                        } else {
                            "single"
                        },
                        g.name
                    );
                }
            }
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit_code_for(&e)
        }
    }
}

/// `serve-fake`: the fake TikTok server on loopback.
#[derive(Args, Debug, Clone)]
struct ServeFakeArgs {
    /// Port (0 = any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The live user that plays the recording (none when `--rooms` is given, unless named).
    #[arg(long)]
    user: Option<String>,
    /// A recording to play (default: the built-in demo recording).
    #[arg(long)]
    recording: Option<PathBuf>,
    /// Playback speed of the recording (`instant`, `realtime`, or a factor like `4`).
    #[arg(long, default_value = "realtime")]
    pace: String,
    /// Send no history messages in the sign-fetch result (every event then comes over the
    /// push WebSocket).
    #[arg(long)]
    no_history: bool,
    /// Also serve N numbered rooms, `room0000`…, each pushing generated traffic with its own
    /// room id and msg ids.
    #[arg(long, default_value_t = 0)]
    rooms: usize,
    /// Messages per second each numbered room pushes.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// A schedule entry, e.g. `room0003=offline:30s,live:60s,end,offline:20s,live` or
    /// `room0010..room0019=live:2m,offline:30s,loop` or `*=live` (repeatable).
    #[arg(long)]
    schedule: Vec<String>,
    /// A file of schedule entries, one per line (`#` comments).
    #[arg(long)]
    schedule_file: Option<PathBuf>,
    /// Also run a sign server of this name on a port of its own (repeatable); its URL is
    /// printed, and `POST /_fake/signers/NAME/down|up` toggles it.
    #[arg(long)]
    sign_server: Vec<String>,
}

async fn serve_fake(args: ServeFakeArgs) -> u8 {
    use ttlive_source_mock::{ScheduleSet, UserState};
    let Some(pace) = Pace::parse(&args.pace) else {
        eprintln!("error: --pace must be instant, realtime or a factor like 4");
        return EXIT_USAGE;
    };
    if !(args.rate.is_finite() && args.rate > 0.0) {
        eprintln!("error: --rate must be a positive number of messages per second");
        return EXIT_USAGE;
    }
    let mut schedules = ScheduleSet::new();
    for (i, entry) in args.schedule.iter().enumerate() {
        match ScheduleSet::parse(entry) {
            Ok(set) => schedules.extend(set),
            Err(e) => {
                eprintln!("error: --schedule #{}: {e}", i + 1);
                return EXIT_USAGE;
            }
        }
    }
    if let Some(path) = &args.schedule_file {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return EXIT_IO_ERROR;
            }
        };
        match ScheduleSet::parse(&text) {
            Ok(set) => schedules.extend(set),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return EXIT_USAGE;
            }
        }
    }
    let recording = match &args.recording {
        Some(path) => match ttlive_source_mock::Recording::open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                return EXIT_IO_ERROR;
            }
        },
        None => ttlive_source_mock::demo_recording(),
    };
    let user = match (&args.user, args.rooms) {
        (Some(u), _) => Some(u.clone()),
        (None, 0) => Some("fakeuser".to_owned()),
        (None, _) => None,
    };
    let mut builder = FakeServer::builder()
        .recording(recording)
        .pace(pace)
        .history(!args.no_history)
        .rooms(args.rooms)
        .rate(args.rate)
        .schedules(schedules)
        .bind(std::net::SocketAddr::from(([127, 0, 0, 1], args.port)));
    if let Some(u) = &user {
        builder = builder.user(u, UserState::Live);
    }
    for name in &args.sign_server {
        builder = builder.sign_server(name);
    }
    let server = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the fake server: {e}");
            return EXIT_ERROR;
        }
    };
    let base = server.base_url();
    println!("{base}");
    for name in &args.sign_server {
        if let Some(url) = server.sign_url(name) {
            println!("sign-server {name} {url}");
        }
    }
    let who = match (&user, args.rooms) {
        (Some(u), 0) => format!("@{u}"),
        (Some(u), n) => format!("@{u} and {n} rooms (room0000…) at {} msg/s", args.rate),
        (None, n) => format!("{n} rooms (room0000…) at {} msg/s", args.rate),
    };
    let example = user.clone().unwrap_or_else(|| "room0000".to_owned());
    eprintln!(
        "fake TikTok serving {who} at {base} (web, webcast and sign routes, push WebSocket; \
         stats at {base}/_fake/stats); try: tiktok-live watch {example} --web-url {base} \
         --webcast-url {base} --sign-url {base}\n\
         Ctrl-C stops it."
    );
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    EXIT_OK
}

async fn demo(speed: f64, out: OutputArgs) -> u8 {
    let pace = if speed.is_finite() && speed > 0.0 {
        Pace::Speed(speed)
    } else {
        Pace::Instant
    };
    let server = match FakeServer::builder()
        .user("fakeuser", ttlive_source_mock::UserState::Live)
        .recording(ttlive_source_mock::demo_recording())
        .pace(pace)
        .start()
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the fake server: {e}");
            return EXIT_ERROR;
        }
    };
    let base = server.base_url();
    eprintln!(
        "demo: a fake TikTok on {base} plays a recorded session (invented users) at {speed}x; \
         the real client connects to @fakeuser exactly as `watch` does with TikTok\n"
    );
    let conn = ConnArgs {
        web_url: base.clone(),
        webcast_url: base.clone(),
        sign_url: Some(base.clone()),
        sign_api_key: None,
        proxy: None,
        session_id: None,
        tt_target_idc: "useast2a".into(),
        max_attempts: 5,
        mode: std::env::var("TTLIVE_MODE").unwrap_or_else(|_| "auto".into()),
        ws_url: Some(base.clone()),
        no_polling: false,
    };
    let code = watch("@fakeuser", &conn, out, None, true, None).await;
    server.shutdown().await;
    code
}

fn decode(method: Option<&str>, pretty: bool, files: &[PathBuf]) -> u8 {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut status = EXIT_OK;
    let limits = ttlive_proto::FrameLimits::default();
    for path in files {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                let _ = out.flush();
                eprintln!("{}: cannot read: {e}", path.display());
                status = status.max(EXIT_IO_ERROR);
                continue;
            }
        };
        let results: Vec<Result<ttlive_eventbus::Event, String>> = match method {
            Some(m) => {
                let m = if m.starts_with("Webcast") {
                    m.to_owned()
                } else {
                    format!("Webcast{m}")
                };
                vec![ttlive_proto::decode_payload(&m, &bytes).map_err(|e| e.to_string())]
            }
            None => match ttlive_proto::decode_msg_frame(&bytes, &limits) {
                Ok(frame) => match frame.result {
                    Some(result) => ttlive_proto::decode_events(&result)
                        .map(|r| r.map_err(|e| e.to_string()))
                        .collect(),
                    None => vec![Err(format!(
                        "push frame of type {:?} carries no events",
                        frame.frame.payload_type
                    ))],
                },
                Err(e) => vec![Err(format!("not a push frame: {e}"))],
            },
        };
        for r in results {
            match r {
                Ok(ev) => {
                    let written = if pretty {
                        serde_json::to_writer_pretty(&mut out, &ev)
                    } else {
                        serde_json::to_writer(&mut out, &ev)
                    };
                    if written.is_err() || writeln!(out).is_err() {
                        eprintln!("cannot write to stdout");
                        return EXIT_IO_ERROR;
                    }
                }
                Err(e) => {
                    // Flush first so stdout and stderr stay in argument order on a terminal.
                    let _ = out.flush();
                    eprintln!("{}: {e}", path.display());
                    status = status.max(EXIT_DECODE_ERROR);
                }
            }
        }
    }
    if out.flush().is_err() {
        return EXIT_IO_ERROR;
    }
    status
}
