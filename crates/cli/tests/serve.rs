//! `tiktok-live serve` and `watch --wait/--follow` through the real binary against the fake
//! TikTok on loopback: a config file, the API, SIGTERM with everything flushed and exit 0, a
//! config file with an error, a non-loopback address without a token.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ttlive_source_mock::{FakeServer, Pace, UserState, demo_recording};

const BIN: &str = env!("CARGO_BIN_EXE_tiktok-live");

fn command(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args)
        .env_remove("SIGN_API_URL")
        .env_remove("SIGN_API_KEY")
        .env_remove("TIKTOK_PROXY")
        .env_remove("TIKTOK_SESSION_ID")
        .env_remove("TTLIVE_TOKEN")
        .env_remove("TTLIVE_MODE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// A running binary: stderr lines arrive on a channel, stdout is collected at the end.
struct Running {
    child: Child,
    stderr: mpsc::Receiver<String>,
    stdout: std::thread::JoinHandle<String>,
    seen: Vec<String>,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        Self::start_with(args, true)
    }

    /// With `read_stdout` false, nobody reads stdout: once the pipe is full, writes block.
    fn start_with(args: &[&str], read_stdout: bool) -> Running {
        let mut child = command(args).spawn().expect("spawn tiktok-live");
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut s = String::new();
            if read_stdout {
                let _ = out.read_to_string(&mut s);
            } else {
                // Hold the pipe open, unread, until the process is gone.
                let mut sink = Vec::new();
                std::thread::sleep(Duration::from_secs(3600));
                let _ = out.read_to_end(&mut sink);
            }
            s
        });
        Running {
            child,
            stderr: rx,
            stdout,
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle`; returns it.
    fn wait_line(&mut self, needle: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => {
                    self.kill();
                    panic!(
                        "no {needle:?} on stderr within {timeout:?}; saw {:#?}",
                        self.seen
                    )
                }
            }
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
    }

    /// Waits for the exit; returns the code, stdout and the rest of stderr.
    fn finish(mut self, timeout: Duration) -> (i32, String, String) {
        let deadline = std::time::Instant::now() + timeout;
        let code = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status.code().unwrap_or(-1);
            }
            if std::time::Instant::now() > deadline {
                self.kill();
                panic!("did not exit within {timeout:?}; stderr {:#?}", self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.stdout.join().unwrap();
        let mut rest = self.seen.join("\n");
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(200)) {
            rest.push('\n');
            rest.push_str(&line);
        }
        (code, stdout, rest)
    }
}

fn run(args: &[&str]) -> (i32, String) {
    let out = command(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

fn write_config(dir: &Path, base: &str, extra: &str) -> String {
    let path = dir.join("ttlive.toml");
    std::fs::write(
        &path,
        format!(
            "rooms = [\"alpha\", \"beta\"]\nlisten = \"127.0.0.1:0\"\n\n\
             [connection]\nweb_url = \"{base}\"\nwebcast_url = \"{base}\"\nsign_url = \"{base}\"\n\
             mode = \"euler\"\nbackoff_initial = \"50ms\"\nbackoff_max = \"500ms\"\n\n\
             [detect]\ncheck_interval = \"100ms\"\nlookup_interval = \"100ms\"\n\
             lookup_max_interval = \"300ms\"\nrecent_lookup_interval = \"200ms\"\n\
             failure_delay = \"100ms\"\n{extra}"
        ),
    )
    .unwrap();
    path.display().to_string()
}

async fn fake(speed: f64) -> FakeServer {
    FakeServer::builder()
        .user("alpha", UserState::Live)
        .user("beta", UserState::Offline)
        .user("gamma", UserState::Live)
        .recording(demo_recording())
        .pace(Pace::Speed(speed))
        .recorded_end_ends_stream(true)
        .start()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_a_config_file_flushes_everything_on_sigterm_and_exits_0() {
    // Slow enough that no stream ends before all three rooms are live at once.
    let fake = fake(4.0).await;
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), &fake.base_url(), "");
    let mut serve = Running::start(&["serve", "--config", &config, "--json"]);
    let line = serve.wait_line("API on http://", Duration::from_secs(30));
    let api = line
        .split("API on ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();

    // A room added through the API, while beta goes live.
    let r = http()
        .post(format!("{api}/api/rooms"))
        .json(&serde_json::json!({"user": "gamma"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    fake.set_user_state("beta", UserState::Live);
    let http = http();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let rooms: serde_json::Value = http
            .get(format!("{api}/api/rooms"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let live = rooms["rooms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["state"] == "live" && r["events_total"].as_u64().unwrap() > 20)
            .count();
        if live == 3 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{rooms}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    serve.signal("TERM");
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || serve.finish(Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("SIGTERM") || stderr.contains("stopped"),
        "{stderr}"
    );
    // Everything was flushed: the last events published, the rooms' `stopped` states (after
    // the rooms closed), are on stdout, whole lines.
    let events = json_lines(&stdout);
    for user in ["alpha", "beta", "gamma"] {
        let states: Vec<(&str, &str)> = events
            .iter()
            .filter(|e| e["type"] == "roomState" && e["user"] == user)
            .map(|e| (e["to"].as_str().unwrap(), e["reason"].as_str().unwrap()))
            .collect();
        assert_eq!(states.first(), Some(&("waiting", "added")), "{user}");
        assert!(
            states.contains(&("live", "connected")),
            "{user}: {states:?}"
        );
        assert_eq!(states.last(), Some(&("stopped", "shutting down")), "{user}");
    }
    assert!(events.iter().filter(|e| e["type"] == "chat").count() > 10);
    // The API's change persisted next to the config.
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("ttlive.state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["added"], serde_json::json!(["gamma"]));
}

#[test]
fn a_config_file_with_errors_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "http://127.0.0.1:9", "batch_size = 0\n");
    let (code, stderr) = run(&["serve", "--config", &config]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("ttlive.toml:18: key detect.batch_size"),
        "{stderr}"
    );
    let config = write_config(dir.path(), "http://127.0.0.1:9", "batch = 5\n");
    let (code, stderr) = run(&["serve", "--config", &config]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("ttlive.toml:18: key detect.batch: not a known key"),
        "{stderr}"
    );
    let (code, stderr) = run(&["serve", "--config", "/nonexistent/ttlive.toml"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("/nonexistent/ttlive.toml"), "{stderr}");
    let (code, stderr) = run(&["serve", "--set", "detect.batch_size=many"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("flag --set: key detect.batch_size"),
        "{stderr}"
    );
}

#[test]
fn a_non_loopback_bind_without_a_token_is_refused() {
    let (code, stderr) = run(&["serve", "--listen", "0.0.0.0:0"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("token"), "{stderr}");
    let out = command(&["serve", "--listen", "0.0.0.0:0"])
        .env("TTLIVE_TOKEN", "")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn watch_args<'a>(base: &'a str, user: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "watch",
        user,
        "--json",
        "--web-url",
        base,
        "--webcast-url",
        base,
        "--sign-url",
        base,
        "--mode",
        "euler",
        "--wait-interval",
        "200ms",
    ];
    v.extend_from_slice(extra);
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_wait_waits_for_the_stream_and_follow_picks_up_the_next() {
    let fake = fake(60.0).await;
    let base = fake.base_url();
    // Offline: without --wait, exit 5 at once.
    let (code, _) = run(&watch_args(&base, "beta", &[]));
    assert_eq!(code, 5);
    // With --wait, it waits, then watches the stream to its end and exits 0.
    let mut watch = Running::start(&watch_args(&base, "beta", &["--wait"]));
    watch.wait_line("waiting for @beta", Duration::from_secs(30));
    tokio::time::sleep(Duration::from_millis(500)).await;
    fake.set_user_state("beta", UserState::Live);
    let (code, stdout, stderr) =
        tokio::task::spawn_blocking(move || watch.finish(Duration::from_secs(60)))
            .await
            .unwrap();
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("@beta is live (room"), "{stderr}");
    let events = json_lines(&stdout);
    assert_eq!(events.last().unwrap()["type"], "streamEnd");
    assert!(events.iter().any(|e| e["type"] == "chat"));

    // With --follow, after the stream ends it waits again and picks up the next one.
    let mut follow = Running::start(&watch_args(&base, "alpha", &["--follow"]));
    follow.wait_line("@alpha is live", Duration::from_secs(30));
    follow.wait_line("waiting for @alpha", Duration::from_secs(60));
    // The stream ended on the fake too; the streamer starts the next one.
    fake.set_user_state("alpha", UserState::Live);
    follow.wait_line("@alpha is live", Duration::from_secs(30));
    // Give `watch` the moment between finding the stream and reading it (its Ctrl-C listener is
    // made when reading starts).
    tokio::time::sleep(Duration::from_millis(500)).await;
    follow.signal("INT");
    let (code, stdout, _) =
        tokio::task::spawn_blocking(move || follow.finish(Duration::from_secs(30)))
            .await
            .unwrap();
    assert_eq!(code, 0);
    let ends = json_lines(&stdout)
        .iter()
        .filter(|e| e["type"] == "streamEnd")
        .count();
    assert!(ends >= 1, "{ends}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_that_cannot_flush_ends_within_its_grace_and_a_second_signal_ends_it_at_once() {
    let fake = fake(20.0).await;
    let dir = tempfile::tempdir().unwrap();
    // Nobody reads stdout, so the lossless `--json` output cannot flush.
    let config = write_config(
        dir.path(),
        &fake.base_url(),
        "\n[shutdown]\ngrace = \"1500ms\"\n",
    );
    let args = ["serve", "--config", &config, "--json"];

    // One signal: the shutdown gives up after its grace, says what did not finish, exits 1.
    let mut serve = Running::start_with(&args, false);
    serve.wait_line("API on http://", Duration::from_secs(30));
    tokio::time::sleep(Duration::from_secs(3)).await; // the pipe fills
    serve.signal("TERM");
    let started = std::time::Instant::now();
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let line = serve.wait_line("not everything finished", Duration::from_secs(20));
        let exited = serve.child.wait().unwrap().code();
        (exited, line)
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("output json-lines"), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));

    // Two signals: the second ends the process at once.
    let mut serve = Running::start_with(&args, false);
    serve.wait_line("API on http://", Duration::from_secs(30));
    tokio::time::sleep(Duration::from_secs(3)).await;
    serve.signal("TERM");
    serve.wait_line("stopping", Duration::from_secs(10));
    let started = std::time::Instant::now();
    serve.signal("TERM");
    let code = tokio::task::spawn_blocking(move || serve.child.wait().unwrap().code())
        .await
        .unwrap();
    assert_eq!(code, Some(130));
    assert!(
        started.elapsed() < Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
}
