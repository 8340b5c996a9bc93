//! [`SignError`]: everything that can go wrong while asking a sign server for a connection, typed
//! so the caller knows what to do next.
//!
//! * [`SignError::is_retryable`] says whether trying again later can help (429, 5xx, timeouts,
//!   network failures, a transient bad answer) or not (bad API key, plan too small, a refused
//!   session forward, bad configuration).
//! * [`SignError::retry_after`] says when, if the server (or the shared client-side limiter) said.
//!
//! No error's `Display` or `Debug` text contains the API key or the TikTok session id: they are
//! held as [`Secret`](crate::Secret)s and scrubbed out of any server text kept in an error.

use std::fmt;
use std::time::Duration;

/// Longest server message or body excerpt kept in an error, in characters.
pub(crate) const MAX_ERROR_TEXT: usize = 1024;

/// What failed while signing a connection or resolving a room id.
///
/// Match on the variant for specifics; use [`is_retryable`](Self::is_retryable) and
/// [`retry_after`](Self::retry_after) for policy. New variants may be added.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// HTTP 429: the sign server's rate limit for this API key (or for anonymous use) is
    /// exhausted. Wait for [`retry_after`](Self::retry_after) (or back off if unknown); a paid
    /// plan or an API key raises the limit.
    #[error(
        "sign server rate limit reached{}: too many connections started{}{}; {}",
        label(.limit_label),
        colon(.message),
        request(.request_id),
        retry_hint(.retry_after)
    )]
    RateLimited {
        /// Which limit was hit (`limit_label` of the JSON body), e.g. `"minute"`.
        limit_label: Option<String>,
        /// The server's message, if any.
        message: Option<String>,
        /// When to retry, from `Retry-After`, `X-RateLimit-Reset` or `RateLimit-Reset`
        /// (clamped to [`MAX_RETRY_AFTER`](crate::MAX_RETRY_AFTER)).
        retry_after: Option<Duration>,
        /// `RateLimit-Remaining` / `X-RateLimit-Remaining`, if sent (information only).
        remaining: Option<u64>,
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// The shared client-side [`RateLimiter`](crate::RateLimiter) would have made this request
    /// wait longer than its configured maximum wait. No request was sent.
    #[error(
        "client-side sign rate limit: the next sign request is allowed in {}",
        secs(.retry_after)
    )]
    ClientRateLimited {
        /// How long until a request is allowed.
        retry_after: Duration,
    },

    /// HTTP 402 (or a body `code` 402): this route or option needs a paid plan. Fatal for this
    /// configuration: upgrade the API key's plan or use another signer.
    #[error(
        "the sign server requires a paid plan for this request (HTTP 402){}{}; upgrade the API \
         key's plan or use another signer",
        colon(.message),
        request(.request_id)
    )]
    PremiumRequired {
        /// The server's message, if any.
        message: Option<String>,
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// HTTP 401 or 403: the API key is missing, invalid or not allowed. Fatal: fix the key
    /// (option `api_key` or env `SIGN_API_KEY`).
    #[error(
        "the sign server refused the request (HTTP {status}){}{}; check the API key (option \
         api_key or env SIGN_API_KEY)",
        colon(.message),
        request(.request_id)
    )]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// The server's message, if any.
        message: Option<String>,
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// HTTP 5xx: the sign server (or TikTok behind it) failed. Retryable with backoff.
    #[error(
        "sign server error (HTTP {status}){}{}; retry later",
        colon(.message),
        request(.request_id)
    )]
    Server {
        /// The HTTP status (500–599).
        status: u16,
        /// `message` (or `error`) of the JSON body, if it had one.
        message: Option<String>,
        /// The response body, lossily decoded and truncated, for bug reports.
        body: String,
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
        /// `Retry-After` (e.g. with a 503), if sent.
        retry_after: Option<Duration>,
    },

    /// Any other non-success status (404, 400, …). Usually a wrong base URL or route.
    #[error(
        "unexpected HTTP {status} from the sign server{}{}; check the signer base URL and route",
        colon(.message),
        request(.request_id)
    )]
    UnexpectedStatus {
        /// The HTTP status.
        status: u16,
        /// `message` (or `error`) of the JSON body, if it had one.
        message: Option<String>,
        /// The response body, lossily decoded and truncated.
        body: String,
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// HTTP 200 with an empty body: the signer could not fetch the room (TikTok may be
    /// detecting the signer). Retryable with backoff.
    #[error(
        "the sign server answered with an empty body{} (is TikTok blocking the signer?); retry later",
        request(.request_id)
    )]
    EmptyBody {
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// The response carried no `X-Set-TT-Cookie` (or no cookie pair in it). Without the `ttwid`
    /// cookie the WebSocket is refused. Retryable.
    #[error(
        "the sign server sent no cookies (X-Set-TT-Cookie missing or empty){}",
        request(.request_id)
    )]
    MissingCookies {
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// The fetch result has no `cursor`. Retryable.
    #[error("the sign server's fetch result has no cursor{}", request(.request_id))]
    MissingCursor {
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// The fetch result has no `push_server` (WebSocket URL). Retryable.
    #[error(
        "the sign server's fetch result has no push server URL{}",
        request(.request_id)
    )]
    MissingPushServer {
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// A success response whose body is not what was expected: not a protobuf
    /// `ProtoMessageFetchResult` (sign route) or not the expected JSON (room-id route).
    /// Retryable (a server glitch), but report it if it persists.
    #[error(
        "the sign server's {len}-byte body is not a valid {expected}{}{}{}",
        content_type_text(.content_type),
        colon(.message),
        request(.request_id)
    )]
    InvalidBody {
        /// What was expected.
        expected: ExpectedBody,
        /// Body length in bytes.
        len: usize,
        /// The `Content-Type` header, if any.
        content_type: Option<String>,
        /// A message found in the body (when it was JSON), if any.
        message: Option<String>,
        /// The start of the body (lossy text, truncated) for bug reports.
        preview: String,
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
        /// The decode error, if decoding was attempted.
        #[source]
        source: Option<Box<BodyDecodeError>>,
    },

    /// The response body is larger than the configured maximum. Not retryable.
    #[error(
        "the sign server's response body exceeds the limit of {max} bytes{}",
        request(.request_id)
    )]
    BodyTooLarge {
        /// The limit.
        max: usize,
        /// `X-Request-Id` of the response.
        request_id: Option<String>,
    },

    /// The sign server did not answer in time. Retryable.
    #[error("the sign server at {host} did not answer in time ({phase})")]
    Timeout {
        /// Which timeout fired.
        phase: TimeoutPhase,
        /// The signer host (no path, no query).
        host: String,
        /// The underlying error (its URL removed).
        #[source]
        source: reqwest::Error,
    },

    /// No connection to the sign server could be made (refused, DNS, TLS). Retryable.
    #[error("could not connect to the sign server at {host}")]
    Connect {
        /// The signer host (no path, no query).
        host: String,
        /// The underlying error (its URL removed).
        #[source]
        source: reqwest::Error,
    },

    /// Another HTTP-level failure (connection reset mid-body, protocol error). Retryable.
    #[error("HTTP request to the sign server at {host} failed")]
    Http {
        /// The signer host (no path, no query).
        host: String,
        /// The underlying error (its URL removed).
        #[source]
        source: reqwest::Error,
    },

    /// A TikTok session id would have been sent to a signer host the user did not allow. No
    /// request was sent. Fatal: allow the host explicitly
    /// ([`EulerSignerBuilder::allow_session_host`](crate::EulerSignerBuilder::allow_session_host)
    /// or env `WHITELIST_AUTHENTICATED_SESSION_ID_HOST`) if you trust it with your account.
    #[error(
        "refusing to send the TikTok session to signer host {host:?}: it is not allow-listed \
         (EulerSignerBuilder::allow_session_host or env WHITELIST_AUTHENTICATED_SESSION_ID_HOST)"
    )]
    SessionHostNotAllowed {
        /// The signer host that was refused.
        host: String,
    },

    /// The room-id route answered but could not give a room id (unknown user, `ok: false`,
    /// no `room_id`). Not retryable.
    #[error("the sign server could not resolve the room id of {unique_id:?}{}", colon(.message))]
    RoomIdUnavailable {
        /// The user that was looked up.
        unique_id: String,
        /// The server's message, if any.
        message: Option<String>,
    },

    /// The request itself is invalid (e.g. a room id that is not a decimal number). Fatal.
    #[error("invalid sign request: {0}")]
    InvalidRequest(String),

    /// The signer is misconfigured (bad base URL, TLS setup failure). Fatal.
    #[error("invalid signer configuration: {0}")]
    Config(String),
}

/// Why a body could not be decoded (the source of a [`SignError::InvalidBody`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyDecodeError {
    /// Not a valid protobuf `ProtoMessageFetchResult`.
    #[error(transparent)]
    Protobuf(#[from] ttlive_proto::CodecError),
    /// Not valid JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// What a [`SignError::InvalidBody`] should have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpectedBody {
    /// A protobuf `ProtoMessageFetchResult` (the sign routes).
    FetchResult,
    /// The JSON answer of the room-id route.
    RoomIdJson,
}

impl fmt::Display for ExpectedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::FetchResult => "protobuf ProtoMessageFetchResult",
            Self::RoomIdJson => "JSON room-id response",
        })
    }
}

/// Which timeout fired in [`SignError::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Establishing the TCP/TLS connection.
    Connect,
    /// Waiting for (or reading) the response.
    Response,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "connect timeout",
            Self::Response => "response timeout",
        })
    }
}

impl SignError {
    /// `true` if the same request may succeed later (after [`retry_after`](Self::retry_after)
    /// or a backoff): rate limits, 5xx, timeouts, network failures and transient bad answers.
    /// `false` for errors that need a change first: API key, plan, session allow-list, request or
    /// configuration.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. }
            | Self::ClientRateLimited { .. }
            | Self::Server { .. }
            | Self::EmptyBody { .. }
            | Self::MissingCookies { .. }
            | Self::MissingCursor { .. }
            | Self::MissingPushServer { .. }
            | Self::InvalidBody { .. }
            | Self::Timeout { .. }
            | Self::Connect { .. }
            | Self::Http { .. } => true,
            Self::UnexpectedStatus { status, .. } => matches!(status, 408 | 425),
            Self::PremiumRequired { .. }
            | Self::Unauthorized { .. }
            | Self::BodyTooLarge { .. }
            | Self::SessionHostNotAllowed { .. }
            | Self::RoomIdUnavailable { .. }
            | Self::InvalidRequest(_)
            | Self::Config(_) => false,
        }
    }

    /// `true` if retrying cannot help without a change (the opposite of
    /// [`is_retryable`](Self::is_retryable)).
    pub fn is_fatal(&self) -> bool {
        !self.is_retryable()
    }

    /// When the server (or the client-side limiter) said a retry is allowed, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Server { retry_after, .. } => {
                *retry_after
            }
            Self::ClientRateLimited { retry_after } => Some(*retry_after),
            _ => None,
        }
    }

    /// The sign server's `X-Request-Id` for this failure, for bug reports.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::RateLimited { request_id, .. }
            | Self::PremiumRequired { request_id, .. }
            | Self::Unauthorized { request_id, .. }
            | Self::Server { request_id, .. }
            | Self::UnexpectedStatus { request_id, .. }
            | Self::EmptyBody { request_id }
            | Self::MissingCookies { request_id }
            | Self::MissingCursor { request_id }
            | Self::MissingPushServer { request_id }
            | Self::InvalidBody { request_id, .. }
            | Self::BodyTooLarge { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The HTTP status of the response that caused the error, if one was received.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::RateLimited { .. } => Some(429),
            Self::PremiumRequired { .. } => Some(402),
            Self::Unauthorized { status, .. }
            | Self::Server { status, .. }
            | Self::UnexpectedStatus { status, .. } => Some(*status),
            _ => None,
        }
    }
}

fn label(l: &Option<String>) -> String {
    l.as_deref().map(|l| format!(" ({l})")).unwrap_or_default()
}

fn colon(m: &Option<String>) -> String {
    m.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
}

fn request(r: &Option<String>) -> String {
    r.as_deref()
        .map(|r| format!(" [request id {r}]"))
        .unwrap_or_default()
}

fn content_type_text(c: &Option<String>) -> String {
    c.as_deref()
        .map(|c| format!(" (content type {c})"))
        .unwrap_or_default()
}

fn secs(d: &Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

fn retry_hint(d: &Option<Duration>) -> String {
    match d {
        Some(d) => format!("retry in {}", secs(d)),
        None => "retry later with backoff".to_owned(),
    }
}

/// Makes server-provided text safe to keep in an error: lossy UTF-8, control characters replaced,
/// truncated to [`MAX_ERROR_TEXT`] characters, and every secret replaced by `<redacted>`.
pub(crate) fn sanitize_text(text: &str, secrets: &[&str]) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_ERROR_TEXT)
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    if text.chars().nth(MAX_ERROR_TEXT).is_some() {
        out.push('…');
    }
    redact(out, secrets)
}

/// Replaces every occurrence of each (non-empty) secret by `<redacted>`.
pub(crate) fn redact(mut text: String, secrets: &[&str]) -> String {
    for secret in secrets {
        let secret = secret.trim();
        if !secret.is_empty() && text.contains(secret) {
            text = text.replace(secret, "<redacted>");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitize_truncates_and_redacts() {
        let long = "x".repeat(MAX_ERROR_TEXT + 10);
        let s = sanitize_text(&long, &[]);
        assert_eq!(s.chars().count(), MAX_ERROR_TEXT + 1);
        let s = sanitize_text("key sk-1 is bad\u{7}", &["sk-1", ""]);
        assert_eq!(s, "key <redacted> is bad ");
    }

    #[test]
    fn error_stays_small() {
        // Callers return `Result<_, SignError>` everywhere; keep it under clippy's
        // `result_large_err` threshold (128 bytes).
        assert!(std::mem::size_of::<SignError>() < 128);
    }

    #[test]
    fn retry_policy() {
        let e = SignError::RateLimited {
            limit_label: Some("minute".into()),
            message: None,
            retry_after: Some(Duration::from_secs(3)),
            remaining: Some(0),
            request_id: Some("r1".into()),
        };
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(e.request_id(), Some("r1"));
        assert_eq!(
            e.to_string(),
            "sign server rate limit reached (minute): too many connections started [request id \
             r1]; retry in 3.0s"
        );
        let e = SignError::Unauthorized {
            status: 401,
            message: None,
            request_id: None,
        };
        assert!(e.is_fatal());
        assert_eq!(e.status(), Some(401));
        assert!(
            SignError::UnexpectedStatus {
                status: 408,
                message: None,
                body: String::new(),
                request_id: None
            }
            .is_retryable()
        );
    }
}
