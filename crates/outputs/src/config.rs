//! Configuration of every output, as the service's TOML file spells it.
//!
//! The service owns the file; these are its `[output.*]` tables:
//!
//! ```toml
//! [output.feed]                  # GET /ws, /events, /overlay/* (optional: defaults shown)
//! ring = 4096
//! client_buffer = 1024
//! max_clients = 1000
//! ping_interval_ms = 20000
//! heartbeat_ms = 15000
//!
//! [output.sqlite]
//! path = "ttlive.sqlite"
//!
//! [output.postgres]              # cargo feature `postgres`
//! url = "postgres://ttlive@127.0.0.1:5432/ttlive"
//!
//! [output.jsonl]
//! dir = "events"
//! max_bytes = 104857600
//! gzip = true
//!
//! [[output.webhook]]             # repeatable
//! url = "https://example.org/hooks/tiktok"
//! secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
//! types = ["chat", "gift"]
//! rooms = ["@someone"]
//! batch_max = 50
//! ```
//!
//! Every struct refuses unknown keys (`deny_unknown_fields`) and has a `Default` with every
//! optional key at its documented default. Durations are integers with their unit in the key.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// The `[output]` table: every output the service should attach.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OutputsConfig {
    /// `[output.feed]`: the WebSocket/SSE feed and overlays.
    #[serde(default)]
    pub feed: FeedConfig,
    /// `[output.sqlite]`.
    #[serde(default)]
    pub sqlite: Option<SqliteConfig>,
    /// `[output.postgres]`.
    #[serde(default)]
    pub postgres: Option<PostgresConfig>,
    /// `[output.jsonl]`.
    #[serde(default)]
    pub jsonl: Option<JsonlConfig>,
    /// `[[output.webhook]]`, one per receiver.
    #[serde(default)]
    pub webhook: Vec<WebhookConfig>,
}

/// `[output.feed]`: the fan-out hub behind `GET /ws`, `GET /events` and the overlays.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct FeedConfig {
    /// Events kept for `Last-Event-ID` resumes (default 4096).
    pub ring: usize,
    /// Events a client may fall behind before it is closed (WebSocket: code 4008) or its
    /// stream ended (SSE: it reconnects and resumes from the ring). Default 1024.
    pub client_buffer: usize,
    /// Clients at once, WebSocket and SSE together (default 1000; more get code 4429 / 429).
    pub max_clients: usize,
    /// WebSocket ping interval; a client silent for two intervals is closed (default 20 s).
    pub ping_interval_ms: u64,
    /// SSE comment heartbeat interval (default 15 s).
    pub heartbeat_ms: u64,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            ring: 4096,
            client_buffer: 1024,
            max_clients: 1000,
            ping_interval_ms: 20_000,
            heartbeat_ms: 15_000,
        }
    }
}

impl FeedConfig {
    pub(crate) fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms.max(10))
    }

    pub(crate) fn heartbeat(&self) -> Duration {
        Duration::from_millis(self.heartbeat_ms.max(10))
    }
}

/// `[output.sqlite]` (`--sqlite FILE`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SqliteConfig {
    /// The database file (created with its schema when missing).
    pub path: PathBuf,
    /// Events per transaction at most (default 1000).
    #[serde(default = "SqliteConfig::default_batch_max")]
    pub batch_max: usize,
    /// How long a batch waits to fill after its first event (default 50 ms).
    #[serde(default = "SqliteConfig::default_linger_ms")]
    pub linger_ms: u64,
    /// Events queued in memory while the database is slow or failing (default 100 000);
    /// beyond that they are dropped, counted, and written as a `gap` row.
    #[serde(default = "SqliteConfig::default_queue")]
    pub queue: usize,
    /// How long a write waits for a lock held by another process (default 5000 ms).
    #[serde(default = "SqliteConfig::default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
}

impl SqliteConfig {
    /// Defaults for the database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SqliteConfig {
            path: path.into(),
            batch_max: Self::default_batch_max(),
            linger_ms: Self::default_linger_ms(),
            queue: Self::default_queue(),
            busy_timeout_ms: Self::default_busy_timeout_ms(),
        }
    }
    fn default_batch_max() -> usize {
        1000
    }
    fn default_linger_ms() -> u64 {
        50
    }
    fn default_queue() -> usize {
        100_000
    }
    fn default_busy_timeout_ms() -> u64 {
        5000
    }
}

/// `[output.postgres]` (`--postgres URL`, cargo feature `postgres`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// `postgres://user[:password]@host:port/db` or a libpq key=value string. No TLS.
    pub url: String,
    /// Events per transaction at most (default 1000).
    #[serde(default = "SqliteConfig::default_batch_max")]
    pub batch_max: usize,
    /// Events queued in memory while the server is slow or away (default 100 000).
    #[serde(default = "SqliteConfig::default_queue")]
    pub queue: usize,
}

impl PostgresConfig {
    /// Defaults for the server at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        PostgresConfig {
            url: url.into(),
            batch_max: SqliteConfig::default_batch_max(),
            queue: SqliteConfig::default_queue(),
        }
    }
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &redact_url(&self.url))
            .field("batch_max", &self.batch_max)
            .field("queue", &self.queue)
            .finish()
    }
}

/// A connection URL with any password replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@') {
            if let Some((user, _)) = auth.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
        return url.to_owned();
    }
    // key=value form
    url.split_whitespace()
        .map(|kv| {
            if kv.starts_with("password=") {
                "password=***"
            } else {
                kv
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `[output.jsonl]` (`--jsonl DIR`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct JsonlConfig {
    /// The directory (created when missing). Files are `DIR/<room>/<YYYY-MM-DD>.jsonl`.
    pub dir: PathBuf,
    /// Rotate a file once it reaches this size (default 100 MiB).
    #[serde(default = "JsonlConfig::default_max_bytes")]
    pub max_bytes: u64,
    /// Gzip a file when it is rotated out (default false).
    #[serde(default)]
    pub gzip: bool,
    /// Events queued in memory while the disk is slow or failing (default 100 000).
    #[serde(default = "SqliteConfig::default_queue")]
    pub queue: usize,
}

impl JsonlConfig {
    /// Defaults for the directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        JsonlConfig {
            dir: dir.into(),
            max_bytes: Self::default_max_bytes(),
            gzip: false,
            queue: SqliteConfig::default_queue(),
        }
    }
    fn default_max_bytes() -> u64 {
        100 << 20
    }
}

/// A webhook secret: never printed (`Debug` shows `***`).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret (`whsec_<base64>`).
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One `[[output.webhook]]` (`--webhook URL`, `--webhook-secret` / `TTLIVE_WEBHOOK_SECRET`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct WebhookConfig {
    /// Where to POST.
    pub url: String,
    /// Standard Webhooks secret, `whsec_<base64>`; without one, requests are not signed.
    #[serde(default)]
    pub secret: Option<Secret>,
    /// Event types to send (default all).
    #[serde(default)]
    pub types: Vec<String>,
    /// Rooms to send, by `@handle` or room id (default all).
    #[serde(default)]
    pub rooms: Vec<String>,
    /// Events per request: 1 (default) posts each event as its JSON object; more posts a JSON
    /// array of up to this many events.
    #[serde(default = "WebhookConfig::default_batch_max")]
    pub batch_max: usize,
    /// How long a batch waits to fill after its first event (default 200 ms).
    #[serde(default = "WebhookConfig::default_linger_ms")]
    pub batch_linger_ms: u64,
    /// Timeout of one request (default 10 s).
    #[serde(default = "WebhookConfig::default_timeout_ms")]
    pub timeout_ms: u64,
    /// First retry delay; each retry doubles it, with jitter (default 1 s).
    #[serde(default = "WebhookConfig::default_retry_base_ms")]
    pub retry_base_ms: u64,
    /// Longest retry delay (default 5 min). A `Retry-After` is honoured up to the window.
    #[serde(default = "WebhookConfig::default_retry_max_ms")]
    pub retry_max_ms: u64,
    /// How long a delivery is retried, from when it was queued, before it goes to the
    /// dead-letter file (default 24 h).
    #[serde(default = "WebhookConfig::default_retry_window_secs")]
    pub retry_window_secs: u64,
    /// The disk spool (default `ttlive-spool/webhook-<hash of the URL>` in the working
    /// directory).
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// Spool size at most (default 256 MiB); beyond it deliveries are dropped and counted,
    /// and a `gap` event tells the receiver.
    #[serde(default = "WebhookConfig::default_spool_max_bytes")]
    pub spool_max_bytes: u64,
    /// The dead-letter JSON-lines file (default `dead-letter.jsonl` in the spool directory).
    #[serde(default)]
    pub dead_letter: Option<PathBuf>,
    /// Events queued in memory before the spool (default 10 000).
    #[serde(default = "WebhookConfig::default_queue")]
    pub queue: usize,
}

impl WebhookConfig {
    /// Defaults for a receiver at `url`.
    pub fn new(url: impl Into<String>) -> Self {
        WebhookConfig {
            url: url.into(),
            secret: None,
            types: Vec::new(),
            rooms: Vec::new(),
            batch_max: Self::default_batch_max(),
            batch_linger_ms: Self::default_linger_ms(),
            timeout_ms: Self::default_timeout_ms(),
            retry_base_ms: Self::default_retry_base_ms(),
            retry_max_ms: Self::default_retry_max_ms(),
            retry_window_secs: Self::default_retry_window_secs(),
            spool_dir: None,
            spool_max_bytes: Self::default_spool_max_bytes(),
            dead_letter: None,
            queue: Self::default_queue(),
        }
    }

    /// Sets the secret.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(Secret::new(secret));
        self
    }

    /// Takes the secret from `TTLIVE_WEBHOOK_SECRET` when none is set.
    pub fn secret_from_env(mut self) -> Self {
        if self.secret.is_none() {
            if let Ok(s) = std::env::var("TTLIVE_WEBHOOK_SECRET") {
                if !s.is_empty() {
                    self.secret = Some(Secret(s));
                }
            }
        }
        self
    }

    fn default_batch_max() -> usize {
        1
    }
    fn default_linger_ms() -> u64 {
        200
    }
    fn default_timeout_ms() -> u64 {
        10_000
    }
    fn default_retry_base_ms() -> u64 {
        1000
    }
    fn default_retry_max_ms() -> u64 {
        300_000
    }
    fn default_retry_window_secs() -> u64 {
        86_400
    }
    fn default_spool_max_bytes() -> u64 {
        256 << 20
    }
    fn default_queue() -> usize {
        10_000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct File {
        output: OutputsConfig,
    }

    #[test]
    fn the_documented_tables_parse() {
        let text = r#"
            [output.sqlite]
            path = "a.sqlite"
            [output.jsonl]
            dir = "events"
            gzip = true
            [output.postgres]
            url = "postgres://u:hunter2@127.0.0.1:5/db"
            [[output.webhook]]
            url = "http://127.0.0.1:9/h"
            secret = "whsec_c2VjcmV0"
            types = ["chat"]
            [[output.webhook]]
            url = "http://127.0.0.1:9/g"
        "#;
        let f: File = toml::from_str(text).unwrap();
        let o = f.output;
        assert_eq!(o.sqlite.unwrap().batch_max, 1000);
        assert!(o.jsonl.unwrap().gzip);
        assert_eq!(o.webhook.len(), 2);
        assert_eq!(o.webhook[0].types, ["chat"]);
        let pg = format!("{:?}", o.postgres.unwrap());
        assert!(!pg.contains("hunter2") && pg.contains("***"), "{pg}");
        let wh = format!("{:?}", o.webhook[0]);
        assert!(!wh.contains("c2VjcmV0"), "{wh}");
        assert_eq!(o.feed, FeedConfig::default());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<SqliteConfig>(r#"{"path":"a","bogus":1}"#).unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }
}
