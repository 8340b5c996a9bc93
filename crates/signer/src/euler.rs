//! [`EulerSigner`]: the Euler Stream sign-server client (or any server speaking its contract).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{StatusCode, Url};
use tracing::{debug, warn};

use crate::error::{BodyDecodeError, ExpectedBody, SignError, redact, sanitize_text};
use crate::ratelimit::RateLimiter;
use crate::retry::parse_rate_limit_headers;
use crate::secret::Secret;
use crate::signer::Signer;
use crate::types::{
    Cookie, DEFAULT_USER_AGENT, RoomIdInfo, SignRequest, SignedConnection, parse_cookie_header,
};

/// The Euler Stream API, used when neither the builder nor env `SIGN_API_URL` names a server.
pub const DEFAULT_BASE_URL: &str = "https://api.eulerstream.com";
/// The `client=` query value identifying this library to the sign server.
pub const CLIENT_ID: &str = "ttlive-rust";
/// Default largest response body accepted (a healthy fetch result is tens of KB).
pub const DEFAULT_MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Default TCP/TLS connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default timeout for each read of the response.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Default timeout for a whole request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(45);

/// Env var naming the sign server base URL (same name as the Node and Python references).
pub const ENV_SIGN_API_URL: &str = "SIGN_API_URL";
/// Env var holding the sign server API key.
pub const ENV_SIGN_API_KEY: &str = "SIGN_API_KEY";
/// Env var listing (comma-separated) the signer hosts a TikTok session may be sent to.
pub const ENV_SESSION_HOST_ALLOWLIST: &str = "WHITELIST_AUTHENTICATED_SESSION_ID_HOST";

const X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");
const X_COOKIE_HEADER: HeaderName = HeaderName::from_static("x-cookie-header");
const ACCEPT_SIGN: &str = "application/protobuf,application/json";
const MAX_HEADER_TEXT: usize = 128;
const MAX_PREVIEW: usize = 256;

/// Which sign route to call (protocol.md §5.2). Both return the same body and headers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignRoute {
    /// `GET /webcast/rooms/{room_id}/connect` (current Euler API); room-id lookups use
    /// `GET /webcast/anchors/{unique_id}/room_id`.
    #[default]
    Connect,
    /// `GET /webcast/fetch?room_id={room_id}` (legacy API, still served by older and self-hosted
    /// signers); room-id lookups use `GET /webcast/room_id?uniqueId={unique_id}`.
    LegacyFetch,
}

/// A [`Signer`] backed by the Euler Stream HTTP API, or by any server with the same contract
/// (a self-hosted signer, a fake server in tests) at another base URL.
///
/// Cheap to clone: clones share one pooled HTTP client and one [`RateLimiter`].
///
/// ```no_run
/// # async fn demo() -> Result<(), ttlive_signer::SignError> {
/// use ttlive_signer::{EulerSigner, SignRequest, Signer};
///
/// let signer = EulerSigner::builder().api_key("my-key").build()?;
/// let connection = signer.sign(&SignRequest::new("7312345678901234567")).await?;
/// println!("open {} with cookies {}", connection.push_server, connection.cookie_header());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct EulerSigner {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    client: reqwest::Client,
    base_url: Url,
    /// `host` or `host:port` of the base URL, for errors and logs (never userinfo or path).
    host: String,
    api_key: Option<Secret>,
    route: SignRoute,
    client_id: String,
    default_user_agent: String,
    session_hosts: Vec<String>,
    limiter: Arc<RateLimiter>,
    max_body_bytes: usize,
}

/// Configures an [`EulerSigner`]. Every setting has a default; see [`EulerSigner::builder`].
#[derive(Debug)]
pub struct EulerSignerBuilder {
    base_url: Option<String>,
    api_key: Option<Secret>,
    route: SignRoute,
    client_id: String,
    default_user_agent: String,
    connect_timeout: Duration,
    read_timeout: Duration,
    request_timeout: Duration,
    session_hosts: Vec<String>,
    limiter: Option<Arc<RateLimiter>>,
    http_client: Option<reqwest::Client>,
    max_body_bytes: usize,
    use_env: bool,
    no_proxy: bool,
    proxy: Option<String>,
}

impl Default for EulerSignerBuilder {
    fn default() -> Self {
        Self {
            base_url: None,
            api_key: None,
            route: SignRoute::default(),
            client_id: CLIENT_ID.to_owned(),
            default_user_agent: DEFAULT_USER_AGENT.to_owned(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            session_hosts: Vec::new(),
            limiter: None,
            http_client: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            use_env: true,
            no_proxy: false,
            proxy: None,
        }
    }
}

impl EulerSignerBuilder {
    /// The sign server base URL (scheme, host, optional port and path prefix), e.g.
    /// `https://api.eulerstream.com` or `http://127.0.0.1:8080/signer`. Default: env
    /// `SIGN_API_URL`, else [`DEFAULT_BASE_URL`].
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API key, sent as `X-Api-Key` and never logged. Default: env `SIGN_API_KEY`, else
    /// anonymous (lowest rate limits).
    pub fn api_key(mut self, key: impl Into<Secret>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The sign route (default [`SignRoute::Connect`]).
    pub fn route(mut self, route: SignRoute) -> Self {
        self.route = route;
        self
    }

    /// The `client=` query value (default [`CLIENT_ID`]).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// The user agent to sign for when a request names none (default [`DEFAULT_USER_AGENT`]).
    pub fn default_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.default_user_agent = user_agent.into();
        self
    }

    /// Timeout for establishing the connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Timeout for each read while waiting for and reading the response (default 20 s).
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Timeout for a whole request (default 45 s).
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Allows sending a TikTok session (`sessionid`, `tt-target-idc`) to this signer host.
    /// Give the host (`api.eulerstream.com`) or `host:port`. Without it (or env
    /// `WHITELIST_AUTHENTICATED_SESSION_ID_HOST` naming the host), a request carrying a session
    /// fails with [`SignError::SessionHostNotAllowed`] before anything is sent. Only allow hosts
    /// you trust with your TikTok account.
    pub fn allow_session_host(mut self, host: impl Into<String>) -> Self {
        self.session_hosts.push(host.into());
        self
    }

    /// The client-side rate limiter; pass the same `Arc` to every signer of the app. Default: a
    /// limiter of this signer (and its clones) with no limits, which still honours `Retry-After`.
    pub fn rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// Uses this HTTP client instead of building one (its timeouts, TLS and redirect settings
    /// then apply; the timeout options of this builder do not). The built-in client follows
    /// redirects only within the signer's origin, so the API key and a session never reach
    /// another host; give your client a similar redirect policy.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http_client = Some(client);
        self
    }

    /// Largest response body accepted (default [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn max_body_bytes(mut self, max: usize) -> Self {
        self.max_body_bytes = max;
        self
    }

    /// Whether unset options are read from the environment (`SIGN_API_URL`, `SIGN_API_KEY`,
    /// `WHITELIST_AUTHENTICATED_SESSION_ID_HOST`). Default `true`.
    pub fn use_env(mut self, use_env: bool) -> Self {
        self.use_env = use_env;
        self
    }

    /// Sends every sign request through this proxy: `http://host:port` or
    /// `socks5://[user:pass@]host:port` (needs reqwest's `socks` feature, enabled here).
    pub fn proxy(mut self, proxy: impl Into<String>) -> Self {
        self.proxy = Some(proxy.into());
        self
    }

    /// Ignore the system proxy settings (`HTTP_PROXY`…) and connect directly.
    pub fn no_proxy(mut self) -> Self {
        self.no_proxy = true;
        self
    }

    /// Builds the signer. Fails with [`SignError::Config`] on a bad base URL or API key, or if
    /// the HTTP client cannot be built.
    pub fn build(self) -> Result<EulerSigner, SignError> {
        if self.use_env {
            self.build_with_env(&|name| std::env::var(name).ok())
        } else {
            self.build_with_env(&|_| None)
        }
    }

    fn build_with_env(
        self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<EulerSigner, SignError> {
        let env = |name: &str| {
            env(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let base = self
            .base_url
            .clone()
            .or_else(|| env(ENV_SIGN_API_URL))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        let (base_url, host) = parse_base_url(&base)?;

        let api_key = self
            .api_key
            .filter(|k| !k.is_empty())
            .or_else(|| env(ENV_SIGN_API_KEY).map(Secret::new));
        if let Some(key) = &api_key {
            if HeaderValue::from_str(key.expose()).is_err() {
                return Err(SignError::Config(
                    "the API key contains characters that cannot be sent in a header".into(),
                ));
            }
        }

        let mut session_hosts: Vec<String> = self
            .session_hosts
            .iter()
            .map(|h| normalize_host(h))
            .collect();
        if let Some(list) = env(ENV_SESSION_HOST_ALLOWLIST) {
            session_hosts.extend(list.split(',').map(normalize_host));
        }
        session_hosts.retain(|h| !h.is_empty());

        let client = match self.http_client {
            Some(client) => client,
            None => {
                let tls = rustls_ring_config()?;
                let mut builder = reqwest::Client::builder()
                    .tls_backend_preconfigured(tls)
                    .connect_timeout(self.connect_timeout)
                    .read_timeout(self.read_timeout)
                    .timeout(self.request_timeout)
                    .pool_idle_timeout(Duration::from_secs(90))
                    .pool_max_idle_per_host(4)
                    .redirect(same_origin_redirects())
                    .user_agent(concat!("ttlive-rust/", env!("CARGO_PKG_VERSION")));
                if let Some(p) = &self.proxy {
                    let proxy = reqwest::Proxy::all(p.as_str()).map_err(|e| {
                        SignError::Config(format!("bad proxy URL: {}", e.without_url()))
                    })?;
                    builder = builder.proxy(proxy);
                } else if self.no_proxy {
                    builder = builder.no_proxy();
                }
                builder.build().map_err(|e| {
                    SignError::Config(format!("cannot build the HTTP client: {}", e.without_url()))
                })?
            }
        };

        let default_user_agent = if self.default_user_agent.trim().is_empty() {
            DEFAULT_USER_AGENT.to_owned()
        } else {
            self.default_user_agent
        };

        debug!(
            host = %host,
            route = ?self.route,
            api_key = api_key.is_some(),
            session_hosts = session_hosts.len(),
            "sign client configured"
        );

        Ok(EulerSigner {
            inner: Arc::new(Inner {
                client,
                base_url,
                host,
                api_key,
                route: self.route,
                client_id: self.client_id,
                default_user_agent,
                session_hosts,
                limiter: self
                    .limiter
                    .unwrap_or_else(|| Arc::new(RateLimiter::unlimited())),
                max_body_bytes: self.max_body_bytes,
            }),
        })
    }
}

/// Follows at most 5 redirects, and only within the signer's origin (same scheme, host and
/// port): `X-Api-Key` and `x-cookie-header` are custom headers that reqwest would otherwise carry
/// to whatever host a redirect names. A stopped redirect surfaces as
/// [`SignError::UnexpectedStatus`].
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let same_origin = first.scheme() == attempt.url().scheme()
            && first.host_str() == attempt.url().host_str()
            && first.port_or_known_default() == attempt.url().port_or_known_default();
        if attempt.previous().len() > 5 || !same_origin {
            warn!("the sign server redirected to another origin (or too often); not following");
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// A rustls client configuration with the `ring` provider and the webpki (Mozilla) roots: no
/// OpenSSL, no aws-lc, no system certificate store needed.
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

fn parse_base_url(base: &str) -> Result<(Url, String), SignError> {
    let mut url = Url::parse(base.trim())
        .map_err(|e| SignError::Config(format!("invalid sign server base URL: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SignError::Config(format!(
            "the sign server base URL must be http or https, not {:?}",
            url.scheme()
        )));
    }
    let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
        return Err(SignError::Config(
            "the sign server base URL has no host".into(),
        ));
    };
    if url.cannot_be_a_base() {
        return Err(SignError::Config(
            "the sign server base URL cannot be a base".into(),
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    };
    Ok((url, host))
}

/// `https://Api.EulerStream.com/` → `api.eulerstream.com`.
fn normalize_host(host: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    let h = h
        .strip_prefix("https://")
        .or_else(|| h.strip_prefix("http://"))
        .unwrap_or(&h);
    h.trim_end_matches('/').to_owned()
}

/// A room id must be a non-empty decimal number (it goes into the URL path).
pub(crate) fn validate_room_id(room_id: &str) -> Result<&str, SignError> {
    let id = room_id.trim();
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignError::InvalidRequest(format!(
            "room id must be a decimal number, got {:?}",
            id.chars().take(40).collect::<String>()
        )));
    }
    Ok(id)
}

/// Normalises a TikTok handle like the references do (protocol.md §1): drop the first
/// `https://www.tiktok.com/`, the first `/live` and the first `@`, then trim.
pub(crate) fn normalize_unique_id(input: &str) -> Result<String, SignError> {
    let uid = input
        .trim()
        .replacen("https://www.tiktok.com/", "", 1)
        .replacen("/live", "", 1)
        .replacen('@', "", 1);
    let uid = uid.trim().trim_end_matches('/');
    if uid.is_empty()
        || uid.len() > 64
        || uid
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '/' | '?' | '#' | '&'))
    {
        return Err(SignError::InvalidRequest(format!(
            "not a TikTok handle: {:?}",
            input.chars().take(80).collect::<String>()
        )));
    }
    Ok(uid.to_owned())
}

/// One received response, body read in full (within the limit).
struct Received {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl EulerSigner {
    /// Turns a sign-server answer (status, headers, body) into a connection or an error, exactly
    /// as [`Signer::sign`] does once the body is read: for fuzzing and hostile-input tests only
    /// (no request is made; header names or values that HTTP would not carry are skipped).
    #[doc(hidden)]
    pub fn parse_sign_response(
        &self,
        request: &SignRequest,
        status: u16,
        headers: &[(&str, &[u8])],
        body: Bytes,
    ) -> Result<SignedConnection, SignError> {
        let room_id = validate_room_id(request.room_id())?;
        let user_agent = request
            .user_agent()
            .map(str::trim)
            .filter(|ua| !ua.is_empty())
            .unwrap_or(&self.inner.default_user_agent);
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value),
            ) {
                map.append(n, v);
            }
        }
        let received = Received {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
            headers: map,
            body,
        };
        let secrets = self.secrets(Some(request));
        if !received.status.is_success() {
            return Err(self.status_error(&received, &secrets));
        }
        self.parse_signed(request, room_id, user_agent, received)
    }
}

impl EulerSigner {
    /// A builder with the defaults (env `SIGN_API_URL`/`SIGN_API_KEY`, current route, rustls).
    pub fn builder() -> EulerSignerBuilder {
        EulerSignerBuilder::default()
    }

    /// A signer with every default (see [`EulerSigner::builder`]).
    pub fn new() -> Result<Self, SignError> {
        Self::builder().build()
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The sign route in use.
    pub fn route(&self) -> SignRoute {
        self.inner.route
    }

    /// Whether an API key is configured (the key itself is never exposed).
    pub fn has_api_key(&self) -> bool {
        self.inner.api_key.is_some()
    }

    /// The rate limiter this signer goes through.
    pub fn rate_limiter(&self) -> &Arc<RateLimiter> {
        &self.inner.limiter
    }

    /// Whether a TikTok session may be sent to this signer's host.
    pub fn session_allowed(&self) -> bool {
        let inner = &self.inner;
        let bare = inner.base_url.host_str().unwrap_or("").to_ascii_lowercase();
        let with_port = inner
            .base_url
            .port_or_known_default()
            .map(|p| format!("{bare}:{p}"));
        inner
            .session_hosts
            .iter()
            .any(|h| *h == bare || Some(h) == with_port.as_ref() || *h == inner.host)
    }

    fn secrets<'a>(&'a self, request: Option<&'a SignRequest>) -> Vec<&'a str> {
        let mut secrets = Vec::with_capacity(2);
        if let Some(key) = &self.inner.api_key {
            secrets.push(key.expose());
        }
        if let Some(session) = request.and_then(SignRequest::session) {
            secrets.push(session.session_id().expose());
        }
        secrets
    }

    fn url(&self, segments: &[&str]) -> Result<Url, SignError> {
        let mut url = self.inner.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| SignError::Config("the sign server base URL cannot be a base".into()))?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    fn sign_url(
        &self,
        room_id: &str,
        request: &SignRequest,
        user_agent: &str,
    ) -> Result<Url, SignError> {
        let mut url = match self.inner.route {
            SignRoute::Connect => self.url(&["webcast", "rooms", room_id, "connect"])?,
            SignRoute::LegacyFetch => self.url(&["webcast", "fetch"])?,
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client", &self.inner.client_id);
            if self.inner.route == SignRoute::LegacyFetch {
                q.append_pair("room_id", room_id);
            }
            if let Some(cursor) = request.cursor().filter(|c| !c.is_empty()) {
                q.append_pair("cursor", cursor);
            }
            q.append_pair("user_agent", user_agent);
            q.append_pair("client_enter", "true");
        }
        Ok(url)
    }

    fn with_api_key(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, SignError> {
        let Some(key) = &self.inner.api_key else {
            return Ok(builder);
        };
        let mut value = HeaderValue::from_str(key.expose()).map_err(|_| {
            SignError::Config(
                "the API key contains characters that cannot be sent in a header".into(),
            )
        })?;
        value.set_sensitive(true);
        Ok(builder.header(X_API_KEY, value))
    }

    /// Takes a limiter slot, sends, and reads the whole body (capped).
    async fn execute(
        &self,
        builder: reqwest::RequestBuilder,
        secrets: &[&str],
    ) -> Result<Received, SignError> {
        self.inner.limiter.acquire().await?;
        let mut response = builder.send().await.map_err(|e| self.transport_error(e))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let max = self.inner.max_body_bytes;
        if response
            .content_length()
            .is_some_and(|len| len > max as u64)
        {
            return Err(SignError::BodyTooLarge {
                max,
                request_id: header_text(&headers, "x-request-id", secrets),
            });
        }
        let mut body = BytesMut::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(e))?
        {
            if body.len().saturating_add(chunk.len()) > max {
                return Err(SignError::BodyTooLarge {
                    max,
                    request_id: header_text(&headers, "x-request-id", secrets),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Received {
            status,
            headers,
            body: body.freeze(),
        })
    }

    fn transport_error(&self, e: reqwest::Error) -> SignError {
        crate::ttwid::transport_error(&self.inner.host, e)
    }

    /// Maps a non-success status to its error (and pauses the shared limiter on a 429 that says
    /// when to retry).
    fn status_error(&self, r: &Received, secrets: &[&str]) -> SignError {
        let request_id = header_text(&r.headers, "x-request-id", secrets);
        let json = json_fields(&r.body, secrets);
        let status = r.status.as_u16();
        let body_text = || sanitize_text(&String::from_utf8_lossy(&r.body), secrets);
        match status {
            429 => {
                let limits = parse_rate_limit_headers(&r.headers, SystemTime::now());
                if let Some(wait) = limits.retry_after {
                    self.inner.limiter.pause_for(wait);
                }
                warn!(
                    host = %self.inner.host,
                    retry_after_secs = limits.retry_after.map(|d| d.as_secs_f64()),
                    limit_label = json.limit_label.as_deref(),
                    request_id = request_id.as_deref(),
                    "sign server rate limit reached"
                );
                SignError::RateLimited {
                    limit_label: json.limit_label,
                    message: json.message,
                    retry_after: limits.retry_after,
                    remaining: limits.remaining,
                    request_id,
                }
            }
            402 => SignError::PremiumRequired {
                message: json.message,
                request_id,
            },
            401 | 403 => SignError::Unauthorized {
                status,
                message: json.message,
                request_id,
            },
            500..=599 => {
                let retry_after =
                    parse_rate_limit_headers(&r.headers, SystemTime::now()).retry_after;
                warn!(
                    host = %self.inner.host,
                    status,
                    request_id = request_id.as_deref(),
                    "sign server error"
                );
                SignError::Server {
                    status,
                    message: json.message,
                    body: body_text(),
                    request_id,
                    retry_after,
                }
            }
            _ => SignError::UnexpectedStatus {
                status,
                message: json.message,
                body: body_text(),
                request_id,
            },
        }
    }

    fn invalid_body(
        r: &Received,
        expected: ExpectedBody,
        secrets: &[&str],
        source: Option<BodyDecodeError>,
    ) -> SignError {
        let preview_len = r.body.len().min(MAX_PREVIEW);
        SignError::InvalidBody {
            expected,
            len: r.body.len(),
            content_type: header_text(&r.headers, CONTENT_TYPE.as_str(), secrets),
            message: json_fields(&r.body, secrets).message,
            preview: sanitize_text(&String::from_utf8_lossy(&r.body[..preview_len]), secrets),
            request_id: header_text(&r.headers, "x-request-id", secrets),
            source: source.map(Box::new),
        }
    }

    fn parse_signed(
        &self,
        request: &SignRequest,
        room_id: &str,
        user_agent: &str,
        r: Received,
    ) -> Result<SignedConnection, SignError> {
        let secrets = self.secrets(Some(request));
        let request_id = header_text(&r.headers, "x-request-id", &secrets);
        if r.body.is_empty() {
            return Err(SignError::EmptyBody { request_id });
        }
        if looks_like_json(&r.headers, &r.body) {
            return Err(Self::invalid_body(
                &r,
                ExpectedBody::FetchResult,
                &secrets,
                None,
            ));
        }
        let fetch = match ttlive_proto::decode_fetch_result_bytes(r.body.clone()) {
            Ok(fetch) => fetch,
            Err(e) => {
                return Err(Self::invalid_body(
                    &r,
                    ExpectedBody::FetchResult,
                    &secrets,
                    Some(e.into()),
                ));
            }
        };

        let mut cookies = parse_cookie_header(
            r.headers
                .get_all("x-set-tt-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok()),
        );
        if cookies.is_empty() {
            return Err(SignError::MissingCookies { request_id });
        }
        if fetch.cursor.is_empty() {
            return Err(SignError::MissingCursor { request_id });
        }
        if fetch.push_server.trim().is_empty() {
            return Err(SignError::MissingPushServer { request_id });
        }
        if fetch.route_params.is_empty() {
            warn!(
                request_id = request_id.as_deref(),
                "sign server returned no route params"
            );
        }
        if fetch.push_server.contains("ws-fallback") {
            warn!(
                push_server = %fetch.push_server,
                "the sign server returned its fallback proxy, which has been seen never to upgrade"
            );
        }
        if let Some(session) = request.session() {
            for (name, value) in [
                ("sessionid", session.session_id().expose()),
                ("tt-target-idc", session.target_idc()),
            ] {
                if !cookies.iter().any(|c| c.name == name) {
                    cookies.push(Cookie::new(name, value));
                }
            }
        }

        let corrected_room_id = header_text(&r.headers, "x-room-id", &secrets)
            .filter(|id| id.bytes().all(|b| b.is_ascii_digit()) && id != room_id);
        let connection = SignedConnection {
            room_id: corrected_room_id
                .clone()
                .unwrap_or_else(|| room_id.to_owned()),
            corrected_room_id,
            push_server: fetch.push_server.clone(),
            route_params: fetch.route_params.clone().into_iter().collect(),
            fetch_result: Some(fetch),
            fetch_body: Some(r.body),
            cookies,
            user_agent: user_agent.to_owned(),
            request_id,
            agent_id: header_text(&r.headers, "x-agent-id", &secrets),
            log_id: header_text(&r.headers, "x-log-id", &secrets),
            ..SignedConnection::default()
        };
        debug!(
            room_id = %connection.room_id,
            request_id = connection.request_id.as_deref(),
            agent_id = connection.agent_id.as_deref(),
            messages = connection.fetch_result.as_ref().map_or(0, |f| f.messages.len()),
            cookies = connection.cookies.len(),
            "signed connection received"
        );
        Ok(connection)
    }
}

#[async_trait]
impl Signer for EulerSigner {
    async fn sign(&self, request: &SignRequest) -> Result<SignedConnection, SignError> {
        let room_id = validate_room_id(request.room_id())?;
        if request.session().is_some() && !self.session_allowed() {
            warn!(host = %self.inner.host, "refused to forward a TikTok session to a non-allow-listed signer");
            return Err(SignError::SessionHostNotAllowed {
                host: self.inner.host.clone(),
            });
        }
        let user_agent = request
            .user_agent()
            .map(str::trim)
            .filter(|ua| !ua.is_empty())
            .unwrap_or(&self.inner.default_user_agent);
        let url = self.sign_url(room_id, request, user_agent)?;
        debug!(host = %self.inner.host, path = url.path(), room_id, route = ?self.inner.route, "requesting a signed connection");

        let mut builder = self.inner.client.get(url).header(ACCEPT, ACCEPT_SIGN);
        builder = self.with_api_key(builder)?;
        if let Some(session) = request.session() {
            let mut value = HeaderValue::from_str(&session.cookie_header()).map_err(|_| {
                SignError::InvalidRequest(
                    "the session id or tt-target-idc contains characters that cannot be sent in a header"
                        .into(),
                )
            })?;
            value.set_sensitive(true);
            builder = builder.header(X_COOKIE_HEADER, value);
        }

        let secrets = self.secrets(Some(request));
        let received = self.execute(builder, &secrets).await?;
        if !received.status.is_success() {
            return Err(self.status_error(&received, &secrets));
        }
        self.parse_signed(request, room_id, user_agent, received)
    }

    async fn resolve_room_id(&self, unique_id: &str) -> Result<RoomIdInfo, SignError> {
        let uid = normalize_unique_id(unique_id)?;
        let mut url = match self.inner.route {
            SignRoute::Connect => self.url(&["webcast", "anchors", &uid, "room_id"])?,
            SignRoute::LegacyFetch => self.url(&["webcast", "room_id"])?,
        };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("client", &self.inner.client_id);
            if self.inner.route == SignRoute::LegacyFetch {
                q.append_pair("uniqueId", &uid);
            }
        }
        debug!(host = %self.inner.host, path = url.path(), unique_id = %uid, "resolving room id via the sign server");
        let builder = self
            .inner
            .client
            .get(url)
            .header(ACCEPT, "application/json");
        let builder = self.with_api_key(builder)?;
        let secrets = self.secrets(None);
        let r = self.execute(builder, &secrets).await?;
        if !r.status.is_success() {
            return Err(self.status_error(&r, &secrets));
        }
        let request_id = header_text(&r.headers, "x-request-id", &secrets);
        if r.body.is_empty() {
            return Err(SignError::EmptyBody { request_id });
        }
        let json: serde_json::Value = match serde_json::from_slice(&r.body) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            Ok(_) => {
                return Err(Self::invalid_body(
                    &r,
                    ExpectedBody::RoomIdJson,
                    &secrets,
                    None,
                ));
            }
            Err(e) => {
                return Err(Self::invalid_body(
                    &r,
                    ExpectedBody::RoomIdJson,
                    &secrets,
                    Some(e.into()),
                ));
            }
        };
        let message = json
            .get("message")
            .and_then(serde_json::Value::as_str)
            .map(|m| sanitize_text(m, &secrets));
        match json.get("code").and_then(json_int) {
            Some(402) => {
                return Err(SignError::PremiumRequired {
                    message,
                    request_id,
                });
            }
            Some(code @ (401 | 403)) => {
                return Err(SignError::Unauthorized {
                    status: u16::try_from(code).unwrap_or(401),
                    message,
                    request_id,
                });
            }
            _ => {}
        }
        let room_id = match json.get("room_id") {
            Some(serde_json::Value::String(s)) => s.trim().to_owned(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let ok = json
            .get("ok")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true);
        if !ok
            || room_id.is_empty()
            || room_id == "0"
            || !room_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(SignError::RoomIdUnavailable {
                unique_id: uid,
                message,
            });
        }
        let routes_attempted = json
            .get("routes_attempted")
            .and_then(serde_json::Value::as_array)
            .map(|routes| {
                routes
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .take(16)
                    .map(|s| sanitize_text(s, &secrets))
                    .collect()
            })
            .unwrap_or_default();
        Ok(RoomIdInfo {
            unique_id: uid,
            room_id,
            is_live: json
                .get("is_live")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            routes_attempted,
        })
    }
}

fn json_int(v: &serde_json::Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// `message`/`error` and `limit_label` of a JSON error body, sanitised; empty if not JSON.
#[derive(Default)]
struct JsonFields {
    message: Option<String>,
    limit_label: Option<String>,
}

fn json_fields(body: &[u8], secrets: &[&str]) -> JsonFields {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return JsonFields::default();
    };
    let text = |key: &str| {
        map.get(key)
            .and_then(serde_json::Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| sanitize_text(s, secrets))
    };
    JsonFields {
        message: text("message").or_else(|| text("error")),
        limit_label: text("limit_label").map(|l| l.chars().take(MAX_HEADER_TEXT).collect()),
    }
}

fn looks_like_json(headers: &HeaderMap, body: &[u8]) -> bool {
    let json_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    let starts_json = body
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{' || b == b'[');
    json_type || starts_json
}

/// A response header as short printable text, secrets redacted; `None` if absent or empty.
fn header_text(headers: &HeaderMap, name: &str, secrets: &[&str]) -> Option<String> {
    let value = headers.get(name)?;
    let text: String = String::from_utf8_lossy(value.as_bytes())
        .trim()
        .chars()
        .take(MAX_HEADER_TEXT)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = redact(text, secrets);
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn defaults_and_env() {
        let s = EulerSigner::builder().build_with_env(&env_of(&[])).unwrap();
        assert_eq!(s.base_url().as_str(), "https://api.eulerstream.com/");
        assert!(!s.has_api_key());
        assert!(!s.session_allowed());

        let s = EulerSigner::builder()
            .build_with_env(&env_of(&[
                (ENV_SIGN_API_URL, "http://127.0.0.1:9/signer?x=1"),
                (ENV_SIGN_API_KEY, "k-env"),
                (ENV_SESSION_HOST_ALLOWLIST, "example.org, 127.0.0.1"),
            ]))
            .unwrap();
        assert_eq!(s.base_url().as_str(), "http://127.0.0.1:9/signer");
        assert!(s.has_api_key());
        assert!(s.session_allowed());
        assert!(!format!("{s:?}").contains("k-env"));

        // Builder options win over env.
        let s = EulerSigner::builder()
            .base_url("https://signer.example")
            .build_with_env(&env_of(&[(ENV_SIGN_API_URL, "http://127.0.0.1:9")]))
            .unwrap();
        assert_eq!(s.base_url().host_str(), Some("signer.example"));
    }

    #[test]
    fn session_allow_list_matches_host_or_host_port() {
        let build = |base: &str, allow: &str| {
            EulerSigner::builder()
                .base_url(base)
                .allow_session_host(allow)
                .build_with_env(&env_of(&[]))
                .unwrap()
                .session_allowed()
        };
        assert!(build("https://api.eulerstream.com", "api.eulerstream.com"));
        assert!(build(
            "https://api.eulerstream.com",
            "https://API.eulerstream.com/"
        ));
        assert!(build(
            "https://api.eulerstream.com",
            "api.eulerstream.com:443"
        ));
        assert!(build("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(!build("http://127.0.0.1:8080", "127.0.0.1:8081"));
        assert!(!build("https://evil.example", "api.eulerstream.com"));
        assert!(!build(
            "https://api.eulerstream.com.evil.example",
            "api.eulerstream.com"
        ));
    }

    #[test]
    fn bad_configuration_is_an_error() {
        for base in ["not a url", "ftp://x", "mailto:a@b", "http://"] {
            let e = EulerSigner::builder()
                .base_url(base)
                .build_with_env(&env_of(&[]))
                .unwrap_err();
            assert!(matches!(e, SignError::Config(_)), "{base}: {e:?}");
        }
        let e = EulerSigner::builder()
            .api_key("bad\nkey")
            .build_with_env(&env_of(&[]))
            .unwrap_err();
        assert!(matches!(e, SignError::Config(_)));
        assert!(!e.to_string().contains("bad\nkey"));
    }

    #[test]
    fn handles_and_room_ids_are_validated() {
        assert_eq!(normalize_unique_id("@creator").unwrap(), "creator");
        assert_eq!(
            normalize_unique_id("https://www.tiktok.com/@creator/live").unwrap(),
            "creator"
        );
        assert_eq!(normalize_unique_id(" 123456789 ").unwrap(), "123456789");
        assert!(normalize_unique_id("").is_err());
        assert!(normalize_unique_id("a/b").is_err());
        assert!(normalize_unique_id("a b").is_err());
        assert_eq!(validate_room_id(" 123 ").unwrap(), "123");
        assert!(validate_room_id("12a").is_err());
        assert!(validate_room_id("../x").is_err());
        assert!(validate_room_id("").is_err());
    }
}
