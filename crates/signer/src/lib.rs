//! Sign-server clients behind one [`Signer`] trait.
//!
//! Every TikTok LIVE connection starts here: a room id goes in, and out comes what is needed to
//! open the room's push WebSocket: the push server URL and its route parameters, the cookies
//! (`ttwid` first), and — when the signer fetched it — TikTok's initial `im/fetch` result with
//! the history batch, `cursor` and `internal_ext` (protocol.md §5, §6).
//!
//! * [`Signer`]: the trait; swap implementations freely (Euler, a self-hosted signer, a direct
//!   mode, a test double — `MockSigner` with the `mock` feature).
//! * [`EulerSigner`]: the Euler Stream client (current `/webcast/rooms/{id}/connect` and legacy
//!   `/webcast/fetch` routes, the `/webcast/anchors/{uid}/room_id` lookup), pointing at any base
//!   URL.
//! * [`RateLimiter`]: one client-side request budget shared by every room of an app, which also
//!   makes one server `Retry-After` pause every caller.
//! * [`SignError`]: typed failures that say whether and when to retry.
//! * [`DirectSigner`]: the web player's direct mode (direct-connect.md): no sign server, only an
//!   anonymous `ttwid` cookie from a shared [`TtwidCache`] ([`PageTtwid`],
//!   [`UnionRegisterTtwid`], [`StaticTtwid`]); the connection it returns has
//!   [`ConnectionMode::Direct`] and a [`ConnectionFeedback`] the live source reports to.
//! * [`FallbackSigner`]: direct first, Euler as the fallback ([`SignerMode`]: `direct`,
//!   `euler`, `auto`).
//!
//! # Usage
//!
//! ```no_run
//! use std::sync::Arc;
//! use std::time::Duration;
//! use ttlive_signer::{EulerSigner, RateLimiter, RateLimits, SignError, SignRequest, Signer};
//!
//! # async fn demo() -> Result<(), SignError> {
//! // One limiter for the whole app, shared by every signer and room.
//! let limiter = Arc::new(RateLimiter::new(RateLimits::new().per_minute(10).per_hour(100)));
//!
//! let signer = EulerSigner::builder()
//!     .api_key("my-euler-key")            // or env SIGN_API_KEY
//!     // .base_url("http://127.0.0.1:8080") // or env SIGN_API_URL; default api.eulerstream.com
//!     .rate_limiter(limiter.clone())
//!     .build()?;
//!
//! let room = signer.resolve_room_id("@someone").await?;
//! let request = SignRequest::new(room.room_id);
//! loop {
//!     match signer.sign(&request).await {
//!         Ok(connection) => {
//!             // Open `connection.push_server` + `connection.route_params` with
//!             // `Cookie: connection.cookie_header()` and `connection.user_agent`.
//!             break;
//!         }
//!         Err(e) if e.is_retryable() => {
//!             // 429, 5xx, timeouts, network: wait as told (the shared limiter already pauses
//!             // every room for a 429's Retry-After), or back off.
//!             tokio::time::sleep(e.retry_after().unwrap_or(Duration::from_secs(5))).await;
//!         }
//!         Err(e) => return Err(e), // bad key, plan too small, session refused: fix first
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Error handling
//!
//! [`SignError::is_retryable`] separates "try again later" (rate limits, 5xx, empty or
//! malformed answers, timeouts, connection failures) from "fix something first" (401/403 API
//! key, 402 plan, session allow-list, invalid request or configuration).
//! [`SignError::retry_after`] gives the delay the server asked for, parsed defensively from
//! `Retry-After` (seconds or HTTP date), `X-RateLimit-Reset` (epoch seconds),
//! `RateLimit-Reset` or the structured `RateLimit` header, clamped to [`MAX_RETRY_AFTER`]; a
//! garbage value is ignored, never a panic. Server errors keep the (truncated) body and the
//! `X-Request-Id` for bug reports. No input, however malformed, makes this crate panic.
//!
//! # Secrets
//!
//! The API key and a TikTok session id are [`Secret`]s: `Debug`/`Display` print `<redacted>`,
//! they are sent in headers marked sensitive, never logged, and scrubbed from any server text
//! kept in an error. A session ([`SessionCredentials`]) is forwarded (header
//! `x-cookie-header: sessionid=…; tt-target-idc=…`) only to a signer host the user allowed with
//! [`EulerSignerBuilder::allow_session_host`] or env `WHITELIST_AUTHENTICATED_SESSION_ID_HOST`;
//! otherwise signing fails with [`SignError::SessionHostNotAllowed`] before any request is made.
//!
//! # TLS
//!
//! The built-in HTTP client is `reqwest` with rustls and the `ring` provider and Mozilla's roots
//! (webpki-roots): no OpenSSL, no aws-lc, no system certificate store.

#![warn(missing_docs)]

mod direct;
pub mod error;
mod euler;
mod ratelimit;
mod retry;
mod secret;
mod signer;
mod ttwid;
mod types;

pub use direct::{
    CLOSE_REASON_DISABLE_WEB_DIRECT, ConnectionFeedback, ConnectionObserver, DEFAULT_EARLY_CLOSE,
    DEFAULT_WEB_BASE_URL, DIRECT_ORIGIN, DIRECT_WS_PATH, DirectHost, DirectSigner,
    DirectSignerBuilder, DirectUrl, FallbackSigner, FallbackSignerBuilder, FeedbackEvent,
    Rejection, SignerMode,
};
pub use error::{BodyDecodeError, ExpectedBody, SignError, TimeoutPhase};
pub use euler::{
    CLIENT_ID, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_READ_TIMEOUT, DEFAULT_REQUEST_TIMEOUT, ENV_SESSION_HOST_ALLOWLIST, ENV_SIGN_API_KEY,
    ENV_SIGN_API_URL, EulerSigner, EulerSignerBuilder, SignRoute,
};
pub use ratelimit::{RateLimiter, RateLimits};
pub use retry::MAX_RETRY_AFTER;
pub use secret::Secret;
#[cfg(feature = "mock")]
pub use signer::MockSigner;
pub use signer::Signer;
pub use ttlive_proto::webcast::ProtoMessageFetchResult;
pub use ttwid::{
    BrowserPreset, DEFAULT_HOME_URL, DEFAULT_LIVE_URL, DEFAULT_PAGE_ATTEMPTS,
    DEFAULT_PAGE_RETRY_DELAY, DEFAULT_TTWID_LIFETIME, DEFAULT_UNION_REGISTER_URL, PageTtwid,
    StaticTtwid, TtwidCache, TtwidCacheBuilder, TtwidLease, TtwidSource, UnionRegisterTtwid,
};
pub use types::{
    ConnectionMode, Cookie, DEFAULT_USER_AGENT, RoomIdInfo, SessionCredentials, SignRequest,
    SignedConnection,
};
