//! Webhooks: every event (or batch of events) POSTed to a receiver, signed per the Standard
//! Webhooks specification, delivered at least once.
//!
//! # Requests
//!
//! `POST <url>` with `content-type: application/json` and the body: one event's JSON (as
//! `watch --json` prints it) when `batch_max` is 1, else a JSON array of up to `batch_max`
//! events. Headers:
//!
//! - `webhook-id`: `msg_` and 32 hex digits of the SHA-256 of the body. It is the same on
//!   every retry (and after a restart), so a receiver de-duplicates on it;
//! - `webhook-timestamp`: the attempt's time, Unix seconds;
//! - `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `<id>.<timestamp>.<body>` keyed
//!   with the secret's bytes (the base64 after `whsec_`). Without a secret the request is not
//!   signed.
//!
//! # Delivery
//!
//! Deliveries go through a disk spool ([`spool`]) in order, one at a time. A 2xx answer
//! delivers; anything else (an error status, a timeout, a refused connection, an answer that
//! is not HTTP) is retried after `retry_base_ms × 2^(attempt−1)` (at most `retry_max_ms`),
//! with jitter (a random 50–100 % of it), or after the receiver's `Retry-After` (seconds or an
//! HTTP date) when it sent one. A delivery still failing `retry_window_secs` after it was
//! queued is written to the dead-letter file (one JSON object per line: `id`, `created_ms`,
//! `attempts`, `last_error`, `body`) and the next one is tried. A receiver that stays down
//! therefore has its events kept on disk (up to `spool_max_bytes`) and sent when it returns.
//! Events beyond a full spool are dropped, counted, and told to the receiver as a `gap` event.

pub(crate) mod spool;

use std::fmt;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use ttlive_eventbus::{Event, EventBus};

use crate::clock;
use crate::config::WebhookConfig;
use crate::error::WebhookError;
use crate::feed::gap_event;
use crate::inlet::{self, Inlet, Item};
use crate::instrument;
use crate::select::{Rooms, Selection};
use spool::{Record, Spool, SpoolError};

/// The `webhook-id` of a body.
pub fn webhook_id(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut id = String::with_capacity(36);
    id.push_str("msg_");
    for b in &digest[..16] {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// A Standard Webhooks signing key, from its `whsec_<base64>` form.
#[derive(Clone)]
pub struct SigningKey(Vec<u8>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(***)")
    }
}

impl SigningKey {
    /// Parses `whsec_<base64>`.
    pub fn parse(secret: &str) -> Result<SigningKey, WebhookError> {
        let b64 = secret
            .trim()
            .strip_prefix("whsec_")
            .ok_or(WebhookError::BadSecret("it must start with whsec_"))?;
        let key = B64
            .decode(b64)
            .map_err(|_| WebhookError::BadSecret("the part after whsec_ is not base64"))?;
        if key.is_empty() {
            return Err(WebhookError::BadSecret("it is empty"));
        }
        Ok(SigningKey(key))
    }

    /// The `webhook-signature` value for this id, timestamp and body: `v1,<base64>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(m) => m,
            Err(_) => return String::new(), // HMAC takes keys of any length
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
    }
}

/// Counters of a webhook output.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebhookStatus {
    /// Requests answered 2xx.
    pub delivered: u64,
    /// Events in those requests.
    pub events_delivered: u64,
    /// Requests sent (every attempt).
    pub attempts: u64,
    /// Deliveries given up and written to the dead-letter file.
    pub dead_letters: u64,
    /// Events dropped because the queue or the spool was full (each run told as a `gap`).
    pub dropped: u64,
    /// Bytes waiting in the spool.
    pub spooled_bytes: u64,
    /// The last failure (cleared by the next delivery).
    pub last_error: Option<String>,
}

struct Shared {
    name: String,
    batch_max: usize,
    /// Events dropped and not yet told to the receiver (the gap record did not fit either).
    untold_gap: Mutex<u64>,
    status: Mutex<WebhookStatus>,
    spool: Mutex<Spool>,
    spooled: Notify,
    delivered: Notify,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut WebhookStatus)) {
        f(&mut crate::lock(&self.status));
    }

    fn spool(&self) -> std::sync::MutexGuard<'_, Spool> {
        crate::lock(&self.spool)
    }

    /// Appends a `gap` delivery for the events dropped so far, if any and if it fits; kept
    /// for later otherwise.
    fn tell_gap(&self, spool: &mut Spool) {
        let mut untold = crate::lock(&self.untold_gap);
        if *untold == 0 {
            return;
        }
        let gap = gap_event(
            *untold,
            "the webhook output dropped events: its spool was full",
        );
        let body = serde_json::to_string(&gap).unwrap_or_default();
        let body = if self.batch_max == 1 {
            body
        } else {
            format!("[{body}]")
        };
        let rec = Record {
            id: webhook_id(&body),
            created_ms: clock::now_ms(),
            events: 1,
            body,
        };
        if spool.append(&rec).is_ok() {
            *untold = 0;
        }
    }
}

/// A running webhook output.
pub struct Webhook {
    shared: Arc<Shared>,
    inlet: Arc<Inlet>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl fmt::Debug for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Webhook")
            .field("name", &self.shared.name)
            .field("status", &self.status())
            .finish()
    }
}

struct Sender {
    shared: Arc<Shared>,
    client: reqwest::Client,
    url: reqwest::Url,
    key: Option<SigningKey>,
    base: Duration,
    max: Duration,
    window_ms: i64,
    dead_letter: PathBuf,
}

fn rustls_ring_config() -> Result<rustls::ClientConfig, WebhookError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(WebhookError::Tls)?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Webhook {
    /// Starts a webhook output on `bus`; handles in `rooms` are learnt from `connected`
    /// events. Errors for a bad URL, secret or filter, or an unusable spool directory.
    pub fn start(bus: &EventBus, cfg: &WebhookConfig) -> Result<Webhook, WebhookError> {
        Self::start_with(bus, cfg, Rooms::new())
    }

    /// Like [`start`](Self::start), resolving handles through `rooms` (which may carry the
    /// application's [`RoomDirectory`](crate::RoomDirectory)).
    pub fn start_with(
        bus: &EventBus,
        cfg: &WebhookConfig,
        rooms: Rooms,
    ) -> Result<Webhook, WebhookError> {
        let url = reqwest::Url::parse(&cfg.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| WebhookError::BadUrl(cfg.url.chars().take(200).collect()))?;
        let key = cfg
            .secret
            .as_ref()
            .map(|s| SigningKey::parse(s.expose()))
            .transpose()?;
        let selection =
            Selection::from_lists(&cfg.rooms, &cfg.types).map_err(WebhookError::Select)?;
        let name = format!(
            "webhook:{}:{}",
            url.host_str().unwrap_or("?"),
            url.port_or_known_default().unwrap_or(0)
        );
        let spool_dir = cfg
            .spool_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("ttlive-spool").join(webhook_id(url.as_str())));
        let dead_letter = cfg
            .dead_letter
            .clone()
            .unwrap_or_else(|| spool_dir.join("dead-letter.jsonl"));
        let spool = Spool::open(&spool_dir, cfg.spool_max_bytes).map_err(|e| match e {
            SpoolError::Io { path, source } => WebhookError::Spool { path, source },
            SpoolError::Full { .. } => WebhookError::Spool {
                path: spool_dir.clone(),
                source: std::io::Error::other("full"),
            },
        })?;
        // The dead-letter file must be writable before anything is accepted.
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&dead_letter)
            .map_err(|source| WebhookError::Spool {
                path: dead_letter.clone(),
                source,
            })?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(rustls_ring_config()?)
            .timeout(Duration::from_millis(cfg.timeout_ms.max(1)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ttlive-outputs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(WebhookError::Client)?;
        let pending = spool.pending_bytes();
        let shared = Arc::new(Shared {
            name: name.clone(),
            batch_max: cfg.batch_max.max(1),
            untold_gap: Mutex::new(0),
            status: Mutex::new(WebhookStatus {
                spooled_bytes: pending,
                ..WebhookStatus::default()
            }),
            spool: Mutex::new(spool),
            spooled: Notify::new(),
            delivered: Notify::new(),
        });
        instrument::spool_bytes(&name, pending);
        let inlet = Inlet::new(name.clone(), cfg.queue);
        inlet::pump(bus, selection.bus_filter(), Arc::clone(&inlet));
        let batcher = tokio::spawn(batch(
            Arc::clone(&inlet),
            Arc::clone(&shared),
            selection,
            rooms,
            cfg.batch_max.max(1),
            Duration::from_millis(cfg.batch_linger_ms),
        ));
        let sender = Sender {
            shared: Arc::clone(&shared),
            client,
            url,
            key,
            base: Duration::from_millis(cfg.retry_base_ms.max(1)),
            max: Duration::from_millis(cfg.retry_max_ms.max(cfg.retry_base_ms).max(1)),
            window_ms: i64::try_from(cfg.retry_window_secs.saturating_mul(1000))
                .unwrap_or(i64::MAX),
            dead_letter,
        };
        let sender = tokio::spawn(sender.run());
        Ok(Webhook {
            shared,
            inlet,
            tasks: vec![batcher, sender],
        })
    }

    /// Counters and the last error.
    pub fn status(&self) -> WebhookStatus {
        let mut s = crate::lock(&self.shared.status).clone();
        s.spooled_bytes = self.shared.spool().pending_bytes();
        s
    }

    /// The output's name in metrics and logs (`webhook:<host>:<port>`).
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// Waits, after the bus closed, until everything queued was delivered or given up, or
    /// `grace` passed; then stops. What is still spooled stays on disk for the next start.
    /// Returns true when nothing was left.
    pub async fn finish(&self, grace: Duration) -> bool {
        let drained = tokio::time::timeout(grace, async {
            loop {
                let notified = self.shared.delivered.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.inlet.is_closed() && self.inlet.len() == 0 && self.shared.spool().is_empty()
                {
                    // The batcher may still hold a last batch: give it a moment.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if self.shared.spool().is_empty() && self.tasks[0].is_finished() {
                        return;
                    }
                    continue;
                }
                let _ = tokio::time::timeout(Duration::from_millis(100), notified).await;
            }
        })
        .await
        .is_ok();
        for t in &self.tasks {
            t.abort();
        }
        drained
    }
}

impl Drop for Webhook {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Filters, batches and spools what the inlet gives.
async fn batch(
    inlet: Arc<Inlet>,
    shared: Arc<Shared>,
    selection: Selection,
    rooms: Rooms,
    batch_max: usize,
    linger: Duration,
) {
    let mut events: Vec<String> = Vec::new();
    let mut gap_missed = 0u64;
    loop {
        let got = if events.is_empty() || batch_max == 1 {
            inlet.recv_batch(batch_max).await
        } else {
            match tokio::time::timeout(linger, inlet.recv_batch(batch_max - events.len())).await {
                Ok(got) => got,
                Err(_) => Some(Vec::new()),
            }
        };
        let closed = got.is_none();
        let timed_out = matches!(&got, Some(v) if v.is_empty());
        for item in got.unwrap_or_default() {
            match item {
                Item::Event(ev) => {
                    rooms.observe(&ev);
                    if selection.matches(&ev, &rooms) {
                        events.push(serde_json::to_string(&*ev).unwrap_or_default());
                    }
                }
                Item::Gap { missed } => gap_missed += missed,
            }
        }
        if gap_missed > 0 {
            // A gap goes out in order: flush what came before it, then the gap itself.
            spool_events(&shared, std::mem::take(&mut events), batch_max).await;
            let gap = gap_event(
                gap_missed,
                "the webhook output dropped events: its queue was full",
            );
            let json = serde_json::to_string(&gap).unwrap_or_default();
            spool_events(&shared, vec![json], batch_max).await;
            gap_missed = 0;
        }
        let full = events.len() >= batch_max;
        if full || timed_out || closed || (batch_max == 1 && !events.is_empty()) {
            spool_events(&shared, std::mem::take(&mut events), batch_max).await;
        }
        if closed {
            return;
        }
    }
}

/// Turns events into deliveries and appends them to the spool.
async fn spool_events(shared: &Arc<Shared>, events: Vec<String>, batch_max: usize) {
    if events.is_empty() {
        return;
    }
    let shared2 = Arc::clone(shared);
    let res = tokio::task::spawn_blocking(move || {
        let mut dropped = 0u64;
        let mut last_err = None;
        let now = clock::now_ms();
        let records: Vec<Record> = if batch_max == 1 {
            events
                .into_iter()
                .map(|body| Record {
                    id: webhook_id(&body),
                    created_ms: now,
                    events: 1,
                    body,
                })
                .collect()
        } else {
            events
                .chunks(batch_max)
                .map(|chunk| {
                    let body = format!("[{}]", chunk.join(","));
                    Record {
                        id: webhook_id(&body),
                        created_ms: now,
                        events: chunk.len() as u64,
                        body,
                    }
                })
                .collect()
        };
        let mut spool = shared2.spool();
        shared2.tell_gap(&mut spool);
        for r in &records {
            if let Err(e) = spool.append(r) {
                dropped += r.events;
                last_err = Some(crate::error_chain(&e));
            }
        }
        let pending = spool.pending_bytes();
        drop(spool);
        (dropped, last_err, pending)
    })
    .await;
    let Ok((dropped, last_err, pending)) = res else {
        return;
    };
    instrument::spool_bytes(&shared.name, pending);
    if dropped > 0 {
        tracing::warn!(output = %shared.name, dropped, error = last_err.as_deref().unwrap_or(""),
            "webhook: events could not be spooled");
        instrument::dropped(&shared.name, dropped);
        shared.update(|s| {
            s.dropped += dropped;
            s.last_error = last_err;
        });
        // The receiver is told with a `gap` delivery as soon as it fits in the spool.
        *crate::lock(&shared.untold_gap) += dropped;
        shared.tell_gap(&mut shared.spool());
    }
    shared.spooled.notify_one();
}

/// How an attempt ended.
enum Outcome {
    Delivered,
    /// Retry, after the receiver's `Retry-After` when it gave one.
    Retry {
        label: &'static str,
        error: String,
        retry_after: Option<Duration>,
    },
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

impl Sender {
    async fn run(self) {
        loop {
            let notified = self.shared.spooled.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let next = {
                let shared = Arc::clone(&self.shared);
                tokio::task::spawn_blocking(move || shared.spool().peek()).await
            };
            match next {
                Ok(Ok(Some((record, pos)))) => self.deliver(record, pos).await,
                Ok(Ok(None)) => notified.await,
                Ok(Err(e)) => {
                    let text = crate::error_chain(&e);
                    tracing::error!(output = %self.shared.name, error = %text, "webhook: spool unreadable");
                    instrument::output_error(&self.shared.name);
                    self.shared.update(|s| s.last_error = Some(text));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(_) => return,
            }
        }
    }

    async fn attempt(&self, record: &Record) -> Outcome {
        let ts = clock::now_ms() / 1000;
        let mut req = self
            .client
            .post(self.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", &record.id)
            .header("webhook-timestamp", ts.to_string())
            .body(record.body.clone());
        if let Some(key) = &self.key {
            req = req.header("webhook-signature", key.sign(&record.id, ts, &record.body));
        }
        match req.send().await {
            Ok(resp) if resp.status().is_success() => {
                // Read (and discard) the body so the connection is reused.
                let _ = resp.bytes().await;
                Outcome::Delivered
            }
            Ok(resp) => {
                let status = resp.status();
                let after = retry_after(resp.headers());
                let label = match status.as_u16() {
                    429 => "throttled",
                    400..=499 => "http_4xx",
                    _ => "http_5xx",
                };
                Outcome::Retry {
                    label,
                    error: format!("the receiver answered {status}"),
                    retry_after: after,
                }
            }
            Err(e) => Outcome::Retry {
                label: if e.is_timeout() { "timeout" } else { "network" },
                // Without the URL: it may carry a token the receiver asked for.
                error: crate::error_chain(&e.without_url()),
                retry_after: None,
            },
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20))
            .min(self.max);
        // Full jitter over the upper half: spreads retries of many receivers.
        exp.mul_f64(0.5 + fastrand::f64() * 0.5)
    }

    async fn deliver(&self, record: Record, pos: (u64, u64)) {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = self.attempt(&record).await;
            self.shared.update(|s| s.attempts += 1);
            match outcome {
                Outcome::Delivered => {
                    instrument::webhook_attempt(&self.shared.name, "ok");
                    instrument::events_out(&self.shared.name, record.events);
                    self.shared.update(|s| {
                        s.delivered += 1;
                        s.events_delivered += record.events;
                        s.last_error = None;
                    });
                    self.ack(pos).await;
                    return;
                }
                Outcome::Retry {
                    label,
                    error,
                    retry_after,
                } => {
                    instrument::webhook_attempt(&self.shared.name, label);
                    let age = clock::now_ms() - record.created_ms;
                    let wait = retry_after.unwrap_or_else(|| self.backoff(attempt));
                    tracing::warn!(output = %self.shared.name, id = %record.id, attempt,
                        error = %error, retry_in_ms = wait.as_millis() as u64, "webhook: delivery failed");
                    self.shared.update(|s| s.last_error = Some(error.clone()));
                    let left = self.window_ms - age;
                    if left <= 0 || i64::try_from(wait.as_millis()).unwrap_or(i64::MAX) > left {
                        self.dead_letter(&record, attempt, &error).await;
                        self.ack(pos).await;
                        return;
                    }
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    async fn ack(&self, pos: (u64, u64)) {
        let shared = Arc::clone(&self.shared);
        let res = tokio::task::spawn_blocking(move || {
            let mut spool = shared.spool();
            let r = spool.ack(pos);
            shared.tell_gap(&mut spool);
            (r, spool.pending_bytes())
        })
        .await;
        if let Ok((r, pending)) = res {
            instrument::spool_bytes(&self.shared.name, pending);
            if let Err(e) = r {
                tracing::error!(output = %self.shared.name, error = %crate::error_chain(&e),
                    "webhook: cannot persist the spool cursor (deliveries may repeat after a restart)");
                instrument::output_error(&self.shared.name);
            }
        }
        self.shared.delivered.notify_waiters();
    }

    async fn dead_letter(&self, record: &Record, attempts: u32, error: &str) {
        let line = serde_json::json!({
            "id": record.id,
            "created_ms": record.created_ms,
            "attempts": attempts,
            "last_error": error,
            "events": record.events,
            "body": serde_json::from_str::<serde_json::Value>(&record.body)
                .unwrap_or_else(|_| serde_json::Value::String(record.body.clone())),
        })
        .to_string();
        let path = self.dead_letter.clone();
        let res = tokio::task::spawn_blocking(move || append_line(&path, &line)).await;
        tracing::error!(output = %self.shared.name, id = %record.id, attempts,
            file = %self.dead_letter.display(), "webhook: retry window over, delivery dead-lettered");
        instrument::dead_letter(&self.shared.name);
        self.shared.update(|s| s.dead_letters += 1);
        if let Ok(Err(e)) = res {
            tracing::error!(output = %self.shared.name, error = %e,
                "webhook: cannot write the dead-letter file: the delivery is lost");
            instrument::output_error(&self.shared.name);
            instrument::dropped(&self.shared.name, record.events);
            self.shared.update(|s| s.dropped += record.events);
        }
    }
}

fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(format!("{line}\n").as_bytes())
}

/// Events in a webhook body (one object, or an array of them), for receivers and tests.
pub fn parse_body(body: &[u8]) -> Result<Vec<Event>, serde_json::Error> {
    match serde_json::from_slice::<serde_json::Value>(body)? {
        serde_json::Value::Array(items) => items.into_iter().map(serde_json::from_value).collect(),
        v => Ok(vec![serde_json::from_value(v)?]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The specification's published example: secret, id, timestamp, body, signature.
        let key = SigningKey::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = key.sign(
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn secrets_must_be_whsec_base64_and_never_print() {
        assert!(matches!(
            SigningKey::parse("abc"),
            Err(WebhookError::BadSecret(_))
        ));
        assert!(matches!(
            SigningKey::parse("whsec_!!"),
            Err(WebhookError::BadSecret(_))
        ));
        let key = SigningKey::parse("whsec_c2VjcmV0").unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey(***)");
        let err = SigningKey::parse("whsec_not base64!")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("not base64!"), "{err}");
    }

    #[test]
    fn ids_are_stable_per_body() {
        assert_eq!(webhook_id("{}"), webhook_id("{}"));
        assert_ne!(webhook_id("{}"), webhook_id("[]"));
        assert_eq!(webhook_id("{}").len(), 36);
    }
}
