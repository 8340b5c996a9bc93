//! The web player's "direct" mode (direct-connect.md): open TikTok's push socket with only an
//! anonymous `ttwid` cookie — no sign server, no signature — and Euler kept as a fallback.
//!
//! * [`DirectSigner`]: a [`Signer`] that returns the complete direct socket URL
//!   ([`DirectUrl`], direct-connect.md §1.4) and the `ttwid` cookie from a shared
//!   [`TtwidCache`], with no fetch result ([`ConnectionMode::Direct`]).
//! * [`ConnectionFeedback`]: how the live source tells the signer what the socket did
//!   (refused with `DEVICE_BLOCKED`, died within seconds, closed by a `close` frame), so the
//!   `ttwid` and its user agent are replaced and a [`FallbackSigner`] can switch to Euler.
//! * [`FallbackSigner`]: direct first, another signer (Euler) on configured failures; the mode
//!   is selectable ([`SignerMode`]: `direct`, `euler`, `auto`).

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use reqwest::header::{ACCEPT, USER_AGENT};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::error::{ExpectedBody, SignError, sanitize_text};
use crate::euler::{normalize_unique_id, validate_room_id};
use crate::signer::Signer;
use crate::ttwid::{
    BrowserPreset, TtwidCache, direct_http_client, parse_http_url, send, status_error, ttwid_hint,
};
use crate::types::{ConnectionMode, Cookie, RoomIdInfo, SignRequest, SignedConnection};

/// The path of the push socket (direct-connect.md §1.4).
pub const DIRECT_WS_PATH: &str = "/webcast/im/ws_proxy/ws_reuse_supplement/";
/// The `Origin` a direct connection sends (direct-connect.md §1.5).
pub const DIRECT_ORIGIN: &str = "https://www.tiktok.com";
/// TikTok's web host, the default base of [`DirectSigner::resolve_room_id`].
pub const DEFAULT_WEB_BASE_URL: &str = "https://www.tiktok.com";
/// A socket that ends sooner than this after opening counts as refused: its `ttwid` is
/// replaced (PirateTok's 30 s rule).
pub const DEFAULT_EARLY_CLOSE: Duration = Duration::from_secs(30);
/// The `close_reason` with which TikTok is said to switch the direct mode off (rust-srec's test
/// value; not confirmed in the wild ⚠).
pub const CLOSE_REASON_DISABLE_WEB_DIRECT: &str = "disable_web_direct";

const MAX_ROOM_BODY: usize = 2 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Host and URL

/// Which push host a direct connection uses. The regional edges accept the same request; the
/// global host worked for rooms of every region observed (direct-connect.md §1.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DirectHost {
    /// `wss://webcast-ws.tiktok.com` (the player's own `socketHost`).
    #[default]
    Global,
    /// `wss://webcast-ws.us.tiktok.com`.
    Us,
    /// `wss://webcast-ws.eu.tiktok.com`.
    Eu,
    /// Any other base (`ws://127.0.0.1:PORT` in tests, a proxy). When it has no path (or `/`),
    /// [`DIRECT_WS_PATH`] is appended; otherwise its path is kept.
    Custom(String),
}

impl DirectHost {
    /// The base URL (scheme and host).
    pub fn base(&self) -> &str {
        match self {
            Self::Global => "wss://webcast-ws.tiktok.com",
            Self::Us => "wss://webcast-ws.us.tiktok.com",
            Self::Eu => "wss://webcast-ws.eu.tiktok.com",
            Self::Custom(base) => base,
        }
    }

    /// The socket URL without query: the base plus [`DIRECT_WS_PATH`]. Fails with
    /// [`SignError::Config`] for a base that is not `ws`/`wss`/`http`/`https`.
    pub fn socket_url(&self) -> Result<Url, SignError> {
        let mut url = Url::parse(self.base().trim())
            .map_err(|e| SignError::Config(format!("invalid direct push host: {e}")))?;
        if !matches!(url.scheme(), "ws" | "wss" | "http" | "https") || url.host_str().is_none() {
            return Err(SignError::Config(format!(
                "the direct push host must be a ws:// or wss:// URL with a host, got {:?}",
                self.base().chars().take(80).collect::<String>()
            )));
        }
        if url.path().is_empty() || url.path() == "/" {
            url.set_path(DIRECT_WS_PATH);
        }
        url.set_query(None);
        url.set_fragment(None);
        Ok(url)
    }
}

impl FromStr for DirectHost {
    type Err = SignError;

    /// `global`, `us`, `eu`, or a `ws://`/`wss://` URL.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "global" | "" => Ok(Self::Global),
            "us" => Ok(Self::Us),
            "eu" => Ok(Self::Eu),
            _ => {
                let host = Self::Custom(s.trim().to_owned());
                host.socket_url()?;
                Ok(host)
            }
        }
    }
}

/// The direct socket URL (direct-connect.md §1.4): the 29 query parameters in the web player's
/// order, form-urlencoded (spaces as `+`), the `browser_*` values taken from one
/// [`BrowserPreset`], `version_code` twice, and no `cursor`, `internal_ext`, `msToken`,
/// `X-Bogus`, `X-Gnarly` or signature.
///
/// ```
/// use ttlive_signer::{BrowserPreset, DirectHost, DirectUrl};
///
/// let url = DirectUrl::new("7312345678901234567", BrowserPreset::chrome_windows())
///     .host(DirectHost::Eu)
///     .to_url()
///     .unwrap();
/// assert!(url.starts_with("wss://webcast-ws.eu.tiktok.com/webcast/im/ws_proxy/ws_reuse_supplement/?version_code=180800&"));
/// assert!(url.contains("&ws_direct=1&") && url.contains("&room_id=7312345678901234567&"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectUrl {
    room_id: String,
    preset: BrowserPreset,
    host: DirectHost,
    history_comment_count: u32,
    compress: bool,
}

impl DirectUrl {
    /// The URL of this room for this browser identity (global host, `history_comment_count=0`,
    /// `compress=gzip`).
    pub fn new(room_id: impl Into<String>, preset: BrowserPreset) -> Self {
        Self {
            room_id: room_id.into(),
            preset,
            host: DirectHost::Global,
            history_comment_count: 0,
            compress: true,
        }
    }

    /// The push host (default [`DirectHost::Global`]).
    pub fn host(mut self, host: DirectHost) -> Self {
        self.host = host;
        self
    }

    /// `history_comment_count`: how many recent comments the server replays on entering (0 by
    /// default; always 0 on reconnects so nothing is replayed twice).
    pub fn history_comment_count(mut self, count: u32) -> Self {
        self.history_comment_count = count;
        self
    }

    /// Whether to ask for gzip'd frames (`compress=gzip`, default) or raw ones (`compress=`).
    pub fn compress(mut self, gzip: bool) -> Self {
        self.compress = gzip;
        self
    }

    /// The query parameters, in order (the duplicate `version_code` included).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let p = &self.preset;
        vec![
            ("version_code", "180800".to_owned()),
            ("device_platform", "web".to_owned()),
            ("cookie_enabled", "true".to_owned()),
            ("screen_width", p.screen_width().to_string()),
            ("screen_height", p.screen_height().to_string()),
            ("browser_language", p.browser_language().to_owned()),
            ("browser_platform", p.browser_platform().to_owned()),
            ("browser_name", p.browser_name().to_owned()),
            ("browser_version", p.browser_version().to_owned()),
            ("browser_online", "true".to_owned()),
            ("tz_name", p.tz_name().to_owned()),
            ("app_name", "tiktok_web".to_owned()),
            ("sup_ws_ds_opt", "1".to_owned()),
            ("update_version_code", "2.0.0".to_owned()),
            (
                "compress",
                if self.compress { "gzip" } else { "" }.to_owned(),
            ),
            ("webcast_language", "en".to_owned()),
            ("ws_direct", "1".to_owned()),
            ("aid", "1988".to_owned()),
            ("live_id", "12".to_owned()),
            ("version_code", "270000".to_owned()),
            ("app_language", "en".to_owned()),
            ("client_enter", "1".to_owned()),
            ("room_id", self.room_id.clone()),
            ("identity", "audience".to_owned()),
            (
                "history_comment_count",
                self.history_comment_count.to_string(),
            ),
            ("last_rtt", "0".to_owned()),
            ("heartbeat_duration", "10000".to_owned()),
            ("resp_content_type", "protobuf".to_owned()),
            ("did_rule", "3".to_owned()),
        ]
    }

    /// The complete URL. Fails with [`SignError::Config`] on a bad custom host.
    pub fn to_url(&self) -> Result<String, SignError> {
        let mut url = self.host.socket_url()?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in self.params() {
                q.append_pair(k, &v);
            }
        }
        Ok(url.into())
    }
}

// ---------------------------------------------------------------------------------------------
// Feedback from the live source

/// Why a direct socket failed, as the live source saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The upgrade was answered without `101` (TikTok answers HTTP 200 with a `Handshake-Msg`
    /// header, e.g. `DEVICE_BLOCKED`, sometimes with `Handshake-Status`, e.g. `415`).
    Handshake {
        /// The HTTP status of the answer (200 for TikTok's refusals).
        http_status: u16,
        /// The `Handshake-Msg` header, if any.
        message: Option<String>,
        /// The `Handshake-Status` header, if any.
        handshake_status: Option<String>,
    },
    /// The server sent a `close` push frame; `reason` is its `close_reason` header (e.g.
    /// `disable_web_direct` ⚠).
    CloseFrame {
        /// The `close_reason` header (empty if absent).
        reason: String,
    },
}

impl Rejection {
    /// A refused upgrade, from its status and its `Handshake-Msg` / `Handshake-Status`
    /// headers (text is trimmed and bounded).
    pub fn handshake(
        http_status: u16,
        message: Option<&str>,
        handshake_status: Option<&str>,
    ) -> Self {
        let clean = |s: Option<&str>| {
            s.map(|s| {
                sanitize_text(s.trim(), &[])
                    .chars()
                    .take(128)
                    .collect::<String>()
            })
            .filter(|s| !s.is_empty())
        };
        Self::Handshake {
            http_status,
            message: clean(message),
            handshake_status: clean(handshake_status),
        }
    }

    /// A `close` push frame with this `close_reason`.
    pub fn close_frame(reason: &str) -> Self {
        Self::CloseFrame {
            reason: sanitize_text(reason.trim(), &[])
                .chars()
                .take(128)
                .collect(),
        }
    }

    /// True for `Handshake-Msg: DEVICE_BLOCKED`.
    pub fn is_device_blocked(&self) -> bool {
        matches!(self, Self::Handshake { message: Some(m), .. } if m.eq_ignore_ascii_case("DEVICE_BLOCKED"))
    }

    /// True when the `ttwid` (and its user agent) should be replaced: any refused upgrade
    /// (blocked device, missing or refused cookie).
    pub fn replaces_ttwid(&self) -> bool {
        matches!(self, Self::Handshake { .. })
    }

    /// True when TikTok says the direct mode is off (`close_reason` `disable_web_direct`): a
    /// [`FallbackSigner`] switches to its fallback at once.
    pub fn disables_direct(&self) -> bool {
        matches!(self, Self::CloseFrame { reason } if reason.eq_ignore_ascii_case(CLOSE_REASON_DISABLE_WEB_DIRECT))
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Handshake {
                http_status,
                message,
                handshake_status,
            } => {
                write!(f, "upgrade refused with HTTP {http_status}")?;
                if let Some(m) = message {
                    write!(f, ", Handshake-Msg {m:?}")?;
                }
                if let Some(s) = handshake_status {
                    write!(f, ", Handshake-Status {s}")?;
                }
                Ok(())
            }
            Self::CloseFrame { reason } => write!(f, "close frame, close_reason {reason:?}"),
        }
    }
}

/// What the live source reports about one connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedbackEvent {
    /// The socket was upgraded.
    Connected,
    /// The socket was refused or closed by the server.
    Rejected(Rejection),
    /// The socket ended after `lived`; `early` when that is below the signer's threshold
    /// ([`DEFAULT_EARLY_CLOSE`]), which counts as a refusal.
    Closed {
        /// How long the socket was open.
        lived: Duration,
        /// True when it lived less than the threshold.
        early: bool,
    },
}

/// Receives the reports of a [`ConnectionFeedback`] (the `ttwid` cache, a [`FallbackSigner`],
/// metrics…).
pub trait ConnectionObserver: Send + Sync {
    /// One report; `ttwid` is the value the connection used, if it had one.
    fn report(&self, ttwid: Option<&str>, event: &FeedbackEvent);
}

struct FeedbackInner {
    ttwid: Option<String>,
    early_close: Duration,
    observers: Vec<Arc<dyn ConnectionObserver>>,
}

/// The handle in [`SignedConnection::feedback`] through which the live source reports what the
/// socket did. Cheap to clone; the default handle (Euler connections) ignores every report.
///
/// The live source calls:
/// * [`report_connected`](Self::report_connected) after the upgrade succeeded;
/// * [`report_rejected`](Self::report_rejected) when the upgrade was refused (HTTP 200 +
///   `Handshake-Msg`) or a `close` push frame arrived;
/// * [`report_closed`](Self::report_closed) when an established socket ended, with how long it
///   lived (under 30 s counts as a refusal: the `ttwid` and user agent are replaced).
#[derive(Clone, Default)]
pub struct ConnectionFeedback {
    inner: Option<Arc<FeedbackInner>>,
}

impl ConnectionFeedback {
    /// A handle for a connection that used this `ttwid` (if any); a socket that lives less than
    /// `early_close` counts as refused.
    pub fn new(ttwid: Option<String>, early_close: Duration) -> Self {
        Self {
            inner: Some(Arc::new(FeedbackInner {
                ttwid,
                early_close,
                observers: Vec::new(),
            })),
        }
    }

    /// The same handle with one more observer.
    pub fn with_observer(&self, observer: Arc<dyn ConnectionObserver>) -> Self {
        let (ttwid, early_close, mut observers) = match &self.inner {
            Some(i) => (i.ttwid.clone(), i.early_close, i.observers.clone()),
            None => (None, DEFAULT_EARLY_CLOSE, Vec::new()),
        };
        observers.push(observer);
        Self {
            inner: Some(Arc::new(FeedbackInner {
                ttwid,
                early_close,
                observers,
            })),
        }
    }

    /// True when some observer listens (a direct connection); false for the default handle.
    pub fn is_active(&self) -> bool {
        self.inner.as_ref().is_some_and(|i| !i.observers.is_empty())
    }

    /// The `ttwid` the connection used, if known.
    pub fn ttwid(&self) -> Option<&str> {
        self.inner.as_ref().and_then(|i| i.ttwid.as_deref())
    }

    /// The threshold under which a closed socket counts as refused.
    pub fn early_close(&self) -> Duration {
        self.inner
            .as_ref()
            .map_or(DEFAULT_EARLY_CLOSE, |i| i.early_close)
    }

    fn emit(&self, event: &FeedbackEvent) {
        if let Some(inner) = &self.inner {
            for o in &inner.observers {
                o.report(inner.ttwid.as_deref(), event);
            }
        }
    }

    /// The upgrade succeeded.
    pub fn report_connected(&self) {
        self.emit(&FeedbackEvent::Connected);
    }

    /// The upgrade was refused, or the server sent a `close` frame.
    pub fn report_rejected(&self, rejection: Rejection) {
        self.emit(&FeedbackEvent::Rejected(rejection));
    }

    /// An established socket ended after `lived`.
    pub fn report_closed(&self, lived: Duration) {
        let early = lived < self.early_close();
        self.emit(&FeedbackEvent::Closed { lived, early });
    }
}

impl fmt::Debug for ConnectionFeedback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            None => f.write_str("ConnectionFeedback(none)"),
            Some(i) => f
                .debug_struct("ConnectionFeedback")
                .field("ttwid", &i.ttwid.as_deref().map(ttwid_hint))
                .field("early_close", &i.early_close)
                .field("observers", &i.observers.len())
                .finish(),
        }
    }
}

impl PartialEq for ConnectionFeedback {
    /// Two handles are equal when they report about the same `ttwid` to the same number of
    /// observers.
    fn eq(&self, other: &Self) -> bool {
        self.ttwid() == other.ttwid()
            && self.inner.as_ref().map(|i| i.observers.len())
                == other.inner.as_ref().map(|i| i.observers.len())
    }
}

/// Replaces the cache's `ttwid` when the socket refused it or it died early.
struct CacheObserver(Arc<TtwidCache>);

impl ConnectionObserver for CacheObserver {
    fn report(&self, ttwid: Option<&str>, event: &FeedbackEvent) {
        let Some(ttwid) = ttwid else { return };
        let replace = match event {
            FeedbackEvent::Rejected(r) => r.replaces_ttwid(),
            FeedbackEvent::Closed { early, .. } => *early,
            _ => false,
        };
        if replace {
            self.0.report_rejected(ttwid);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The direct signer

/// A [`Signer`] for the web player's direct mode: no sign server. [`sign`](Signer::sign) takes
/// the shared `ttwid` (fetching one if needed) and returns a [`SignedConnection`] with
/// [`ConnectionMode::Direct`]: `push_server` is the complete [`DirectUrl`] (use it verbatim),
/// `cookies` is `ttwid` (plus `sessionid`/`tt-target-idc` when the request carries a session),
/// `user_agent` is the one that obtained the `ttwid`, `ws_headers` has `Origin`, `fetch_result`
/// is `None`, and [`feedback`](SignedConnection::feedback) reaches the cache.
///
/// [`resolve_room_id`](Signer::resolve_room_id) uses TikTok's unsigned
/// `GET /api-live/user/room/?…&uniqueId=…&sourceType=54` (direct-connect.md §1.2).
///
/// The user agent of the [`SignRequest`] is ignored: the socket must be opened with the user
/// agent that obtained the `ttwid`. To use your own, give the cache a preset for it
/// ([`TtwidCacheBuilder::presets`](crate::TtwidCacheBuilder::presets) or
/// [`user_ttwid_with_user_agent`](crate::TtwidCacheBuilder::user_ttwid_with_user_agent)).
///
/// ```no_run
/// # async fn demo() -> Result<(), ttlive_signer::SignError> {
/// use ttlive_signer::{DirectHost, DirectSigner, SignRequest, Signer};
///
/// let signer = DirectSigner::builder().host(DirectHost::Global).build()?;
/// let room = signer.resolve_room_id("@someone").await?;
/// let conn = signer.sign(&SignRequest::new(room.room_id)).await?;
/// // Open conn.push_server verbatim with User-Agent conn.user_agent, Cookie
/// // conn.cookie_header() and conn.ws_headers; send hb, then im_enter_room.
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DirectSigner {
    inner: Arc<DirectInner>,
}

#[derive(Debug)]
struct DirectInner {
    cache: Arc<TtwidCache>,
    host: DirectHost,
    web_base: Url,
    web_host: String,
    client: reqwest::Client,
    initial_history: u32,
    compress: bool,
    origin: Option<String>,
    early_close: Duration,
}

/// Configures a [`DirectSigner`]; see [`DirectSigner::builder`].
#[derive(Debug)]
pub struct DirectSignerBuilder {
    cache: Option<Arc<TtwidCache>>,
    host: DirectHost,
    web_base: String,
    client: Option<reqwest::Client>,
    no_proxy: bool,
    initial_history: u32,
    compress: bool,
    origin: Option<String>,
    early_close: Duration,
}

impl DirectSignerBuilder {
    /// The `ttwid` cache (share one `Arc` between every signer of the process). Default:
    /// [`TtwidCache::global`].
    pub fn ttwid_cache(mut self, cache: Arc<TtwidCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// The push host (default [`DirectHost::Global`]).
    pub fn host(mut self, host: DirectHost) -> Self {
        self.host = host;
        self
    }

    /// TikTok's web host for [`resolve_room_id`](Signer::resolve_room_id) (default
    /// `https://www.tiktok.com`).
    pub fn web_base_url(mut self, url: impl Into<String>) -> Self {
        self.web_base = url.into();
        self
    }

    /// The HTTP client of the room-id lookup.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Ignores proxy environment variables in the default HTTP client.
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// `history_comment_count` of a room's first connection (default 0, as rust-srec). A
    /// reconnect ([`SignRequest::is_reconnect`]) always asks for 0.
    pub fn initial_history_comment_count(mut self, count: u32) -> Self {
        self.initial_history = count;
        self
    }

    /// Ask for gzip'd frames (default true).
    pub fn compress(mut self, gzip: bool) -> Self {
        self.compress = gzip;
        self
    }

    /// The `Origin` header of the upgrade (default `https://www.tiktok.com`; `None` sends
    /// none).
    pub fn origin(mut self, origin: Option<String>) -> Self {
        self.origin = origin;
        self
    }

    /// A socket that ends sooner than this counts as refused (default 30 s).
    pub fn early_close_threshold(mut self, threshold: Duration) -> Self {
        self.early_close = threshold;
        self
    }

    /// Builds the signer. Fails with [`SignError::Config`] on a bad host or web URL.
    pub fn build(self) -> Result<DirectSigner, SignError> {
        self.host.socket_url()?;
        let (web_base, web_host) = parse_http_url(&self.web_base, "TikTok web base URL")?;
        let cache = match self.cache {
            Some(c) => c,
            None => TtwidCache::global()?,
        };
        let client = match self.client {
            Some(c) => c,
            None => direct_http_client(self.no_proxy)?,
        };
        Ok(DirectSigner {
            inner: Arc::new(DirectInner {
                cache,
                host: self.host,
                web_base,
                web_host,
                client,
                initial_history: self.initial_history,
                compress: self.compress,
                origin: self.origin.filter(|o| !o.trim().is_empty()),
                early_close: self.early_close,
            }),
        })
    }
}

impl DirectSigner {
    /// A builder with the defaults (global host, the process-wide `ttwid` cache).
    pub fn builder() -> DirectSignerBuilder {
        DirectSignerBuilder {
            cache: None,
            host: DirectHost::Global,
            web_base: DEFAULT_WEB_BASE_URL.to_owned(),
            client: None,
            no_proxy: false,
            initial_history: 0,
            compress: true,
            origin: Some(DIRECT_ORIGIN.to_owned()),
            early_close: DEFAULT_EARLY_CLOSE,
        }
    }

    /// The `ttwid` cache this signer uses.
    pub fn ttwid_cache(&self) -> &Arc<TtwidCache> {
        &self.inner.cache
    }

    /// The push host.
    pub fn host(&self) -> &DirectHost {
        &self.inner.host
    }

    /// The socket URL for a room, for this preset, first connection or reconnect.
    pub fn url_for(&self, room_id: &str, preset: &BrowserPreset, reconnect: bool) -> DirectUrl {
        DirectUrl::new(room_id, preset.clone())
            .host(self.inner.host.clone())
            .compress(self.inner.compress)
            .history_comment_count(if reconnect {
                0
            } else {
                self.inner.initial_history
            })
    }
}

#[async_trait]
impl Signer for DirectSigner {
    async fn sign(&self, request: &SignRequest) -> Result<SignedConnection, SignError> {
        let room_id = validate_room_id(request.room_id())?;
        let lease = self.inner.cache.get().await?;
        let reconnect = request.is_reconnect();
        let url = self.url_for(room_id, &lease.preset, reconnect).to_url()?;
        let mut cookies = vec![Cookie::new("ttwid", lease.value.clone())];
        if let Some(session) = request.session() {
            cookies.push(Cookie::new("sessionid", session.session_id().expose()));
            cookies.push(Cookie::new("tt-target-idc", session.target_idc()));
        }
        let feedback = ConnectionFeedback::new(Some(lease.value.clone()), self.inner.early_close)
            .with_observer(Arc::new(CacheObserver(self.inner.cache.clone())));
        debug!(
            room_id,
            reconnect,
            ttwid_source = %lease.source,
            generation = lease.generation,
            host = ?self.inner.host,
            "direct connection prepared"
        );
        let mut conn = SignedConnection::new(room_id, url)
            .with_cookies(cookies)
            .with_user_agent(lease.preset.user_agent());
        conn.mode = ConnectionMode::Direct;
        conn.ws_headers = self
            .inner
            .origin
            .iter()
            .map(|o| ("Origin".to_owned(), o.clone()))
            .collect();
        conn.feedback = feedback;
        Ok(conn)
    }

    async fn resolve_room_id(&self, unique_id: &str) -> Result<RoomIdInfo, SignError> {
        let uid = normalize_unique_id(unique_id)?;
        let preset = self
            .inner
            .cache
            .current()
            .map(|l| l.preset)
            .unwrap_or_default();
        let mut url = self.inner.web_base.clone();
        url.path_segments_mut()
            .map_err(|()| SignError::Config("the TikTok web base URL cannot be a base".into()))?
            .pop_if_empty()
            .extend(["api-live", "user", "room", ""]);
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in [
                ("aid", "1988"),
                ("app_name", "tiktok_web"),
                ("app_language", "en"),
                ("webcast_language", "en"),
                ("device_platform", "web_pc"),
                ("channel", "tiktok_web"),
                ("browser_language", preset.browser_language()),
                ("browser_name", preset.browser_name()),
                ("browser_online", "true"),
                ("browser_platform", preset.browser_platform()),
                ("browser_version", preset.browser_version()),
                ("cookie_enabled", "true"),
                ("focus_state", "true"),
                ("is_fullscreen", "false"),
                ("is_page_visible", "true"),
                ("os", "windows"),
                ("screen_height", &preset.screen_height().to_string()),
                ("screen_width", &preset.screen_width().to_string()),
                ("tz_name", preset.tz_name()),
                ("user_is_login", "false"),
                ("uniqueId", &uid),
                ("sourceType", "54"),
            ] {
                q.append_pair(k, v);
            }
        }
        debug!(host = %self.inner.web_host, unique_id = %uid, "resolving room id via api-live/user/room");
        let builder = self
            .inner
            .client
            .get(url)
            .header(USER_AGENT, preset.user_agent())
            .header(ACCEPT, "application/json");
        let answer = send(&self.inner.web_host, builder, MAX_ROOM_BODY).await?;
        if !answer.status.is_success() {
            return Err(status_error(&answer, "TikTok's api-live/user/room"));
        }
        if answer.body.is_empty() {
            return Err(SignError::EmptyBody { request_id: None });
        }
        let json: serde_json::Value = serde_json::from_slice(&answer.body).map_err(|e| {
            let n = answer.body.len().min(256);
            SignError::InvalidBody {
                expected: ExpectedBody::RoomIdJson,
                len: answer.body.len(),
                content_type: None,
                message: None,
                preview: sanitize_text(&String::from_utf8_lossy(&answer.body[..n]), &[]),
                request_id: None,
                source: Some(Box::new(e.into())),
            }
        })?;
        let code = json.get("statusCode").and_then(serde_json::Value::as_i64);
        let message = json
            .get("message")
            .and_then(serde_json::Value::as_str)
            .map(|m| sanitize_text(m, &[]))
            .filter(|m| !m.is_empty());
        let user = json.pointer("/data/user");
        let room_id = match user.and_then(|u| u.get("roomId")) {
            Some(serde_json::Value::String(s)) => s.trim().to_owned(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        if code.is_some_and(|c| c != 0)
            || room_id.is_empty()
            || room_id == "0"
            || !room_id.bytes().all(|b| b.is_ascii_digit())
            || room_id.len() > 32
        {
            return Err(SignError::RoomIdUnavailable {
                unique_id: uid,
                message: message.or_else(|| code.map(|c| format!("statusCode {c}"))),
            });
        }
        let status = user
            .and_then(|u| u.get("status"))
            .and_then(serde_json::Value::as_i64)
            .or_else(|| {
                json.pointer("/data/liveRoom/status")
                    .and_then(serde_json::Value::as_i64)
            });
        let mut info = RoomIdInfo::new(uid, room_id, status == Some(2));
        info.routes_attempted = vec!["api-live/user/room".to_owned()];
        Ok(info)
    }
}

// ---------------------------------------------------------------------------------------------
// Fallback

/// Which signer a [`FallbackSigner`] uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignerMode {
    /// Direct only; its errors are returned as they are.
    Direct,
    /// The fallback (Euler) only.
    Euler,
    /// Direct first; the fallback on configured failures (the default).
    #[default]
    Auto,
}

impl SignerMode {
    /// `"direct"`, `"euler"` or `"auto"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Euler => "euler",
            Self::Auto => "auto",
        }
    }
}

impl fmt::Display for SignerMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignerMode {
    type Err = SignError;

    /// `direct`, `euler` (or `signed`), `auto`; any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "direct" => Ok(Self::Direct),
            "euler" | "signed" => Ok(Self::Euler),
            "auto" => Ok(Self::Auto),
            other => Err(SignError::Config(format!(
                "unknown signer mode {:?} (expected direct, euler or auto)",
                other.chars().take(40).collect::<String>()
            ))),
        }
    }
}

type ErrorFilter = dyn Fn(&SignError) -> bool + Send + Sync;

/// Shared fallback state: consecutive direct failures and the time until which the fallback is
/// used without trying direct.
struct FallbackState {
    threshold: u32,
    cooldown: Duration,
    state: Mutex<(u32, Option<Instant>)>,
}

impl FallbackState {
    fn failure(&self, why: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.0 += 1;
            if s.0 >= self.threshold.max(1) {
                s.0 = 0;
                s.1 = Instant::now().checked_add(self.cooldown);
                warn!(
                    why,
                    cooldown_secs = self.cooldown.as_secs(),
                    "direct mode keeps failing; using the fallback signer for a while"
                );
            }
        }
    }

    fn trip(&self, why: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = 0;
            s.1 = Instant::now().checked_add(self.cooldown);
        }
        warn!(
            why,
            cooldown_secs = self.cooldown.as_secs(),
            "direct mode refused; using the fallback signer for a while"
        );
    }

    fn healthy(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = 0;
        }
    }

    fn falling_back(&self) -> bool {
        self.state.lock().is_ok_and(|mut s| match s.1 {
            Some(until) if Instant::now() < until => true,
            Some(_) => {
                s.1 = None;
                info!("fallback period over; trying the direct mode again");
                false
            }
            None => false,
        })
    }
}

struct FallbackObserver(Arc<FallbackState>);

impl ConnectionObserver for FallbackObserver {
    fn report(&self, _ttwid: Option<&str>, event: &FeedbackEvent) {
        match event {
            FeedbackEvent::Rejected(r) if r.disables_direct() => self.0.trip("disable_web_direct"),
            FeedbackEvent::Rejected(_) => self.0.failure("socket refused"),
            FeedbackEvent::Closed { early: true, .. } => self.0.failure("socket closed early"),
            FeedbackEvent::Closed { early: false, .. } => self.0.healthy(),
            _ => {}
        }
    }
}

/// Direct first, another [`Signer`] (Euler) as the fallback.
///
/// In [`SignerMode::Auto`]:
/// * a direct [`sign`](Signer::sign) error for which the filter holds (by default every error
///   but [`SignError::InvalidRequest`]) is logged and the fallback signs instead;
/// * the direct connection's [`feedback`](SignedConnection::feedback) is watched: after
///   [`rejections_before_fallback`](FallbackSignerBuilder::rejections_before_fallback)
///   consecutive failures (refused upgrades, sockets closed early, failed signs), or at once on
///   a `close_reason` of `disable_web_direct`, the fallback is used for
///   [`direct_retry_after`](FallbackSignerBuilder::direct_retry_after) (10 min by default),
///   then direct is tried again. A socket that lived past the early-close threshold resets the
///   count.
///
/// [`resolve_room_id`](Signer::resolve_room_id) follows the same order.
///
/// ```no_run
/// # async fn demo() -> Result<(), ttlive_signer::SignError> {
/// use std::sync::Arc;
/// use ttlive_signer::{DirectSigner, EulerSigner, FallbackSigner, Signer, SignerMode};
///
/// let signer: Arc<dyn Signer> = Arc::new(
///     FallbackSigner::builder(DirectSigner::builder().build()?, EulerSigner::new()?)
///         .mode("auto".parse::<SignerMode>()?)
///         .build(),
/// );
/// # let _ = signer; Ok(()) }
/// ```
pub struct FallbackSigner {
    direct: Arc<dyn Signer>,
    fallback: Arc<dyn Signer>,
    mode: SignerMode,
    filter: Arc<ErrorFilter>,
    state: Arc<FallbackState>,
}

impl fmt::Debug for FallbackSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackSigner")
            .field("mode", &self.mode)
            .field("threshold", &self.state.threshold)
            .field("cooldown", &self.state.cooldown)
            .field("falling_back", &self.state.falling_back())
            .finish_non_exhaustive()
    }
}

/// Configures a [`FallbackSigner`]; see [`FallbackSigner::builder`].
pub struct FallbackSignerBuilder {
    direct: Arc<dyn Signer>,
    fallback: Arc<dyn Signer>,
    mode: SignerMode,
    filter: Arc<ErrorFilter>,
    threshold: u32,
    cooldown: Duration,
}

impl fmt::Debug for FallbackSignerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FallbackSignerBuilder")
            .field("mode", &self.mode)
            .field("threshold", &self.threshold)
            .field("cooldown", &self.cooldown)
            .finish_non_exhaustive()
    }
}

impl FallbackSignerBuilder {
    /// The mode (default [`SignerMode::Auto`]).
    pub fn mode(mut self, mode: SignerMode) -> Self {
        self.mode = mode;
        self
    }

    /// Which direct sign errors send the request to the fallback (default: all but
    /// [`SignError::InvalidRequest`]).
    pub fn fallback_on(
        mut self,
        filter: impl Fn(&SignError) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.filter = Arc::new(filter);
        self
    }

    /// Consecutive direct failures after which the fallback is used for a while (default 3).
    pub fn rejections_before_fallback(mut self, n: u32) -> Self {
        self.threshold = n.max(1);
        self
    }

    /// How long the fallback is used before direct is tried again (default 10 minutes).
    pub fn direct_retry_after(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Builds the signer.
    pub fn build(self) -> FallbackSigner {
        FallbackSigner {
            direct: self.direct,
            fallback: self.fallback,
            mode: self.mode,
            filter: self.filter,
            state: Arc::new(FallbackState {
                threshold: self.threshold,
                cooldown: self.cooldown,
                state: Mutex::new((0, None)),
            }),
        }
    }
}

impl FallbackSigner {
    /// A builder: `direct` first, `fallback` (an [`EulerSigner`](crate::EulerSigner)) second.
    pub fn builder(
        direct: impl Signer + 'static,
        fallback: impl Signer + 'static,
    ) -> FallbackSignerBuilder {
        Self::builder_shared(Arc::new(direct), Arc::new(fallback))
    }

    /// A builder from shared signers.
    pub fn builder_shared(
        direct: Arc<dyn Signer>,
        fallback: Arc<dyn Signer>,
    ) -> FallbackSignerBuilder {
        FallbackSignerBuilder {
            direct,
            fallback,
            mode: SignerMode::Auto,
            filter: Arc::new(|e: &SignError| !matches!(e, SignError::InvalidRequest(_))),
            threshold: 3,
            cooldown: Duration::from_secs(600),
        }
    }

    /// The mode.
    pub fn mode(&self) -> SignerMode {
        self.mode
    }

    /// True while [`SignerMode::Auto`] uses the fallback without trying direct.
    pub fn is_falling_back(&self) -> bool {
        self.mode == SignerMode::Euler
            || (self.mode == SignerMode::Auto && self.state.falling_back())
    }
}

#[async_trait]
impl Signer for FallbackSigner {
    async fn sign(&self, request: &SignRequest) -> Result<SignedConnection, SignError> {
        match self.mode {
            SignerMode::Euler => return self.fallback.sign(request).await,
            SignerMode::Direct => return self.direct.sign(request).await,
            _ => {}
        }
        if self.state.falling_back() {
            return self.fallback.sign(request).await;
        }
        match self.direct.sign(request).await {
            Ok(mut conn) => {
                conn.feedback = conn
                    .feedback
                    .with_observer(Arc::new(FallbackObserver(self.state.clone())));
                Ok(conn)
            }
            Err(e) if (self.filter)(&e) => {
                warn!(error = %e, "direct mode failed; signing with the fallback");
                self.state.failure("sign failed");
                self.fallback.sign(request).await
            }
            Err(e) => Err(e),
        }
    }

    async fn resolve_room_id(&self, unique_id: &str) -> Result<RoomIdInfo, SignError> {
        match self.mode {
            SignerMode::Euler => return self.fallback.resolve_room_id(unique_id).await,
            SignerMode::Direct => return self.direct.resolve_room_id(unique_id).await,
            _ => {}
        }
        match self.direct.resolve_room_id(unique_id).await {
            Ok(info) => Ok(info),
            Err(e) if e.is_retryable() && (self.filter)(&e) => {
                warn!(error = %e, "room-id lookup on TikTok failed; asking the fallback signer");
                self.fallback.resolve_room_id(unique_id).await
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_modes_parse() {
        assert_eq!("EU".parse::<DirectHost>().unwrap(), DirectHost::Eu);
        assert_eq!(
            "ws://127.0.0.1:9"
                .parse::<DirectHost>()
                .unwrap()
                .socket_url()
                .unwrap()
                .as_str(),
            "ws://127.0.0.1:9/webcast/im/ws_proxy/ws_reuse_supplement/"
        );
        assert!("ftp://x".parse::<DirectHost>().is_err());
        assert!("nonsense".parse::<DirectHost>().is_err());
        assert_eq!("Auto".parse::<SignerMode>().unwrap(), SignerMode::Auto);
        assert_eq!("euler".parse::<SignerMode>().unwrap(), SignerMode::Euler);
        assert!("both".parse::<SignerMode>().is_err());
    }

    #[test]
    fn rejections_classify() {
        let r = Rejection::handshake(200, Some(" DEVICE_BLOCKED "), Some("415"));
        assert!(r.is_device_blocked() && r.replaces_ttwid() && !r.disables_direct());
        assert_eq!(
            r.to_string(),
            "upgrade refused with HTTP 200, Handshake-Msg \"DEVICE_BLOCKED\", Handshake-Status 415"
        );
        let c = Rejection::close_frame("disable_web_direct");
        assert!(c.disables_direct() && !c.replaces_ttwid());
        let none = ConnectionFeedback::default();
        assert!(!none.is_active());
        none.report_rejected(r); // no-op, no panic
    }

    #[test]
    fn handles_are_normalized() {
        assert_eq!(normalize_unique_id("@a.b_c").unwrap(), "a.b_c");
        assert!(normalize_unique_id("a&b").is_err());
        assert!(validate_room_id("12x").is_err());
    }
}
