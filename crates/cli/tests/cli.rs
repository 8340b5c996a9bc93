//! The `tiktok-live` binary, run as a user would: the demo, replay, decode, serve-fake with
//! watch over loopback, record then replay, and each error path's message and exit code.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use ttlive_source_mock::{FakeServer, Fault, Pace, Trigger, UserState, demo_recording};

const BIN: &str = env!("CARGO_BIN_EXE_tiktok-live");

struct Output {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the binary with a deadline (killed and failed past it).
fn run(args: &[&str], timeout: Duration) -> Output {
    let child = Command::new(BIN)
        .args(args)
        .env_remove("SIGN_API_URL")
        .env_remove("SIGN_API_KEY")
        .env_remove("TIKTOK_PROXY")
        .env_remove("TIKTOK_SESSION_ID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tiktok-live");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(timeout) {
        Ok(out) => {
            let out = out.expect("wait");
            Output {
                code: out.status.code().unwrap_or(-1),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        }
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("tiktok-live {args:?} did not finish within {timeout:?}");
        }
    }
}

async fn run_async(args: Vec<String>, timeout: Duration) -> Output {
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&refs, timeout)
    })
    .await
    .unwrap()
}

fn json_types(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
            v["type"].as_str().unwrap_or("").to_owned()
        })
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ttlive-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn fixtures() -> Option<PathBuf> {
    let dir = match std::env::var_os("TTLIVE_FIXTURES") {
        Some(p) => PathBuf::from(p),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/tiktok-webcast-real"),
    };
    dir.join("manifest.tsv").is_file().then_some(dir)
}

#[test]
fn demo_plays_the_recording_through_the_real_client_and_exits_0() {
    let out = run(
        &["demo", "--speed", "1000", "--json"],
        Duration::from_secs(120),
    );
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    let types = json_types(&out.stdout);
    for t in [
        "connected",
        "chat",
        "gift",
        "member",
        "like",
        "social",
        "roomUser",
        "questionNew",
        "linkMicBattle",
        "linkMicArmies",
        "emote",
        "streamEnd",
    ] {
        assert!(types.iter().any(|x| x == t), "no {t} in the demo output");
    }
    assert_eq!(types.last().map(String::as_str), Some("streamEnd"));
    assert!(
        out.stderr.contains("events in"),
        "no summary: {}",
        out.stderr
    );
}

#[test]
fn demo_text_mode_prints_readable_lines() {
    let out = run(&["demo", "--speed", "1000"], Duration::from_secs(120));
    assert_eq!(out.code, 0, "stderr: {}", out.stderr);
    assert!(
        out.stdout.contains("chat "),
        "{}",
        &out.stdout[..out.stdout.len().min(500)]
    );
    assert!(out.stdout.contains("stream ended"));
    assert!(!out.stdout.contains('\x1b'), "colour codes on a pipe");
}

#[test]
fn replay_plays_a_recording_and_reports_a_damaged_one() {
    let dir = temp_dir("replay");
    let file = dir.join("demo.ttlrec");
    demo_recording().save(&file).unwrap();
    let full = run(
        &["replay", file.to_str().unwrap(), "--instant", "--json"],
        Duration::from_secs(60),
    );
    assert_eq!(full.code, 0, "{}", full.stderr);
    let types = json_types(&full.stdout);
    assert!(types.len() > 300, "{} events", types.len());
    assert_eq!(types.last().map(String::as_str), Some("streamEnd"));

    // Cut the file in the middle of a line: what came before still replays.
    let bytes = std::fs::read(&file).unwrap();
    let cut = dir.join("cut.ttlrec");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let half = run(
        &["replay", cut.to_str().unwrap(), "--instant", "--json"],
        Duration::from_secs(60),
    );
    assert_eq!(half.code, 0, "{}", half.stderr);
    let n = json_types(&half.stdout).len();
    assert!(n > 50 && n < types.len(), "{n} events from half a file");
    assert!(half.stderr.contains("recoverable error"), "{}", half.stderr);

    let missing = run(
        &["replay", "/nonexistent/x.ttlrec"],
        Duration::from_secs(10),
    );
    assert_eq!(missing.code, 4);
    assert!(missing.stderr.contains("/nonexistent/x.ttlrec"));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn decode_prints_json_in_argument_order_and_fails_at_the_end() {
    let Some(fx) = fixtures() else {
        eprintln!("real fixtures not found; skipping");
        return;
    };
    let mut chats: Vec<PathBuf> = std::fs::read_dir(fx.join("messages/WebcastChatMessage"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    chats.sort();
    let dir = temp_dir("decode");
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, [0x0a, 0xff, 0xff, 0xff]).unwrap();
    let a = chats[0].to_str().unwrap();
    let b = chats[1].to_str().unwrap();
    let out = run(
        &[
            "decode",
            "--method",
            "WebcastChatMessage",
            a,
            junk.to_str().unwrap(),
            b,
        ],
        Duration::from_secs(30),
    );
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert_eq!(json_types(&out.stdout), vec!["chat", "chat"]);
    assert!(out.stderr.contains("junk.bin") && out.stderr.contains("base64"));
    let ok = run(&["decode", "-m", "ChatMessage", a], Duration::from_secs(30));
    assert_eq!(ok.code, 0);
    let v: serde_json::Value = serde_json::from_str(ok.stdout.trim()).unwrap();
    assert!(v["comment"].is_string() && v["user"]["id"].is_string());
    let usage = run(&["decode", a], Duration::from_secs(10));
    assert_eq!(usage.code, 2);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn serve_fake_then_watch_over_loopback_then_replay_the_recording() {
    let mut server = Command::new(BIN)
        .args(["serve-fake", "--pace", "instant"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let dir = temp_dir("watch");
    let rec = dir.join("session.ttlrec");
    let out = run(
        &[
            "watch",
            "fakeuser",
            "--json",
            "--only",
            "chat,gift",
            "--web-url",
            &base,
            "--webcast-url",
            &base,
            "--sign-url",
            &base,
            "--record",
            rec.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let types = json_types(&out.stdout);
    assert!(
        types.iter().all(|t| t == "chat" || t == "gift"),
        "{types:?}"
    );
    let chats = types.iter().filter(|t| *t == "chat").count();
    assert!(chats > 50);
    assert!(out.stderr.contains("recorded"), "{}", out.stderr);

    // The recording replays to the same chats.
    let replay = run(
        &[
            "replay",
            rec.to_str().unwrap(),
            "--instant",
            "--json",
            "--only",
            "chat",
        ],
        Duration::from_secs(60),
    );
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    assert_eq!(json_types(&replay.stdout).len(), chats);
    let _ = std::fs::remove_dir_all(dir);
}

async fn fake(faults: &[(Fault, Trigger)]) -> FakeServer {
    let mut b = FakeServer::builder()
        .user("fakeuser", UserState::Live)
        .user("sleepy", UserState::Offline)
        .recording(demo_recording())
        .pace(Pace::Instant);
    for (f, t) in faults {
        b = b.fault(f.clone(), *t);
    }
    b.start().await.unwrap()
}

/// `watch` against the fake server through the sign server (the faults under test are the
/// sign server's).
fn watch_args(base: &str, user: &str, extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = [
        "watch",
        user,
        "--json",
        "--mode",
        "euler",
        "--web-url",
        base,
        "--webcast-url",
        base,
        "--sign-url",
        base,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.extend(extra.iter().map(|s| (*s).to_owned()));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_paths_have_clear_messages_and_documented_exit_codes() {
    let srv = fake(&[]).await;
    let base = srv.base_url();
    let t = Duration::from_secs(60);

    let out = run_async(watch_args(&base, "sleepy", &[]), t).await;
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(out.stderr.contains("not live"), "{}", out.stderr);

    let out = run_async(watch_args(&base, "nobody_here", &[]), t).await;
    assert_eq!(out.code, 6, "{}", out.stderr);
    assert!(out.stderr.contains("not found"), "{}", out.stderr);

    let out = run_async(watch_args(&base, "https://example.com/@x", &[]), t).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("not a TikTok user"), "{}", out.stderr);

    let out = run_async(watch_args(&base, "fakeuser", &["--only", "chat,nope"]), t).await;
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("unknown event kind"), "{}", out.stderr);
    srv.shutdown().await;

    let srv = fake(&[(Fault::SignUnauthorized, Trigger::Always)]).await;
    let out = run_async(watch_args(&srv.base_url(), "fakeuser", &[]), t).await;
    assert_eq!(out.code, 8, "{}", out.stderr);
    assert!(out.stderr.contains("401"), "{}", out.stderr);
    srv.shutdown().await;

    let srv = fake(&[(
        Fault::SignRateLimited {
            retry_after_secs: 1,
        },
        Trigger::Always,
    )])
    .await;
    let out = run_async(
        watch_args(&srv.base_url(), "fakeuser", &["--max-attempts", "2"]),
        t,
    )
    .await;
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(out.stderr.contains("retry in"), "{}", out.stderr);
    srv.shutdown().await;

    let srv = fake(&[(
        Fault::RejectUpgrade("DEVICE_BLOCKED".into()),
        Trigger::Always,
    )])
    .await;
    let out = run_async(
        watch_args(
            &srv.base_url(),
            "fakeuser",
            &["--max-attempts", "2", "--no-polling"],
        ),
        t,
    )
    .await;
    assert_eq!(out.code, 8, "{}", out.stderr);
    assert!(out.stderr.contains("DEVICE_BLOCKED"), "{}", out.stderr);
    // With polling allowed, the same refusal is survived over HTTP polling.
    let out = run_async(
        watch_args(&srv.base_url(), "fakeuser", &["--max-attempts", "2"]),
        t,
    )
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains(r#""transport":"polling""#));
    assert!(out.stdout.contains(r#""type":"streamEnd""#));
    srv.shutdown().await;

    // A sign server that is not there (the web routes answer; nothing listens on the sign URL).
    let srv = fake(&[]).await;
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut args = watch_args(&srv.base_url(), "fakeuser", &["--max-attempts", "2"]);
    let i = args.iter().position(|a| a == "--sign-url").unwrap();
    args[i + 1] = dead;
    let out = run_async(args, t).await;
    assert_eq!(out.code, 9, "{}", out.stderr);
    assert!(out.stderr.contains("sign server"), "{}", out.stderr);
    srv.shutdown().await;
}

#[test]
fn serve_fake_rooms_on_a_schedule_are_followed_by_watch_to_their_stream_end() {
    let mut server = Command::new(BIN)
        .args([
            "serve-fake",
            "--rooms",
            "3",
            "--rate",
            "20",
            "--schedule",
            "room0001=live:4s,end",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line.trim().to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let out = run(
        &[
            "watch",
            "room0001",
            "--json",
            "--mode",
            "euler",
            "--web-url",
            &base,
            "--webcast-url",
            &base,
            "--sign-url",
            &base,
        ],
        Duration::from_secs(60),
    );
    let _ = server.kill();
    let _ = server.wait();
    // The schedule ends the stream after 4 s; watch exits 0 at the stream end.
    assert_eq!(out.code, 0, "{}", out.stderr);
    let types = json_types(&out.stdout);
    assert_eq!(
        types.last().map(String::as_str),
        Some("streamEnd"),
        "{types:?}"
    );
    for kind in ["chat", "like", "gift", "member", "roomUser"] {
        assert!(types.iter().any(|t| t == kind), "no {kind} in {types:?}");
    }
}

#[test]
fn serve_fake_refuses_a_bad_schedule_with_the_usage_code() {
    let out = run(
        &[
            "serve-fake",
            "--rooms",
            "2",
            "--schedule",
            "room0001=live,sleep:3s",
        ],
        Duration::from_secs(10),
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown phase `sleep:3s`"),
        "{}",
        out.stderr
    );
}
