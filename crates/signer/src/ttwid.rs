//! Where the anonymous `ttwid` cookie of a direct connection comes from (direct-connect.md §1.3,
//! §2, §4 "4.4"), and the one process-wide cache that hands it out.
//!
//! * [`TtwidSource`]: one way to obtain a `ttwid`; implementations:
//!   * [`PageTtwid`]: a plain `GET` of TikTok's home page (or `/live`), reading `Set-Cookie`,
//!     retried when the answer comes back without one (TikTok sometimes answers 200 with no
//!     cookie);
//!   * [`UnionRegisterTtwid`]: ByteDance's `POST /ttwid/union/register/` (aid 1768);
//!   * [`StaticTtwid`]: a value the user supplies.
//! * [`TtwidCache`]: one value shared by every room of a process: single flight (concurrent rooms
//!   cause one request), a lifetime (2 hours by default), and replacement — together with the
//!   [`BrowserPreset`] (user agent) that obtained it — when the socket refuses it
//!   ([`TtwidCache::report_rejected`], [`TtwidCache::invalidate`]). A user-supplied value
//!   ([`TtwidCacheBuilder::user_ttwid`]) always wins and is never replaced.
//! * [`BrowserPreset`]: a user agent and the `browser_*` query values derived from it, so the two
//!   never disagree.

use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use bytes::BytesMut;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, SET_COOKIE, USER_AGENT};
use reqwest::{StatusCode, Url};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use crate::error::{SignError, TimeoutPhase, sanitize_text};
use crate::retry::parse_rate_limit_headers;

/// How long a fetched `ttwid` is used before a fresh one is fetched (2 hours, as rust-srec does:
/// a `ttwid` lives far longer, but refreshing keeps a rate-limited ("burned") one from sticking).
pub const DEFAULT_TTWID_LIFETIME: Duration = Duration::from_secs(2 * 60 * 60);
/// TikTok's home page, the default [`PageTtwid`] URL.
pub const DEFAULT_HOME_URL: &str = "https://www.tiktok.com/";
/// TikTok's LIVE page, an alternative [`PageTtwid`] URL.
pub const DEFAULT_LIVE_URL: &str = "https://www.tiktok.com/live";
/// ByteDance's union-register endpoint, the default [`UnionRegisterTtwid`] URL.
pub const DEFAULT_UNION_REGISTER_URL: &str = "https://ttwid.bytedance.com/ttwid/union/register/";
/// Default number of `GET`s a [`PageTtwid`] makes before giving up on a cookie-less answer.
pub const DEFAULT_PAGE_ATTEMPTS: u32 = 8;
/// Default pause between two [`PageTtwid`] attempts.
pub const DEFAULT_PAGE_RETRY_DELAY: Duration = Duration::from_millis(750);

/// Longest `ttwid` value accepted (real ones are about 150 characters).
const MAX_TTWID_LEN: usize = 2048;
/// Largest response body read from a `ttwid` source (the body itself is not used).
const MAX_SOURCE_BODY: usize = 4 * 1024 * 1024;
const HTTP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const HTTP_REQUEST_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------------------------------------
// Browser presets

/// A browser identity: the `User-Agent` header and the `browser_*` / screen / time-zone query
/// values of a direct socket URL (direct-connect.md §1.4), all from one place so they never
/// disagree (all-chat and nglmercer found UA/param disagreement punished on TikTok's HTTP
/// endpoints).
///
/// `browser_name` and `browser_version` are derived from the user agent (`Mozilla` and the user
/// agent minus its `Mozilla/` prefix), exactly as the web player does.
///
/// ```
/// use ttlive_signer::BrowserPreset;
///
/// let p = BrowserPreset::chrome_windows();
/// assert_eq!(p.browser_platform(), "Win32");
/// assert_eq!(p.browser_name(), "Mozilla");
/// assert_eq!(format!("Mozilla/{}", p.browser_version()), p.user_agent());
/// let mac = BrowserPreset::from_user_agent(BrowserPreset::chrome_macos().user_agent());
/// assert_eq!(mac.browser_platform(), "MacIntel");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowserPreset {
    user_agent: String,
    browser_platform: String,
    browser_language: String,
    screen_width: u32,
    screen_height: u32,
    tz_name: String,
}

/// Chrome 142 on Windows, the user agent rust-srec's direct mode uses.
const UA_CHROME_WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36";
const UA_CHROME_MACOS: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
     AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36";
const UA_CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like \
     Gecko) Chrome/142.0.0.0 Safari/537.36";

impl BrowserPreset {
    /// Chrome 142 on Windows (`browser_platform=Win32`), the default (direct-connect.md §1.5).
    pub fn chrome_windows() -> Self {
        Self::from_user_agent(UA_CHROME_WINDOWS)
    }

    /// Chrome 142 on macOS (`browser_platform=MacIntel`).
    pub fn chrome_macos() -> Self {
        Self::from_user_agent(UA_CHROME_MACOS)
    }

    /// Chrome 142 on Linux (`browser_platform=Linux x86_64`).
    pub fn chrome_linux() -> Self {
        Self::from_user_agent(UA_CHROME_LINUX)
    }

    /// The built-in presets, in the order a [`TtwidCache`] rotates through them.
    pub fn builtin() -> Vec<Self> {
        vec![
            Self::chrome_windows(),
            Self::chrome_macos(),
            Self::chrome_linux(),
        ]
    }

    /// A preset for any user agent (e.g. the browser a user copied a `ttwid` from). The platform
    /// is derived from it: `Macintosh`/`Mac OS` → `MacIntel`, `Linux`/`X11`/`CrOS` →
    /// `Linux x86_64`, anything else → `Win32`. Control characters are removed; an empty user
    /// agent gives [`chrome_windows`](Self::chrome_windows).
    pub fn from_user_agent(user_agent: &str) -> Self {
        let ua: String = user_agent
            .trim()
            .chars()
            .filter(|c| !c.is_control())
            .take(512)
            .collect();
        if ua.is_empty() {
            return Self::from_user_agent(UA_CHROME_WINDOWS);
        }
        let platform = if ua.contains("Macintosh") || ua.contains("Mac OS") {
            "MacIntel"
        } else if ua.contains("Linux") || ua.contains("X11") || ua.contains("CrOS") {
            "Linux x86_64"
        } else {
            "Win32"
        };
        Self {
            user_agent: ua,
            browser_platform: platform.to_owned(),
            browser_language: "en-US".to_owned(),
            screen_width: 1920,
            screen_height: 1080,
            tz_name: "UTC".to_owned(),
        }
    }

    /// Sets `browser_language` (default `en-US`).
    pub fn with_browser_language(mut self, language: impl Into<String>) -> Self {
        self.browser_language = language.into();
        self
    }

    /// Sets `screen_width` and `screen_height` (default 1920 × 1080).
    pub fn with_screen(mut self, width: u32, height: u32) -> Self {
        self.screen_width = width;
        self.screen_height = height;
        self
    }

    /// Sets `tz_name` (default `UTC`).
    pub fn with_tz_name(mut self, tz_name: impl Into<String>) -> Self {
        self.tz_name = tz_name.into();
        self
    }

    /// The `User-Agent` header value.
    pub fn user_agent(&self) -> &str {
        &self.user_agent
    }

    /// `browser_platform` (`Win32`, `MacIntel`, `Linux x86_64`).
    pub fn browser_platform(&self) -> &str {
        &self.browser_platform
    }

    /// `browser_name`: the user agent's product token (`Mozilla`).
    pub fn browser_name(&self) -> &str {
        self.user_agent
            .split_once('/')
            .map_or("Mozilla", |(name, _)| name)
    }

    /// `browser_version`: the user agent minus its `Mozilla/` prefix.
    pub fn browser_version(&self) -> &str {
        self.user_agent
            .split_once('/')
            .map_or(self.user_agent.as_str(), |(_, version)| version)
    }

    /// `browser_language` (e.g. `en-US`).
    pub fn browser_language(&self) -> &str {
        &self.browser_language
    }

    /// `screen_width`.
    pub fn screen_width(&self) -> u32 {
        self.screen_width
    }

    /// `screen_height`.
    pub fn screen_height(&self) -> u32 {
        self.screen_height
    }

    /// `tz_name` (e.g. `UTC`).
    pub fn tz_name(&self) -> &str {
        &self.tz_name
    }
}

impl Default for BrowserPreset {
    fn default() -> Self {
        Self::chrome_windows()
    }
}

// ---------------------------------------------------------------------------------------------
// Shared HTTP helpers (also used by the direct signer)

/// A rustls client configuration with the `ring` provider and the webpki (Mozilla) roots (the
/// same setup as the Euler client: no OpenSSL, no aws-lc).
fn rustls_ring_config() -> Result<rustls::ClientConfig, SignError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SignError::Config(format!("TLS setup failed: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The HTTP client of the direct mode: rustls/ring, no redirects followed (the cookie is on the
/// first answer), no cookie store, bounded timeouts.
pub(crate) fn direct_http_client(no_proxy: bool) -> Result<reqwest::Client, SignError> {
    let mut builder = reqwest::Client::builder()
        .tls_backend_preconfigured(rustls_ring_config()?)
        .connect_timeout(HTTP_CONNECT_TIMEOUT)
        .timeout(HTTP_REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    if no_proxy {
        builder = builder.no_proxy();
    }
    builder.build().map_err(|e| {
        SignError::Config(format!("cannot build the HTTP client: {}", e.without_url()))
    })
}

/// Parses an `http`/`https` URL; returns it and its `host[:port]` for errors and logs.
pub(crate) fn parse_http_url(url: &str, what: &str) -> Result<(Url, String), SignError> {
    let url =
        Url::parse(url.trim()).map_err(|e| SignError::Config(format!("invalid {what}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SignError::Config(format!(
            "the {what} must be http or https, not {:?}",
            url.scheme()
        )));
    }
    let host = host_of(&url).ok_or_else(|| SignError::Config(format!("the {what} has no host")))?;
    Ok((url, host))
}

/// `host` or `host:port` of a URL (never userinfo, path or query).
pub(crate) fn host_of(url: &Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

/// Maps a transport failure to its [`SignError`] (the URL removed from the source).
pub(crate) fn transport_error(host: &str, e: reqwest::Error) -> SignError {
    let host = host.to_owned();
    let source = e.without_url();
    if source.is_timeout() {
        let phase = if source.is_connect() {
            TimeoutPhase::Connect
        } else {
            TimeoutPhase::Response
        };
        SignError::Timeout {
            phase,
            host,
            source,
        }
    } else if source.is_connect() {
        SignError::Connect { host, source }
    } else {
        SignError::Http { host, source }
    }
}

/// One response, body read in full (capped).
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: bytes::Bytes,
}

/// Sends a request and reads the whole body (at most `max` bytes).
pub(crate) async fn send(
    host: &str,
    builder: reqwest::RequestBuilder,
    max: usize,
) -> Result<Answer, SignError> {
    let mut response = builder.send().await.map_err(|e| transport_error(host, e))?;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    if response.content_length().is_some_and(|l| l > max as u64) {
        return Err(SignError::BodyTooLarge {
            max,
            request_id: None,
        });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(host, e))?
    {
        if body.len().saturating_add(chunk.len()) > max {
            return Err(SignError::BodyTooLarge {
                max,
                request_id: None,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        body: body.freeze(),
    })
}

/// Maps a non-success status of a TikTok endpoint to its error: 429 (with the delay the headers
/// give), 5xx, anything else.
pub(crate) fn status_error(answer: &Answer, what: &str) -> SignError {
    let status = answer.status.as_u16();
    let body = sanitize_text(&String::from_utf8_lossy(&answer.body), &[]);
    let limits = parse_rate_limit_headers(&answer.headers, std::time::SystemTime::now());
    let message = Some(format!("{what} answered HTTP {status}"));
    match status {
        429 => SignError::RateLimited {
            limit_label: None,
            message,
            retry_after: limits.retry_after,
            remaining: limits.remaining,
            request_id: None,
        },
        500..=599 => SignError::Server {
            status,
            message,
            body,
            request_id: None,
            retry_after: limits.retry_after,
        },
        _ => SignError::UnexpectedStatus {
            status,
            message,
            body,
            request_id: None,
        },
    }
}

/// A `User-Agent` header value, or a configuration error for one that cannot be sent.
fn ua_header(user_agent: &str) -> Result<HeaderValue, SignError> {
    HeaderValue::from_str(user_agent).map_err(|_| {
        SignError::InvalidRequest(
            "the user agent contains characters not allowed in a header".into(),
        )
    })
}

/// Checks a `ttwid` value: non-empty, bounded, and safe inside a `Cookie` header.
pub(crate) fn valid_ttwid(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_TTWID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'"' | b'\\'))
}

/// The `ttwid` of the response's `Set-Cookie` headers (the first valid one), if any.
pub(crate) fn ttwid_from_set_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| {
            let pair = v.split(';').next()?;
            let (name, value) = pair.split_once('=')?;
            (name.trim() == "ttwid").then(|| value.trim().trim_matches('"').to_owned())
        })
        .find(|v| valid_ttwid(v))
}

/// A short, non-identifying form of a `ttwid` for logs: its length and last 4 characters.
pub(crate) fn ttwid_hint(value: &str) -> String {
    let tail: String = value
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("{} chars …{tail}", value.len())
}

// ---------------------------------------------------------------------------------------------
// Sources

/// One way to obtain an anonymous `ttwid` cookie value.
///
/// Implementations: [`PageTtwid`], [`UnionRegisterTtwid`], [`StaticTtwid`]; any other (a pool, a
/// file, a browser extension) can be plugged into a [`TtwidCache`].
#[async_trait]
pub trait TtwidSource: Send + Sync + fmt::Debug {
    /// A short name for logs (`home`, `union_register`, `user`).
    fn name(&self) -> &str;

    /// Obtains a `ttwid` value, making the request with this user agent (keep using the same
    /// user agent with the value). Errors say whether to retry
    /// ([`SignError::is_retryable`]); a cookie-less answer is [`SignError::MissingCookies`].
    async fn fetch(&self, user_agent: &str) -> Result<String, SignError>;
}

/// `GET` of a TikTok page (the home page by default, or `/live`) whose `Set-Cookie` carries a
/// `ttwid` (PirateTok's and nglmercer's route). Redirects are not followed. An answer without the
/// cookie (TikTok's "BOOTSTRAP_NO_COOKIES") is retried up to [`attempts`](Self::attempts) times,
/// [`retry_delay`](Self::retry_delay) apart.
#[derive(Clone, Debug)]
pub struct PageTtwid {
    url: Url,
    host: String,
    client: reqwest::Client,
    attempts: u32,
    retry_delay: Duration,
    name: String,
}

impl PageTtwid {
    /// `GET https://www.tiktok.com/`.
    pub fn home() -> Result<Self, SignError> {
        Self::new(DEFAULT_HOME_URL)
    }

    /// `GET https://www.tiktok.com/live`.
    pub fn live() -> Result<Self, SignError> {
        Self::new(DEFAULT_LIVE_URL)
    }

    /// `GET` of any page (e.g. `http://127.0.0.1:PORT/` in tests). Fails with
    /// [`SignError::Config`] on a URL that is not http(s).
    pub fn new(url: &str) -> Result<Self, SignError> {
        let (url, host) = parse_http_url(url, "ttwid page URL")?;
        let name = if url.path().trim_end_matches('/').ends_with("/live") {
            "live_page"
        } else {
            "home_page"
        };
        Ok(Self {
            url,
            host,
            client: direct_http_client(false)?,
            attempts: DEFAULT_PAGE_ATTEMPTS,
            retry_delay: DEFAULT_PAGE_RETRY_DELAY,
            name: name.to_owned(),
        })
    }

    /// How many `GET`s to make before giving up on cookie-less answers (default 8, at least 1).
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The pause between two attempts (default 750 ms).
    pub fn retry_delay(mut self, delay: Duration) -> Self {
        self.retry_delay = delay;
        self
    }

    /// Uses this HTTP client (proxies, timeouts); it should not follow redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// Ignores proxy environment variables (rebuilds the default client).
    pub fn no_proxy(mut self) -> Result<Self, SignError> {
        self.client = direct_http_client(true)?;
        Ok(self)
    }

    /// The page URL.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

#[async_trait]
impl TtwidSource for PageTtwid {
    fn name(&self) -> &str {
        &self.name
    }

    async fn fetch(&self, user_agent: &str) -> Result<String, SignError> {
        let ua = ua_header(user_agent)?;
        let mut last: Option<SignError> = None;
        for attempt in 1..=self.attempts {
            if attempt > 1 {
                tokio::time::sleep(self.retry_delay).await;
            }
            let request = self
                .client
                .get(self.url.clone())
                .header(USER_AGENT, ua.clone())
                .header(
                    "accept",
                    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
                )
                .header("accept-language", "en-US,en;q=0.9");
            let answer = match send(&self.host, request, MAX_SOURCE_BODY).await {
                Ok(a) => a,
                Err(e) if e.is_retryable() && attempt < self.attempts => {
                    debug!(source = %self.name, attempt, error = %e, "ttwid page request failed; retrying");
                    last = Some(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            // A cookie is taken from any answer that carries one (a redirect included).
            if let Some(ttwid) = ttwid_from_set_cookie(&answer.headers) {
                debug!(source = %self.name, attempt, ttwid = %ttwid_hint(&ttwid), "ttwid obtained");
                return Ok(ttwid);
            }
            let error = if answer.status.is_success() || answer.status.is_redirection() {
                SignError::MissingCookies { request_id: None }
            } else {
                status_error(&answer, "the ttwid page")
            };
            if !error.is_retryable() {
                return Err(error);
            }
            debug!(source = %self.name, attempt, status = answer.status.as_u16(), "ttwid page answered without a ttwid cookie");
            last = Some(error);
        }
        Err(last.unwrap_or(SignError::MissingCookies { request_id: None }))
    }
}

/// ByteDance's union-register endpoint (rust-srec's route): `POST
/// https://ttwid.bytedance.com/ttwid/union/register/` with the JSON body `{"region":"va",
/// "aid":1768,"needFid":false,"service":"https://www.tiktok.com","migrate_priority":0,
/// "cbUrlProtocol":"https","misleep":100}`; the value comes from `Set-Cookie: ttwid=…`. (The
/// webcast aid 1988 is said to be rejected by this endpoint.)
#[derive(Clone, Debug)]
pub struct UnionRegisterTtwid {
    url: Url,
    host: String,
    client: reqwest::Client,
}

impl UnionRegisterTtwid {
    /// The endpoint at its default URL.
    pub fn new() -> Result<Self, SignError> {
        Self::with_url(DEFAULT_UNION_REGISTER_URL)
    }

    /// The endpoint at another URL (e.g. `http://127.0.0.1:PORT/ttwid/union/register/`).
    pub fn with_url(url: &str) -> Result<Self, SignError> {
        let (url, host) = parse_http_url(url, "ttwid register URL")?;
        Ok(Self {
            url,
            host,
            client: direct_http_client(false)?,
        })
    }

    /// Uses this HTTP client.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self
    }

    /// Ignores proxy environment variables (rebuilds the default client).
    pub fn no_proxy(mut self) -> Result<Self, SignError> {
        self.client = direct_http_client(true)?;
        Ok(self)
    }

    /// The endpoint URL.
    pub fn url(&self) -> &Url {
        &self.url
    }
}

#[async_trait]
impl TtwidSource for UnionRegisterTtwid {
    fn name(&self) -> &str {
        "union_register"
    }

    async fn fetch(&self, user_agent: &str) -> Result<String, SignError> {
        let body = serde_json::json!({
            "region": "va",
            "aid": 1768,
            "needFid": false,
            "service": "https://www.tiktok.com",
            "migrate_priority": 0,
            "cbUrlProtocol": "https",
            "misleep": 100,
        })
        .to_string();
        let request = self
            .client
            .post(self.url.clone())
            .header(USER_AGENT, ua_header(user_agent)?)
            .header(CONTENT_TYPE, "application/json")
            .body(body);
        let answer = send(&self.host, request, MAX_SOURCE_BODY).await?;
        if let Some(ttwid) = ttwid_from_set_cookie(&answer.headers) {
            debug!(ttwid = %ttwid_hint(&ttwid), "ttwid registered");
            return Ok(ttwid);
        }
        if answer.status.is_success() {
            Err(SignError::MissingCookies { request_id: None })
        } else {
            Err(status_error(&answer, "the ttwid register endpoint"))
        }
    }
}

/// A `ttwid` the user supplies (copied from a browser, or from another tool). It is returned as
/// is, for any user agent.
#[derive(Clone)]
pub struct StaticTtwid {
    value: String,
}

impl StaticTtwid {
    /// Wraps a value; a leading `ttwid=` is removed. Fails with [`SignError::Config`] when the
    /// value is empty or cannot go into a `Cookie` header.
    pub fn new(value: impl AsRef<str>) -> Result<Self, SignError> {
        let v = value.as_ref().trim();
        let v = v.strip_prefix("ttwid=").unwrap_or(v).trim();
        if !valid_ttwid(v) {
            return Err(SignError::Config(
                "the ttwid is empty, too long, or has characters a cookie cannot carry".into(),
            ));
        }
        Ok(Self {
            value: v.to_owned(),
        })
    }

    /// The value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for StaticTtwid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTtwid")
            .field("value", &ttwid_hint(&self.value))
            .finish()
    }
}

#[async_trait]
impl TtwidSource for StaticTtwid {
    fn name(&self) -> &str {
        "user"
    }

    async fn fetch(&self, _user_agent: &str) -> Result<String, SignError> {
        Ok(self.value.clone())
    }
}

// ---------------------------------------------------------------------------------------------
// The cache

/// A `ttwid` handed out by a [`TtwidCache`], with the browser identity that obtained it: open
/// the socket with exactly this user agent and these `browser_*` values.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TtwidLease {
    /// The cookie value.
    pub value: String,
    /// The browser identity that obtained it (user agent and `browser_*` params).
    pub preset: BrowserPreset,
    /// Which source gave it (`home_page`, `union_register`, `user`, …).
    pub source: String,
    /// Counts the values this cache has obtained (1 for the first); changes on every
    /// replacement.
    pub generation: u64,
    /// True for a user-supplied value, which is never replaced.
    pub pinned: bool,
}

impl fmt::Debug for TtwidLease {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TtwidLease")
            .field("value", &ttwid_hint(&self.value))
            .field("user_agent", &self.preset.user_agent())
            .field("source", &self.source)
            .field("generation", &self.generation)
            .field("pinned", &self.pinned)
            .finish()
    }
}

#[derive(Debug)]
struct Entry {
    lease: TtwidLease,
    expires: Option<Instant>,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Entry>,
    /// Index into the preset pool of the next (or current) value.
    preset: usize,
    generation: u64,
    fetches: u64,
}

/// One `ttwid` for every room of a process.
///
/// * [`get`](Self::get) returns the cached value while it is younger than the lifetime;
///   otherwise one caller fetches a new one (trying the sources in order) while the others wait
///   for it (single flight). A failed fetch caches nothing.
/// * [`report_rejected`](Self::report_rejected): the socket refused this value
///   (`DEVICE_BLOCKED`, or it died within seconds). If it is still the current one it is
///   dropped and the next [`BrowserPreset`] is taken, so the replacement comes with a new user
///   agent (PirateTok's policy). Reports about an already replaced value are ignored, so many
///   rooms reporting the same refusal cause one replacement.
/// * A user-supplied value ([`TtwidCacheBuilder::user_ttwid`]) always wins: no source is asked,
///   it never expires and is never replaced (a rejection is logged).
///
/// ```no_run
/// # async fn demo() -> Result<(), ttlive_signer::SignError> {
/// use std::sync::Arc;
/// use ttlive_signer::{PageTtwid, TtwidCache, UnionRegisterTtwid};
///
/// let cache = Arc::new(
///     TtwidCache::builder()
///         .source(PageTtwid::home()?)
///         .source(UnionRegisterTtwid::new()?)
///         .build(),
/// );
/// let lease = cache.get().await?;
/// println!("Cookie: ttwid={} with User-Agent: {}", lease.value, lease.preset.user_agent());
/// # Ok(()) }
/// ```
pub struct TtwidCache {
    sources: Vec<Arc<dyn TtwidSource>>,
    user: Option<(StaticTtwid, BrowserPreset)>,
    presets: Vec<BrowserPreset>,
    lifetime: Duration,
    state: Mutex<State>,
    fetch_lock: tokio::sync::Mutex<()>,
}

impl fmt::Debug for TtwidCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sources: Vec<&str> = self.sources.iter().map(|s| s.name()).collect();
        f.debug_struct("TtwidCache")
            .field("sources", &sources)
            .field("user_ttwid", &self.user.is_some())
            .field("presets", &self.presets.len())
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// Configures a [`TtwidCache`]; see [`TtwidCache::builder`].
#[derive(Debug)]
pub struct TtwidCacheBuilder {
    sources: Vec<Arc<dyn TtwidSource>>,
    user: Option<(StaticTtwid, BrowserPreset)>,
    presets: Vec<BrowserPreset>,
    lifetime: Duration,
}

impl TtwidCacheBuilder {
    /// Adds a source; sources are tried in the order added until one gives a value.
    pub fn source(mut self, source: impl TtwidSource + 'static) -> Self {
        self.sources.push(Arc::new(source));
        self
    }

    /// Adds a shared source.
    pub fn shared_source(mut self, source: Arc<dyn TtwidSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// A user-supplied `ttwid`: it always wins over the sources and is never replaced. It is
    /// used with the first preset ([`presets`](Self::presets)), or with
    /// [`user_ttwid_with_user_agent`](Self::user_ttwid_with_user_agent).
    pub fn user_ttwid(mut self, ttwid: StaticTtwid) -> Self {
        let preset = self.presets.first().cloned().unwrap_or_default();
        self.user = Some((ttwid, preset));
        self
    }

    /// A user-supplied `ttwid` and the user agent of the browser it came from.
    pub fn user_ttwid_with_user_agent(mut self, ttwid: StaticTtwid, user_agent: &str) -> Self {
        self.user = Some((ttwid, BrowserPreset::from_user_agent(user_agent)));
        self
    }

    /// The browser identities to use, in rotation order (default [`BrowserPreset::builtin`]; an
    /// empty list keeps the default).
    pub fn presets(mut self, presets: Vec<BrowserPreset>) -> Self {
        if !presets.is_empty() {
            self.presets = presets;
        }
        self
    }

    /// How long a fetched value is used (default [`DEFAULT_TTWID_LIFETIME`], 2 hours).
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// Builds the cache. Without any source and without a user value, [`TtwidCache::get`]
    /// fails with [`SignError::Config`].
    pub fn build(self) -> TtwidCache {
        TtwidCache {
            sources: self.sources,
            user: self.user,
            presets: self.presets,
            lifetime: self.lifetime,
            state: Mutex::new(State::default()),
            fetch_lock: tokio::sync::Mutex::new(()),
        }
    }
}

impl TtwidCache {
    /// A builder: no sources, the built-in presets, a 2-hour lifetime.
    pub fn builder() -> TtwidCacheBuilder {
        TtwidCacheBuilder {
            sources: Vec::new(),
            user: None,
            presets: BrowserPreset::builtin(),
            lifetime: DEFAULT_TTWID_LIFETIME,
        }
    }

    /// A cache with the default sources against TikTok: the home page (`GET /`, retried), then
    /// the union-register `POST`.
    pub fn with_default_sources() -> Result<Self, SignError> {
        Ok(Self::builder()
            .source(PageTtwid::home()?)
            .source(UnionRegisterTtwid::new()?)
            .build())
    }

    /// The process-wide cache with the default sources, created on first use: what a
    /// [`DirectSigner`](crate::DirectSigner) uses when given no cache, so every signer and room
    /// of the process shares one `ttwid`.
    pub fn global() -> Result<Arc<Self>, SignError> {
        static GLOBAL: OnceLock<Arc<TtwidCache>> = OnceLock::new();
        if let Some(cache) = GLOBAL.get() {
            return Ok(cache.clone());
        }
        let cache = Arc::new(Self::with_default_sources()?);
        Ok(GLOBAL.get_or_init(|| cache).clone())
    }

    /// The configured lifetime.
    pub fn lifetime(&self) -> Duration {
        self.lifetime
    }

    /// How many times a source was asked for a value (successfully or not), for tests and
    /// metrics.
    pub fn fetch_count(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.fetches)
    }

    /// The current value without fetching, if one is cached and not expired.
    pub fn current(&self) -> Option<TtwidLease> {
        if let Some((ttwid, preset)) = &self.user {
            return Some(self.user_lease(ttwid, preset));
        }
        let state = self.state.lock().ok()?;
        Self::valid(&state).cloned()
    }

    fn user_lease(&self, ttwid: &StaticTtwid, preset: &BrowserPreset) -> TtwidLease {
        TtwidLease {
            value: ttwid.value().to_owned(),
            preset: preset.clone(),
            source: "user".to_owned(),
            generation: 1,
            pinned: true,
        }
    }

    fn valid(state: &State) -> Option<&TtwidLease> {
        let entry = state.current.as_ref()?;
        match entry.expires {
            Some(at) if Instant::now() >= at => None,
            _ => Some(&entry.lease),
        }
    }

    /// The shared value: cached, or fetched now (once for all concurrent callers).
    ///
    /// Fails with the last source's error when every source failed (nothing is cached then),
    /// or [`SignError::Config`] when there is no source.
    pub async fn get(&self) -> Result<TtwidLease, SignError> {
        if let Some((ttwid, preset)) = &self.user {
            return Ok(self.user_lease(ttwid, preset));
        }
        if let Some(lease) = self
            .state
            .lock()
            .ok()
            .and_then(|s| Self::valid(&s).cloned())
        {
            return Ok(lease);
        }
        let _flight = self.fetch_lock.lock().await;
        // Another caller may have fetched while this one waited.
        let preset = {
            let state = self
                .state
                .lock()
                .map_err(|_| SignError::Config("the ttwid cache lock is poisoned".into()))?;
            if let Some(lease) = Self::valid(&state) {
                return Ok(lease.clone());
            }
            self.presets
                .get(state.preset % self.presets.len().max(1))
                .cloned()
                .unwrap_or_default()
        };
        if self.sources.is_empty() {
            return Err(SignError::Config(
                "no ttwid source configured (add a source or a user-supplied ttwid)".into(),
            ));
        }
        let mut last = None;
        for source in &self.sources {
            if let Ok(mut s) = self.state.lock() {
                s.fetches += 1;
            }
            match source.fetch(preset.user_agent()).await {
                Ok(value) if valid_ttwid(&value) => {
                    let mut state = self.state.lock().map_err(|_| {
                        SignError::Config("the ttwid cache lock is poisoned".into())
                    })?;
                    state.generation += 1;
                    let lease = TtwidLease {
                        value,
                        preset,
                        source: source.name().to_owned(),
                        generation: state.generation,
                        pinned: false,
                    };
                    info!(
                        source = source.name(),
                        generation = lease.generation,
                        ttwid = %ttwid_hint(&lease.value),
                        "new ttwid obtained"
                    );
                    state.current = Some(Entry {
                        lease: lease.clone(),
                        expires: Instant::now().checked_add(self.lifetime),
                    });
                    return Ok(lease);
                }
                Ok(_) => {
                    warn!(
                        source = source.name(),
                        "ttwid source gave an unusable value"
                    );
                    last = Some(SignError::MissingCookies { request_id: None });
                }
                Err(e) => {
                    warn!(source = source.name(), error = %e, "ttwid source failed");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or(SignError::MissingCookies { request_id: None }))
    }

    /// Drops the current value (whatever it is) and moves to the next browser preset: the next
    /// [`get`](Self::get) fetches a new value with a new user agent. No effect on a
    /// user-supplied value.
    pub fn invalidate(&self) {
        if self.user.is_some() {
            warn!("the user-supplied ttwid was invalidated; it is kept (it always wins)");
            return;
        }
        if let Ok(mut state) = self.state.lock() {
            if state.current.take().is_some() {
                state.preset = state.preset.wrapping_add(1);
                info!("ttwid invalidated; the next one will use a new user agent");
            }
        }
    }

    /// The socket refused `ttwid` (e.g. `Handshake-Msg: DEVICE_BLOCKED`, or it died within
    /// seconds). Replaces it (and its user agent) if it is still the current value; returns
    /// whether it did. A user-supplied value is never replaced.
    pub fn report_rejected(&self, ttwid: &str) -> bool {
        if let Some((user, _)) = &self.user {
            if user.value() == ttwid {
                warn!("the socket refused the user-supplied ttwid; it is kept (it always wins)");
            }
            return false;
        }
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let is_current = state
            .current
            .as_ref()
            .is_some_and(|e| e.lease.value == ttwid);
        if is_current {
            state.current = None;
            state.preset = state.preset.wrapping_add(1);
            info!(ttwid = %ttwid_hint(ttwid), "ttwid rejected by the socket; it will be replaced with a new user agent");
        }
        is_current
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_cookie_parsing_takes_the_first_valid_ttwid() {
        let mut h = HeaderMap::new();
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("tt_chain_token=abc; Path=/"),
        );
        h.append(SET_COOKIE, HeaderValue::from_static("ttwid=; Path=/"));
        h.append(
            SET_COOKIE,
            HeaderValue::from_static("ttwid=1%7Cxyz%7C123; Domain=.tiktok.com; Path=/; HttpOnly"),
        );
        assert_eq!(ttwid_from_set_cookie(&h).as_deref(), Some("1%7Cxyz%7C123"));
        assert_eq!(ttwid_from_set_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn static_values_are_validated_and_hidden() {
        assert!(StaticTtwid::new("").is_err());
        assert!(StaticTtwid::new("a b").is_err());
        assert!(StaticTtwid::new("a;b").is_err());
        let s = StaticTtwid::new("ttwid=1%7Csecretvalue").unwrap();
        assert_eq!(s.value(), "1%7Csecretvalue");
        assert!(!format!("{s:?}").contains("secretvalue"));
    }

    #[test]
    fn presets_agree_with_their_user_agent() {
        for p in BrowserPreset::builtin() {
            assert_eq!(
                format!("{}/{}", p.browser_name(), p.browser_version()),
                p.user_agent()
            );
        }
        assert_eq!(
            BrowserPreset::from_user_agent(UA_CHROME_LINUX).browser_platform(),
            "Linux x86_64"
        );
        assert_eq!(
            BrowserPreset::from_user_agent("").user_agent(),
            UA_CHROME_WINDOWS
        );
        assert_eq!(
            BrowserPreset::from_user_agent("curl").browser_version(),
            "curl"
        );
    }
}
