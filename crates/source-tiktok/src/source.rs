//! [`TikTokSource`]: a live room as an [`EventSource`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tracing::{debug, info, warn};
use ttlive_eventbus::{
    ConnectedEvent, DisconnectedEvent, Event, EventMeta, EventSource, GapEvent, ReconnectingEvent,
    SourceEnd, SourceError, SourceInfo, SourceItem,
};
use ttlive_proto::FrameLimits;
use ttlive_proto::webcast::ProtoMessageFetchResult;
use ttlive_signer::{
    ConnectionMode, Rejection, SessionCredentials, SignRequest, SignedConnection, Signer,
};

use crate::error::{Retry, TikTokError};
use crate::input::{InvalidTarget, Target};
use crate::net;
use crate::util::{Backoff, Dedup, RecordingTap, Streaks};
use crate::web::WebClient;

/// TikTok's web host.
pub const DEFAULT_WEB_URL: &str = "https://www.tiktok.com";
/// TikTok's webcast host.
pub const DEFAULT_WEBCAST_URL: &str = "https://webcast.tiktok.com";

/// Heartbeat interval when neither the user nor the server sets one (protocol.md §9.2).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(10);

/// Acks waiting for the socket writer, at most.
const ACK_QUEUE: usize = 256;

/// A shared recording tap.
type Tap = Arc<Mutex<Box<dyn RecordingTap>>>;

/// How to configure a [`TikTokSource`]; start with [`TikTokSource::builder`].
pub struct TikTokSourceBuilder {
    target: Result<Target, InvalidTarget>,
    signer: Option<Arc<dyn Signer>>,
    web_url: String,
    webcast_url: String,
    user_agent: String,
    proxy: Option<String>,
    session: Option<SessionCredentials>,
    emit_history: bool,
    check_live: bool,
    enrich_gifts: bool,
    heartbeat: Option<Duration>,
    stall_timeout: Duration,
    backoff: Backoff,
    max_attempts: Option<u32>,
    limits: FrameLimits,
    dedup_capacity: usize,
    queue: usize,
    http_timeout: Duration,
    connect_timeout: Duration,
    polling: bool,
    poll_interval: Duration,
    upgrade_retry: Duration,
    tap: Option<Tap>,
}

impl std::fmt::Debug for TikTokSourceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TikTokSourceBuilder")
            .field("target", &self.target)
            .field("web_url", &self.web_url)
            .field("webcast_url", &self.webcast_url)
            .field("proxy", &self.proxy.as_deref().map(net::redact_url))
            .field("session", &self.session.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl TikTokSourceBuilder {
    /// The sign server (required): an [`EulerSigner`](ttlive_signer::EulerSigner), a self-hosted
    /// one, or a test double.
    pub fn signer(mut self, signer: Arc<dyn Signer>) -> Self {
        self.signer = Some(signer);
        self
    }

    /// TikTok's web host (default `https://www.tiktok.com`).
    pub fn web_url(mut self, url: impl Into<String>) -> Self {
        self.web_url = url.into();
        self
    }

    /// TikTok's webcast host (default `https://webcast.tiktok.com`).
    pub fn webcast_url(mut self, url: impl Into<String>) -> Self {
        self.webcast_url = url.into();
        self
    }

    /// The user agent for web requests, the signer and the WebSocket.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// A proxy for every request and the WebSocket: `http://host:port` or
    /// `socks5://[user:pass@]host:port`.
    pub fn proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxy = Some(proxy.into());
        self
    }

    /// A logged-in TikTok session (age-restricted streams); the signer forwards it only to an
    /// allowed host.
    pub fn session(mut self, session: SessionCredentials) -> Self {
        self.session = Some(session);
        self
    }

    /// Emit the recent-history batch the first connection delivers (default true). Reconnects
    /// always emit what they fetched since the last cursor, de-duplicated.
    pub fn emit_history(mut self, on: bool) -> Self {
        self.emit_history = on;
        self
    }

    /// Check that the user is live before connecting (default true; needs a user target).
    pub fn check_live(mut self, on: bool) -> Self {
        self.check_live = on;
        self
    }

    /// Fetch the room's gift catalogue first and complete gift events from it (default false).
    pub fn enrich_gifts(mut self, on: bool) -> Self {
        self.enrich_gifts = on;
        self
    }

    /// Heartbeat interval. Without this setting the server's `Handshake-Options: ping-interval`
    /// is used when it sends one, else 10 s (protocol.md §9.2).
    pub fn heartbeat(mut self, every: Duration) -> Self {
        self.heartbeat = Some(every.max(Duration::from_millis(50)));
        self
    }

    /// No frame for this long means a zombie connection, which is replaced (default 30 s).
    pub fn stall_timeout(mut self, d: Duration) -> Self {
        self.stall_timeout = d.max(Duration::from_millis(100));
        self
    }

    /// Reconnect backoff (default 1 s doubling to 60 s, with jitter).
    pub fn backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.backoff = Backoff {
            initial,
            max: max.max(initial),
        };
        self
    }

    /// Give up after this many failed attempts in a row (default 10; `None` = never).
    pub fn max_attempts(mut self, n: Option<u32>) -> Self {
        self.max_attempts = n;
        self
    }

    /// Frame and decompression size caps.
    pub fn frame_limits(mut self, limits: FrameLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How many message ids are remembered for de-duplication (default 16 384).
    pub fn dedup_capacity(mut self, n: usize) -> Self {
        self.dedup_capacity = n;
        self
    }

    /// Timeouts: HTTP requests (default 10 s) and the WebSocket connect (default 20 s).
    pub fn timeouts(mut self, http: Duration, ws_connect: Duration) -> Self {
        self.http_timeout = http;
        self.connect_timeout = ws_connect;
        self
    }

    /// HTTP polling when no WebSocket can be had (default on): poll `im/fetch` every
    /// `interval` (the server's `fetch_interval` wins) and retry the upgrade every `upgrade_retry`.
    pub fn polling(mut self, on: bool, interval: Duration, upgrade_retry: Duration) -> Self {
        self.polling = on;
        self.poll_interval = interval.max(Duration::from_millis(100));
        self.upgrade_retry = upgrade_retry;
        self
    }

    /// Record every received unit (and the frames sent) through this tap.
    pub fn tap(mut self, tap: Box<dyn RecordingTap>) -> Self {
        self.tap = Some(Arc::new(Mutex::new(tap)));
        self
    }

    /// Starts the source: the connection runs in its own tokio task from now on.
    ///
    /// Fails at once (before any request) when the target is invalid or no signer was given.
    pub fn start(self) -> Result<TikTokSource, TikTokError> {
        let target = self.target.clone()?;
        let signer = self
            .signer
            .clone()
            .ok_or_else(|| TikTokError::Config("no signer configured".into()))?;
        let web = WebClient::new(
            &self.web_url,
            &self.webcast_url,
            &self.user_agent,
            self.proxy.as_deref(),
            self.http_timeout,
        )?;
        let (tx, rx) = mpsc::channel(self.queue.max(1));
        let info = SourceInfo::new(format!("tiktok:{target}"));
        let info = match target {
            Target::Room(r) => info.with_room(r),
            _ => info,
        };
        let task = Task {
            target,
            signer,
            web,
            tx,
            started: Instant::now(),
            dedup: Dedup::new(self.dedup_capacity),
            streaks: Streaks::default(),
            room_id: 0,
            cursor: None,
            internal_ext: None,
            sessions: 0,
            connected_once: false,
            cfg: self,
        };
        let handle = tokio::spawn(task.run());
        Ok(TikTokSource {
            rx,
            handle,
            end: None,
            info,
        })
    }
}

/// A live TikTok room as an [`EventSource`].
///
/// The connection (resolve → sign → WebSocket → heartbeats and acks → decode) runs in its own
/// task, so heartbeats and acks go out whatever the pace of [`next`](EventSource::next);
/// `next()` only takes decoded events from a bounded queue (when it is full the task stops
/// reading the socket, not writing to it). Dropping the source stops the task.
///
/// Lifecycle: `connected` after each successful connect; on a failure `disconnected` (when it
/// had been connected), a recoverable error item, `reconnecting` with the delay, then a fresh sign
/// and connect resuming from the last cursor; a `gap` when continuity could not be kept. The
/// source ends with [`SourceEnd::StreamEnded`] after the stream-end event, or
/// [`SourceEnd::Fatal`] when a fatal error happened or attempts ran out.
pub struct TikTokSource {
    // Boxed: the queue's first block holds 32 slots, and a SourceItem is ~650 bytes.
    rx: mpsc::Receiver<Box<SourceItem>>,
    handle: JoinHandle<()>,
    end: Option<SourceEnd>,
    info: SourceInfo,
}

impl std::fmt::Debug for TikTokSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TikTokSource")
            .field("info", &self.info)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

impl TikTokSource {
    /// A builder for `target`: a handle, `@handle`, a TikTok URL or a room id. An invalid target
    /// is reported by [`start`](TikTokSourceBuilder::start), before any request.
    pub fn builder(target: &str) -> TikTokSourceBuilder {
        TikTokSourceBuilder {
            target: Target::parse(target),
            signer: None,
            web_url: DEFAULT_WEB_URL.into(),
            webcast_url: DEFAULT_WEBCAST_URL.into(),
            user_agent: ttlive_signer::DEFAULT_USER_AGENT.into(),
            proxy: None,
            session: None,
            emit_history: true,
            check_live: true,
            enrich_gifts: false,
            heartbeat: None,
            stall_timeout: Duration::from_secs(30),
            backoff: Backoff::default(),
            max_attempts: Some(10),
            limits: FrameLimits::default(),
            dedup_capacity: 16_384,
            queue: 1024,
            http_timeout: net::DEFAULT_HTTP_TIMEOUT,
            connect_timeout: Duration::from_secs(20),
            polling: true,
            poll_interval: Duration::from_secs(1),
            upgrade_retry: Duration::from_secs(60),
            tap: None,
        }
    }
}

impl Drop for TikTokSource {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

#[async_trait]
impl EventSource for TikTokSource {
    async fn next(&mut self) -> SourceItem {
        if let Some(end) = &self.end {
            return SourceItem::End(end.clone());
        }
        let item = self.rx.recv().await.map(|b| *b).unwrap_or_else(|| {
            SourceItem::End(SourceEnd::Fatal(SourceError::other(
                "the connection task stopped without an end",
            )))
        });
        if let SourceItem::End(end) = &item {
            self.end = Some(end.clone());
        }
        item
    }

    fn describe(&self) -> SourceInfo {
        self.info.clone()
    }
}

/// How one connection ended without an error.
enum Outcome {
    StreamEnded,
    ConsumerGone,
    /// Polling ran long enough: try the WebSocket again.
    RetryUpgrade,
}

/// A session's failure, and whether it had been connected (for `disconnected`).
struct Failure {
    error: TikTokError,
    was_connected: bool,
    /// Frames received in that session (a healthy session resets the attempt count).
    frames: u64,
    /// The WebSocket could not be opened at all (polling may take over).
    upgrade_failed: bool,
    /// The failure happened while polling `im/fetch`.
    polling: bool,
}

impl From<TikTokError> for Failure {
    fn from(error: TikTokError) -> Self {
        Failure {
            error,
            was_connected: false,
            frames: 0,
            upgrade_failed: false,
            polling: false,
        }
    }
}

struct Task {
    target: Target,
    signer: Arc<dyn Signer>,
    web: WebClient,
    tx: mpsc::Sender<Box<SourceItem>>,
    started: Instant,
    dedup: Dedup,
    streaks: Streaks,
    room_id: u64,
    cursor: Option<String>,
    internal_ext: Option<String>,
    sessions: u32,
    /// A connection was established at least once (a later one may have to report a gap).
    connected_once: bool,
    cfg: TikTokSourceBuilder,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl Task {
    fn meta(&self) -> EventMeta {
        EventMeta {
            room_id: self.room_id,
            create_time: now_ms(),
            ..EventMeta::default()
        }
    }

    async fn emit(&self, item: impl Into<SourceItem>) -> Result<(), Outcome> {
        self.tx
            .send(Box::new(item.into()))
            .await
            .map_err(|_| Outcome::ConsumerGone)
    }

    async fn run(mut self) {
        let mut attempt: u32 = 0;
        let mut use_polling = false;
        // Set once `im/fetch` answered that it will not serve us (4xx, bad body): from then on
        // only the WebSocket is tried.
        let mut polling_unavailable = false;
        loop {
            let result = if use_polling {
                self.poll_session().await
            } else {
                self.session().await
            };
            let failure = match result {
                Ok(Outcome::StreamEnded) => {
                    let _ = self.emit(SourceEnd::StreamEnded).await;
                    return;
                }
                Ok(Outcome::ConsumerGone) => return,
                Ok(Outcome::RetryUpgrade) => {
                    use_polling = false;
                    continue;
                }
                Err(f) => f,
            };
            if failure.frames > 0 {
                attempt = 0;
            }
            let reason = failure.error.to_string();
            // A failed poll is never the end: polling is the fallback, the WebSocket is retried.
            // A poll that shows polling is not served at all does not count as an attempt, so
            // the last error reported is the WebSocket's.
            let retry = if failure.polling && !matches!(failure.error, TikTokError::Sign(_)) {
                if matches!(
                    failure.error,
                    TikTokError::HttpStatus {
                        status: 400..=499,
                        ..
                    } | TikTokError::BadResponse { .. }
                ) {
                    warn!(error = %failure.error, "HTTP polling is not available; WebSocket only");
                    polling_unavailable = true;
                } else {
                    attempt += 1;
                }
                Retry::After(None)
            } else {
                attempt += 1;
                failure.error.retry()
            };
            let attempt = attempt.max(1);
            let give_up = self.cfg.max_attempts.is_some_and(|max| attempt >= max);
            let will_reconnect = retry != Retry::Fatal && !give_up;
            if failure.was_connected {
                let ev = Event::Disconnected(DisconnectedEvent {
                    meta: self.meta(),
                    reason: reason.clone(),
                    code: match &failure.error {
                        TikTokError::Closed { code, .. } => *code,
                        _ => None,
                    },
                    will_reconnect,
                });
                if self.emit(ev).await.is_err() {
                    return;
                }
            }
            if !will_reconnect {
                let error = if give_up && retry != Retry::Fatal {
                    TikTokError::GaveUp {
                        attempts: attempt,
                        last: Box::new(failure.error),
                    }
                } else {
                    failure.error
                };
                warn!(%error, "TikTok source ends");
                let _ = self.emit(SourceEnd::Fatal(error.into())).await;
                return;
            }
            if self.emit(failure.error.to_source_error()).await.is_err() {
                return;
            }
            use_polling = self.cfg.polling
                && !polling_unavailable
                && failure.upgrade_failed
                && self.room_id != 0;
            let at_least = match retry {
                Retry::After(d) => d,
                Retry::Fatal => None,
            };
            let delay = self.cfg.backoff.delay(attempt, at_least, net::random_u64());
            info!(attempt, ?delay, %reason, polling = use_polling, "reconnecting");
            let ev = Event::Reconnecting(ReconnectingEvent {
                meta: self.meta(),
                attempt,
                delay_ms: delay.as_millis() as u64,
                reason,
            });
            if self.emit(ev).await.is_err() {
                return;
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// Finds the room and checks it is live (once; the room id is kept afterwards).
    async fn ensure_room(&mut self) -> Result<(), TikTokError> {
        if self.room_id != 0 {
            return Ok(());
        }
        match &self.target {
            Target::Room(r) => self.room_id = *r,
            Target::User(user) => {
                let status = self.web.resolve_room(user, Some(&self.signer)).await?;
                if self.cfg.check_live && !status.status.is_connectable() {
                    return Err(TikTokError::Offline {
                        user: user.clone(),
                        room_id: Some(status.room_id),
                    });
                }
                self.room_id = status.room_id;
            }
        }
        if self.cfg.enrich_gifts {
            match self.web.gift_list(self.room_id).await {
                Ok(gifts) => self.streaks.set_catalogue(gifts),
                Err(e) => warn!(error = %e, "gift catalogue unavailable; gift events not enriched"),
            }
        }
        Ok(())
    }

    async fn sign(&mut self) -> Result<SignedConnection, TikTokError> {
        let mut req = SignRequest::new(self.room_id.to_string())
            .with_user_agent(&self.cfg.user_agent)
            .with_reconnect(self.sessions > 0);
        if let Some(c) = &self.cursor {
            req = req.with_cursor(c.clone());
        }
        if let Some(s) = &self.cfg.session {
            req = req.with_session(s.clone());
        }
        let conn = self.signer.sign(&req).await?;
        if let Some(corrected) = conn
            .corrected_room_id
            .as_deref()
            .and_then(|r| r.parse().ok())
        {
            if corrected != self.room_id {
                info!(
                    from = self.room_id,
                    to = corrected,
                    "sign server corrected the room id"
                );
                self.room_id = corrected;
            }
        }
        if let (Some(tap), Some(body)) = (&self.cfg.tap, &conn.fetch_body) {
            if let Ok(mut t) = tap.lock() {
                t.sign_fetch(self.started.elapsed(), self.room_id, body);
            }
        }
        Ok(conn)
    }

    /// Emits the events of a fetch result (history on connect, or a poll), de-duplicated, and
    /// advances the cursor. Returns true when the stream ended.
    async fn deliver(&mut self, result: &ProtoMessageFetchResult) -> Result<bool, Outcome> {
        if !result.cursor.is_empty() {
            self.cursor = Some(result.cursor.clone());
        }
        if !result.internal_ext.is_empty() {
            self.internal_ext = Some(result.internal_ext.clone());
        }
        let mut ended = false;
        for item in ttlive_proto::decode_events(result) {
            match item {
                Ok(mut ev) => {
                    if !self.dedup.first_time(ev.msg_id()) {
                        continue;
                    }
                    if ev.meta().room_id == 0 {
                        ev.meta_mut().room_id = self.room_id;
                    }
                    if let Event::Gift(g) = &mut ev {
                        self.streaks.track(g);
                    }
                    ended |= ev.is_stream_end();
                    self.emit(ev).await?;
                }
                Err(e) => {
                    let err = SourceError::decode(e.to_string()).with_source(e);
                    self.emit(err).await?;
                }
            }
        }
        Ok(ended)
    }

    fn ws_url(&self, conn: &SignedConnection) -> String {
        let ua = &conn.user_agent;
        let (browser_name, browser_version) = ua.split_once('/').unwrap_or(("Mozilla", ua));
        let mac = ua.contains("Macintosh");
        // protocol.md §7.2, Node 2.4.3's order; route params are added last and win.
        let mut params: Vec<(String, String)> = vec![
            ("version_code".into(), "180800".into()),
            ("aid".into(), "1988".into()),
            ("app_language".into(), "en".into()),
            ("app_name".into(), "tiktok_web".into()),
            (
                "browser_platform".into(),
                if mac { "MacIntel" } else { "Win32" }.into(),
            ),
            ("browser_language".into(), "en-US".into()),
            ("browser_name".into(), browser_name.into()),
            ("browser_version".into(), browser_version.into()),
            ("browser_online".into(), "true".into()),
            ("cookie_enabled".into(), "true".into()),
            ("tz_name".into(), "Europe/Berlin".into()),
            ("device_platform".into(), "web".into()),
            ("identity".into(), "audience".into()),
            ("live_id".into(), "12".into()),
            ("webcast_language".into(), "en".into()),
            ("ws_direct".into(), "0".into()),
            ("sup_ws_ds_opt".into(), "1".into()),
            ("update_version_code".into(), "2.0.0".into()),
            ("did_rule".into(), "3".into()),
            ("screen_height".into(), "1080".into()),
            ("screen_width".into(), "1920".into()),
            ("heartbeat_duration".into(), "0".into()),
            ("resp_content_type".into(), "protobuf".into()),
            ("history_comment_count".into(), "6".into()),
            ("client_enter".into(), "1".into()),
            (
                "last_rtt".into(),
                (100 + net::random_u64() % 100).to_string(),
            ),
            ("compress".into(), "gzip".into()),
            ("room_id".into(), conn.room_id.clone()),
        ];
        if let Some(ext) = conn.internal_ext().or(self.internal_ext.as_deref()) {
            params.push(("internal_ext".into(), ext.to_owned()));
        }
        if let Some(c) = conn.cursor().or(self.cursor.as_deref()) {
            params.push(("cursor".into(), c.to_owned()));
        }
        let route: BTreeMap<&str, &str> = conn
            .route_params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        params.retain(|(k, _)| !route.contains_key(k.as_str()));
        params.extend(
            route
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut url = conn.push_server.clone();
        url.push(if url.contains('?') { '&' } else { '?' });
        let mut first = true;
        for (k, v) in &params {
            if !first {
                url.push('&');
            }
            first = false;
            url.push_str(&encode(k));
            url.push('=');
            url.push_str(&encode(v));
        }
        url.push_str("&version_code=270000");
        url
    }

    fn tap_client(&self, frame: &[u8]) {
        if let Some(tap) = &self.cfg.tap {
            if let Ok(mut t) = tap.lock() {
                t.client_frame(self.started.elapsed(), frame);
            }
        }
    }

    /// One WebSocket connection, from sign to its end.
    async fn session(&mut self) -> Result<Outcome, Failure> {
        self.ensure_room().await?;
        let had_session = self.sessions > 0;
        let mut conn = self.sign().await?;
        self.sessions += 1;
        let direct = conn.mode == ConnectionMode::Direct;
        if self.connected_once && (self.cursor.is_none() || direct) {
            let reason = if direct {
                "reconnected in direct mode, which cannot resume from a cursor; events in between \
                 may be missing"
            } else {
                "reconnected with no cursor to resume from; events in between may be missing"
            };
            let ev = Event::Gap(GapEvent {
                meta: self.meta(),
                reason: reason.into(),
                missed: None,
            });
            if self.emit(ev).await.is_err() {
                return Ok(Outcome::ConsumerGone);
            }
        }
        // The fetch result and its raw body (tens of KB from TikTok) are used here; the
        // connection needs neither while it runs (the cursor and internal_ext are kept).
        conn.fetch_body = None;
        if let Some(result) = conn.fetch_result.take() {
            if had_session || self.cfg.emit_history {
                match self.deliver(&result).await {
                    Ok(true) => return Ok(Outcome::StreamEnded),
                    Ok(false) => {}
                    Err(o) => return Ok(o),
                }
            } else {
                // Keep the position even when history is not shown.
                if !result.cursor.is_empty() {
                    self.cursor = Some(result.cursor.clone());
                }
                if !result.internal_ext.is_empty() {
                    self.internal_ext = Some(result.internal_ext.clone());
                }
                for m in &result.messages {
                    self.dedup.first_time(m.msg_id as u64);
                }
            }
        }
        if conn.push_server.is_empty() {
            return Err(Failure {
                error: TikTokError::Protocol("the sign server gave no push server URL".into()),
                was_connected: false,
                frames: 0,
                upgrade_failed: true,
                polling: false,
            });
        }
        // Direct mode: the signer's URL is complete and used verbatim (direct-connect.md §1.4);
        // Euler mode: push_server + the web client's parameters + route params.
        let url = if direct {
            conn.push_server.clone()
        } else {
            self.ws_url(&conn)
        };
        let mut headers: Vec<(String, String)> =
            vec![("user-agent".into(), conn.user_agent.clone())];
        let cookie = conn.cookie_header();
        if !cookie.is_empty() {
            headers.push(("cookie".into(), cookie));
        }
        headers.extend(conn.ws_headers.iter().cloned());
        let (ws, options) = net::connect_ws(
            &url,
            &headers,
            self.cfg.proxy.as_deref(),
            self.cfg.limits.max_frame_bytes,
            self.cfg.connect_timeout,
        )
        .await
        .map_err(|error| {
            if let TikTokError::Rejected {
                status,
                handshake_msg,
                handshake_status,
            } = &error
            {
                conn.feedback.report_rejected(Rejection::handshake(
                    *status,
                    handshake_msg.as_deref(),
                    handshake_status.as_deref(),
                ));
            }
            Failure {
                upgrade_failed: true,
                ..Failure::from(error)
            }
        })?;
        conn.feedback.report_connected();
        let opened = Instant::now();
        let heartbeat = self
            .cfg
            .heartbeat
            .or_else(|| options.as_deref().and_then(ping_interval))
            .unwrap_or(DEFAULT_HEARTBEAT);
        debug!(room = self.room_id, ?heartbeat, "WebSocket open");
        let (mut sink, mut stream) = ws.split();

        // The writer: enter the room, then heartbeats, and whatever the reader queues (acks).
        // Acks queue for the writer. Bounded: a server that pushes frames but never reads would
        // otherwise grow it without limit; acks are best effort, so a full queue drops one.
        let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(ACK_QUEUE);
        let enter =
            ttlive_proto::enter_room_frame(self.room_id, ttlive_proto::new_enter_unique_id());
        self.tap_client(&enter);
        // The web player's direct mode sends a heartbeat first, then enters the room
        // (direct-connect.md §2); the Euler flow enters first (protocol.md §9.1).
        let first_hb = direct.then(|| ttlive_proto::heartbeat_frame(self.room_id, 1));
        if let Some(hb) = &first_hb {
            self.tap_client(hb);
        }
        let room_id = self.room_id;
        let tap = self.cfg.tap.clone();
        let started = self.started;
        let mut writer: JoinHandle<Result<(), TikTokError>> = tokio::spawn(async move {
            let mut seq: u64 = 0;
            if let Some(hb) = first_hb {
                seq = 1;
                sink.send(Message::binary(hb)).await?;
            }
            sink.send(Message::binary(enter)).await?;
            let mut tick = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        seq += 1;
                        let hb = ttlive_proto::heartbeat_frame(room_id, seq);
                        if let Some(tap) = &tap {
                            if let Ok(mut t) = tap.lock() {
                                t.client_frame(started.elapsed(), &hb);
                            }
                        }
                        sink.send(Message::binary(hb)).await?;
                    }
                    frame = out_rx.recv() => match frame {
                        Some(f) => sink.send(Message::binary(f)).await?,
                        None => {
                            let _ = sink.close().await;
                            return Ok(());
                        }
                    },
                }
            }
        });

        let connected = Event::Connected(ConnectedEvent {
            meta: self.meta(),
            unique_id: match &self.target {
                Target::User(u) => u.clone(),
                Target::Room(_) => String::new(),
            },
            transport: "websocket".into(),
        });
        let mut frames: u64 = 0;
        let fail = |error: TikTokError, frames: u64| Failure {
            error,
            was_connected: true,
            frames,
            upgrade_failed: false,
            polling: false,
        };
        if self.emit(connected).await.is_err() {
            writer.abort();
            return Ok(Outcome::ConsumerGone);
        }
        self.connected_once = true;
        let stall = self.cfg.stall_timeout;
        let outcome = loop {
            let msg = tokio::select! {
                r = tokio::time::timeout(stall, stream.next()) => match r {
                    Err(_) => break Err(fail(TikTokError::Stalled(stall), frames)),
                    Ok(None) => break Err(fail(TikTokError::Closed { code: None, reason: String::new() }, frames)),
                    Ok(Some(Err(e))) => break Err(fail(TikTokError::WebSocket(e), frames)),
                    Ok(Some(Ok(m))) => m,
                },
                w = &mut writer => {
                    let error = match w {
                        Ok(Err(e)) => e,
                        _ => TikTokError::Protocol("the socket writer stopped".into()),
                    };
                    break Err(fail(error, frames));
                }
            };
            let data: Bytes = match msg {
                Message::Binary(b) => b,
                Message::Close(c) => {
                    break Err(fail(
                        TikTokError::Closed {
                            code: c.as_ref().map(|c| u16::from(c.code)),
                            reason: c.map(|c| c.reason.to_string()).unwrap_or_default(),
                        },
                        frames,
                    ));
                }
                Message::Text(t) => {
                    debug!(len = t.len(), "ignoring a text frame");
                    continue;
                }
                _ => continue,
            };
            frames += 1;
            if let Some(tap) = &self.cfg.tap {
                if let Ok(mut t) = tap.lock() {
                    t.push_frame(self.started.elapsed(), &data);
                }
            }
            let decoded = match ttlive_proto::decode_msg_frame_bytes(data, &self.cfg.limits) {
                Ok(d) => d,
                Err(e) => {
                    let err = SourceError::decode(format!("bad push frame: {e}")).with_source(e);
                    if self.emit(err).await.is_err() {
                        break Ok(Outcome::ConsumerGone);
                    }
                    continue;
                }
            };
            if decoded.payload_type() == "close" {
                // The server's own close (direct mode): retryable, with its reason.
                let reason = decoded.header("close_reason").unwrap_or("").to_owned();
                conn.feedback
                    .report_rejected(Rejection::close_frame(&reason));
                break Err(fail(
                    TikTokError::Closed {
                        code: None,
                        reason: format!("close frame: {reason}"),
                    },
                    frames,
                ));
            }
            let Some(result) = decoded.result.as_ref() else {
                continue;
            };
            // Ack as the Node reference does: asked for, a real log id, and an internal_ext
            // (direct mode acks an empty one too, as the web player does).
            if result.need_ack
                && decoded.log_id() != 0
                && (direct || !result.internal_ext.is_empty())
            {
                let ack = ttlive_proto::ack_frame(decoded.log_id() as u64, &result.internal_ext);
                self.tap_client(&ack);
                if out_tx.try_send(ack).is_err() {
                    debug!("ack queue full: the socket is not writable; ack dropped");
                }
            }
            match self.deliver(result).await {
                Ok(true) => break Ok(Outcome::StreamEnded),
                Ok(false) => {}
                Err(o) => break Ok(o),
            }
        };
        conn.feedback.report_closed(opened.elapsed());
        drop(out_tx);
        if !writer.is_finished() {
            // Let the writer send a close; don't wait long for a dead socket.
            let _ = tokio::time::timeout(Duration::from_secs(2), &mut writer).await;
            writer.abort();
        }
        outcome
    }

    /// HTTP polling of `im/fetch` when no WebSocket can be had (protocol.md §10). `connected`
    /// is emitted once the first poll has answered.
    async fn poll_session(&mut self) -> Result<Outcome, Failure> {
        self.ensure_room().await?;
        let conn = self.sign().await?;
        let had_session = self.sessions > 0;
        self.sessions += 1;
        if let Some(result) = conn.fetch_result.clone() {
            if had_session || self.cfg.emit_history {
                match self.deliver(&result).await {
                    Ok(true) => return Ok(Outcome::StreamEnded),
                    Ok(false) => {}
                    Err(o) => return Ok(o),
                }
            }
        }
        let cookie = conn.cookie_header();
        let until = Instant::now() + self.cfg.upgrade_retry;
        let mut polls: u64 = 0;
        let mut interval = self.cfg.poll_interval;
        loop {
            if polls > 0 {
                tokio::time::sleep(interval).await;
                if Instant::now() >= until {
                    return Ok(Outcome::RetryUpgrade);
                }
            }
            let result = self
                .web
                .poll_fetch(
                    self.room_id,
                    self.cursor.as_deref().unwrap_or(""),
                    self.internal_ext.as_deref().unwrap_or(""),
                    &cookie,
                    &self.cfg.limits,
                )
                .await
                .map_err(|error| Failure {
                    error,
                    was_connected: polls > 0,
                    frames: polls,
                    upgrade_failed: false,
                    polling: true,
                })?;
            if polls == 0 {
                let connected = Event::Connected(ConnectedEvent {
                    meta: self.meta(),
                    unique_id: match &self.target {
                        Target::User(u) => u.clone(),
                        Target::Room(_) => String::new(),
                    },
                    transport: "polling".into(),
                });
                if self.emit(connected).await.is_err() {
                    return Ok(Outcome::ConsumerGone);
                }
                self.connected_once = true;
            }
            polls += 1;
            if result.fetch_interval > 0 {
                interval = Duration::from_millis(result.fetch_interval.clamp(200, 10_000) as u64);
            }
            match self.deliver(&result).await {
                Ok(true) => return Ok(Outcome::StreamEnded),
                Ok(false) => {}
                Err(o) => return Ok(o),
            }
        }
    }
}

/// `ping-interval` (seconds) from a `Handshake-Options` header (`ping-interval=10; ...`).
fn ping_interval(options: &str) -> Option<Duration> {
    options.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        if k.trim() != "ping-interval" {
            return None;
        }
        let secs: f64 = v.trim().parse().ok()?;
        (secs.is_finite() && (0.5..=120.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
    })
}

/// Percent-encodes a query component.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(char::from(b))
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake_options_and_encoding() {
        assert_eq!(
            ping_interval("ping-interval=10; other=1"),
            Some(Duration::from_secs(10))
        );
        assert_eq!(ping_interval("ping-interval=0"), None);
        assert_eq!(ping_interval("nonsense"), None);
        assert_eq!(encode("a b/c|d"), "a%20b%2Fc%7Cd");
    }

    #[tokio::test]
    async fn bad_target_and_missing_signer_fail_before_any_request() {
        let err = TikTokSource::builder("https://example.com/@x")
            .start()
            .unwrap_err();
        assert!(matches!(err, TikTokError::InvalidTarget(_)), "{err}");
        let err = TikTokSource::builder("@someone").start().unwrap_err();
        assert!(matches!(err, TikTokError::Config(_)), "{err}");
    }
}
